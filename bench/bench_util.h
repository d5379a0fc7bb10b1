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

/* A response body that grows as libcurl writes it, NUL-terminated. */
struct body {
	char *buf;
	size_t len, cap;
};

/* libcurl's CURLOPT_WRITEFUNCTION for a struct body (CURLOPT_WRITEDATA):
   fails the transfer past 16 MiB or when out of memory. */
size_t body_write(char *data, size_t size, size_t nmemb, void *userp);

/* The number after "key": in text (the mock's flat JSON), or -1. */
long json_number(const char *text, const char *key);

#endif /* BV_BENCH_UTIL_H */
