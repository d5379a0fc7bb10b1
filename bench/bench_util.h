/*
 * bench_util.h - what the benchmark programs share: the clock, sorting
 * times, and reading a number out of the mock's JSON answers.
 */
#ifndef BV_BENCH_UTIL_H
#define BV_BENCH_UTIL_H

/* CLOCK_MONOTONIC in microseconds. */
double now_us(void);

/* qsort's comparison of doubles, ascending. */
int cmp_double(const void *a, const void *b);

/* The number after "key": in text (the mock's flat JSON), or -1. */
long json_number(const char *text, const char *key);

#endif /* BV_BENCH_UTIL_H */
