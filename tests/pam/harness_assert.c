/*
 * harness_assert.c - assertions on what a transaction gave: the PAM code,
 * what the user was shown, what syslog got, the requests the mock saw.
 */

#include "harness.h"
#include "harness_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
assert_rc_at(int got, int want, const char *file, int line)
{
	if (got != want) {
		print_error("%s:%d: PAM returned %s (%d), expected %s (%d)\n",
			    file, line, pam_rc_name(got), got,
			    pam_rc_name(want), want);
		dump_user_messages();
		dump_syslog();
		fail();
	}
}

bool
in_bufs(char **bufs, const char *needle)
{
	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (strstr(bufs[i], needle) != NULL)
			return true;
	}
	return false;
}

int
count_in_bufs(char **bufs, const char *needle)
{
	int n = 0;

	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (strstr(bufs[i], needle) != NULL)
			n++;
	}
	return n;
}

void
dump_user_messages(void)
{
	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (info_buf[i][0] != '\0')
			print_message("  info: %s\n", info_buf[i]);
	}
	for (size_t i = 0; i < MAX_MSGS; i++) {
		if (err_buf[i][0] != '\0')
			print_message("  err:  %s\n", err_buf[i]);
	}
}

void
dump_syslog(void)
{
	char *log = read_whole_file(syslog_file);

	print_message("  syslog:\n%s", log);
	free(log);
}

void
assert_said(char **bufs, const char *kind, const char *needle, int line)
{
	if (!in_bufs(bufs, needle)) {
		print_error("line %d: no %s message containing \"%s\"\n", line,
			    kind, needle);
		dump_user_messages();
		dump_syslog();
		fail();
	}
}

void
assert_not_said_at(const char *needle, int line)
{
	if (in_bufs(info_buf, needle) || in_bufs(err_buf, needle)) {
		print_error("line %d: user was shown \"%s\"\n", line, needle);
		dump_user_messages();
		fail();
	}
}

bool
log_has(int prio, const char *const *needles)
{
	char *log = read_whole_file(syslog_file);
	char *ln = log;
	bool found = false;

	while (*ln != '\0' && !found) {
		char *nl = strchr(ln, '\n');
		char *next = nl != NULL ? nl + 1 : ln + strlen(ln);
		char *end;
		long p;
		bool all = true;

		if (nl != NULL)
			*nl = '\0';
		p = strtol(ln, &end, 10);
		if (end != ln && (prio == ANY_PRIO || p == prio)) {
			for (size_t i = 0; needles[i] != NULL; i++) {
				if (strstr(end, needles[i]) == NULL) {
					all = false;
					break;
				}
			}
			found = all;
		}
		ln = next;
	}
	free(log);
	return found;
}

int
count_logged(const char *needle)
{
	char *log = read_whole_file(syslog_file);
	int n = 0;

	for (const char *l = log; *l != '\0';) {
		const char *nl = strchr(l, '\n');
		size_t len = nl != NULL ? (size_t)(nl - l) : strlen(l);
		const char *hit = strstr(l, needle);

		if (hit != NULL && hit < l + len)
			n++;
		l += len + (nl != NULL);
	}
	free(log);
	return n;
}

static void
print_needles(const char *const *needles)
{
	for (size_t i = 0; needles[i] != NULL; i++)
		print_error(" [%s]", needles[i]);
	print_error("\n");
}

void
assert_logged_at(int prio, const char *const *needles, int line)
{
	if (!log_has(prio, needles)) {
		print_error("line %d: no syslog line (priority %d) with:", line,
			    prio);
		print_needles(needles);
		dump_syslog();
		dump_user_messages();
		fail();
	}
}

void
assert_not_logged_at(const char *const *needles, int line)
{
	if (log_has(ANY_PRIO, needles)) {
		print_error("line %d: unexpected syslog line with:", line);
		print_needles(needles);
		dump_syslog();
		fail();
	}
}

void
assert_requests_at(const char *path, int want, int line)
{
	int got = mock_count(path);

	if (got != want) {
		print_error("line %d: %d request(s) to %s, expected %d\n", line,
			    got, path != NULL ? path : "the API", want);
		fail();
	}
}

void
assert_requests_prefix_at(const char *prefix, int want, int line)
{
	int got = mock_count_prefix(prefix);

	if (got != want) {
		print_error("line %d: %d request(s) to %s*, expected %d\n",
			    line, got, prefix, want);
		fail();
	}
}
