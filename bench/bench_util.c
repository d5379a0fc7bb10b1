/*
 * bench_util.c - what the benchmark programs share (bench_util.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The most a control answer may be: far more than any the mock gives. */
#define BODY_MAX (16 * 1024 * 1024)

size_t
body_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct body *b = userp;
	size_t n = size * nmemb, cap;
	char *p;

	if (b->len + n + 1 > b->cap) {
		if (b->len + n + 1 > BODY_MAX)
			return 0;
		for (cap = b->cap ? b->cap : 4096; cap < b->len + n + 1;)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (p == NULL)
			return 0;
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return n;
}

long
json_number(const char *text, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(text, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}
