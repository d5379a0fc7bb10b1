/*
 * test_phones.c - phone_is_e164, phone_mask, email_is_valid, email_mask
 * and phones_lookup.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/conf.h"
#include "../../src/core/log.h"
#include "capture.h"
#include "../../src/core/phones.h"
#include "../../src/core/result.h"
#include "guarded.h"

/* Every path here is a short name under a mkdtemp directory in /tmp. */
#define PATH_BUF 256

#define BULLETS3 "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"

#define BULLETS7                                                               \
	"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"         \
	"\xe2\x80\xa2\xe2\x80\xa2"

struct phones_state {
	char dir[64];	       /* mkdtemp directory */
	char file[PATH_BUF];   /* the phones file (mkstemp) */
	char link[PATH_BUF];   /* a symlink to it, when a test makes one */
	char errlog[PATH_BUF]; /* captured stderr */
	struct bv_config cfg;
	struct bv_log log;
	struct bv_contact c; /* what the last lookup found */
	char *captured;
};

static int
setup(void **state)
{
	struct phones_state *st = calloc(1, sizeof(*st));
	int fd;

	if (st == NULL)
		return -1;
	snprintf(st->dir, sizeof(st->dir), "/tmp/bv-test-phones.XXXXXX");
	if (mkdtemp(st->dir) == NULL)
		goto fail;
	snprintf(st->file, sizeof(st->file), "%s/phones.XXXXXX", st->dir);
	fd = mkstemp(st->file);
	if (fd < 0)
		goto fail;
	close(fd);
	if (chmod(st->file, 0644) != 0)
		goto fail;
	snprintf(st->errlog, sizeof(st->errlog), "%s/stderr", st->dir);
	st->cfg.phones_file = st->file;
	st->cfg.phones_gecos = false;
	st->log.debug = false;
	*state = st;
	return 0;
fail:
	if (st->file[0] != '\0')
		unlink(st->file);
	rmdir(st->dir);
	free(st);
	return -1;
}

static int
teardown(void **state)
{
	struct phones_state *st = *state;

	contact_clear(&st->c);
	free(st->captured);
	unlink(st->file);
	if (st->link[0] != '\0')
		unlink(st->link);
	unlink(st->errlog);
	rmdir(st->dir);
	free(st);
	*state = NULL;
	return 0;
}

/* Replace the phones file's content, keeping its mode. */
static void
write_phones(struct phones_state *st, const char *text)
{
	FILE *f = fopen(st->file, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* phones_lookup with stderr captured into st->captured. */
static enum bv_result
lookup_captured(struct phones_state *st, const char *user)
{
	enum bv_result rc;
	int saved;

	saved = capture_stderr(st->errlog);
	rc = phones_lookup(&st->cfg, user, &st->log, &st->c);
	capture_restore(saved);
	free(st->captured);
	st->captured = capture_read(st->errlog);
	return rc;
}

/* --- phone_is_e164 ---------------------------------------------------- */

static void
test_e164_valid(void **state)
{
	(void)state;
	assert_true(phone_is_e164("+14155552671"));
	assert_true(phone_is_e164("+447911123456"));
	assert_true(phone_is_e164("+12345678"));	/* 8 digits */
	assert_true(phone_is_e164("+123456789012345")); /* 15 digits */
	assert_true(phone_is_e164("+90000000"));
}

static void
test_e164_invalid(void **state)
{
	(void)state;
	assert_false(phone_is_e164("14155552671"));	  /* no plus */
	assert_false(phone_is_e164("+04155552671"));	  /* leading 0 */
	assert_false(phone_is_e164("+1234567"));	  /* 7 digits */
	assert_false(phone_is_e164("+1234567890123456")); /* 16 digits */
	assert_false(phone_is_e164("+1415555267a"));
	assert_false(phone_is_e164("+1415555267O"));
	assert_false(phone_is_e164("+1 415 555 2671"));
	assert_false(phone_is_e164("+14155552671 "));
	assert_false(phone_is_e164(" +14155552671"));
	assert_false(phone_is_e164("+1-415-555-2671"));
	assert_false(phone_is_e164("++14155552671"));
	assert_false(phone_is_e164("+"));
	assert_false(phone_is_e164(""));
	assert_false(phone_is_e164(NULL));
	/* Fullwidth "+1..." is not ASCII. */
	assert_false(phone_is_e164("+\xef\xbc\x91"
				   "4155552671"));
}

/* --- phone_mask ------------------------------------------------------- */

static void
test_mask_us(void **state)
{
	char out[64];

	(void)state;
	phone_mask("+14155552671", out, sizeof(out));
	assert_string_equal(out, "+1" BULLETS7 "2671");
}

static void
test_mask_uk(void **state)
{
	char out[64];

	(void)state;
	phone_mask("+447911123456", out, sizeof(out));
	assert_string_equal(out, "+4" BULLETS7 "3456");
}

static void
test_mask_fixed_width(void **state)
{
	char a[64], b[64];

	(void)state;
	/* The shortest and the longest number mask to the same length. */
	phone_mask("+12345678", a, sizeof(a));
	phone_mask("+123456789012345", b, sizeof(b));
	assert_string_equal(a, "+1" BULLETS7 "5678");
	assert_string_equal(b, "+1" BULLETS7 "2345");
	assert_int_equal(strlen(a), strlen(b));
}

static void
test_mask_minimum_buffer(void **state)
{
	char out[28];

	(void)state;
	/* The documented minimum holds the longest number. */
	memset(out, 'Z', sizeof(out));
	phone_mask("+123456789012345", out, sizeof(out));
	assert_string_equal(out, "+1" BULLETS7 "2345");
	assert_int_equal(strlen(out), 27);
}

static void
test_mask_hides_middle(void **state)
{
	char out[64];

	(void)state;
	phone_mask("+19998887777", out, sizeof(out));
	assert_null(strstr(out, "999888"));
	assert_null(strstr(out, "888"));
}

static void
test_mask_short(void **state)
{
	char out[64];

	(void)state;
	/* Too short to show anything: only bullets. */
	phone_mask("+1234", out, sizeof(out));
	assert_string_equal(out, BULLETS7);
	phone_mask("", out, sizeof(out));
	assert_string_equal(out, BULLETS7);
}

/* --- email_is_valid --------------------------------------------------- */

static void
test_email_valid(void **state)
{
	char longest[EMAIL_MAX + 1];

	(void)state;
	assert_true(email_is_valid("a@b.co"));
	assert_true(email_is_valid("first.last+tag@sub.example.org"));
	assert_true(email_is_valid("dave@example.com"));
	/* Exactly EMAIL_MAX characters is still an address. */
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memcpy(longest + EMAIL_MAX - sizeof("@example.com") + 1, "@example.com",
	       sizeof("@example.com") - 1);
	assert_int_equal(strlen(longest), EMAIL_MAX);
	assert_true(email_is_valid(longest));
}

static void
test_email_invalid(void **state)
{
	char toolong[EMAIL_MAX + 2];

	(void)state;
	assert_false(email_is_valid(NULL));
	assert_false(email_is_valid(""));
	assert_false(email_is_valid("@"));
	assert_false(email_is_valid("dave.example.com"));      /* no @ */
	assert_false(email_is_valid("dave@mail@example.com")); /* two @ */
	assert_false(email_is_valid("a@@example.com"));
	assert_false(email_is_valid("@example.com"));	/* empty local */
	assert_false(email_is_valid("dave@"));		/* empty domain */
	assert_false(email_is_valid("dave@localhost")); /* no dot */
	assert_false(email_is_valid("dave@example."));	/* trailing dot */
	assert_false(email_is_valid("dave@example.com."));
	assert_false(email_is_valid("dave@.example.com"));
	assert_false(email_is_valid("da ve@example.com")); /* spaces */
	assert_false(email_is_valid(" dave@example.com"));
	assert_false(email_is_valid("dave@example.com "));
	assert_false(email_is_valid("dave@exa mple.com"));
	assert_false(email_is_valid("\"dave\"@example.com")); /* quotes */
	assert_false(email_is_valid("da'e@example.com"));
	assert_false(email_is_valid("dave@exam\"ple.com"));
	assert_false(email_is_valid("Dave <dave@example.com>"));
	/* Control characters: a terminal escape, a tab, a newline, DEL. */
	assert_false(email_is_valid("dave\x1b[2J@example.com"));
	assert_false(email_is_valid("dave\t@example.com"));
	assert_false(email_is_valid("dave@example.com\nbob"));
	assert_false(email_is_valid("dave\x7f@example.com"));
	assert_false(email_is_valid("dave@example.co\x9b"
				    "m"));
	/* One past EMAIL_MAX. */
	memset(toolong, 'a', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	memcpy(toolong + EMAIL_MAX + 1 - sizeof("@example.com") + 1,
	       "@example.com", sizeof("@example.com") - 1);
	assert_int_equal(strlen(toolong), EMAIL_MAX + 1);
	assert_false(email_is_valid(toolong));
}

/* --- email_mask ------------------------------------------------------- */

static void
test_email_mask(void **state)
{
	char out[64];

	(void)state;
	email_mask("dave@example.com", out, sizeof(out));
	assert_string_equal(out, "d" BULLETS3 "@example.com");
	email_mask("first.last+tag@sub.example.org", out, sizeof(out));
	assert_string_equal(out, "f" BULLETS3 "@sub.example.org");
	assert_null(strstr(out, "last"));
	/* Short buffers are cut, never overrun. */
	memset(out, 'Z', sizeof(out));
	email_mask("dave@example.com", out, 8);
	assert_true(strlen(out) < 8);
}

/* --- phones_lookup ---------------------------------------------------- */

static void
test_lookup_found(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice +14155552671\nbob +447911123456\n");
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+14155552671");
	/* A phone-only line gives no email. */
	assert_null(st->c.email);
	contact_clear(&st->c);
	assert_int_equal(phones_lookup(&st->cfg, "bob", &st->log, &st->c),
			 BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+447911123456");
	assert_null(st->c.email);
}

static void
test_lookup_no_trailing_newline(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "bob +447911123456\nalice\t+14155552671");
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+14155552671");
}

static void
test_lookup_crlf(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice +14155552671\r\nbob +447911123456\r\n");
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+14155552671");
}

static void
test_lookup_absent(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice +14155552671\n");
	assert_int_equal(phones_lookup(&st->cfg, "carol", &st->log, &st->c),
			 BV_OK);
	assert_null(st->c.phone);
	/* A prefix of a name is not the name. */
	assert_int_equal(phones_lookup(&st->cfg, "alic", &st->log, &st->c),
			 BV_OK);
	assert_null(st->c.phone);
	assert_int_equal(phones_lookup(&st->cfg, "alice2", &st->log, &st->c),
			 BV_OK);
	assert_null(st->c.phone);
}

static void
test_lookup_empty_file(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "");
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_OK);
	assert_null(st->c.phone);
}

static void
test_lookup_comments_blank(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "# phones registry\n"
			 "\n"
			 "   \n"
			 "\t\n"
			 "#alice +19999999999\n"
			 "  # alice +18888888888\n"
			 "alice +14155552671  # desk phone\n"
			 "bob +447911123456#no space\n");
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+14155552671");
	contact_clear(&st->c);
	assert_int_equal(phones_lookup(&st->cfg, "bob", &st->log, &st->c),
			 BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+447911123456");
}

static void
test_lookup_own_invalid_line(void **state)
{
	struct phones_state *st = *state;
	char want[PATH_BUF + 32];

	write_phones(st, "bob +447911123456\nalice 4155552671\n");
	assert_int_equal(lookup_captured(st, "alice"), BV_CONFIG);
	assert_null(st->c.phone);
	snprintf(want, sizeof(want), "%s:2: invalid phone number", st->file);
	assert_non_null(strstr(st->captured, want));
}

static void
test_lookup_own_invalid_after_valid(void **state)
{
	struct phones_state *st = *state;

	/* A typo in a second line for the user still counts as a typo. */
	write_phones(st, "alice +14155552671\nalice +1415555\n");
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
}

static void
test_lookup_own_line_missing_number(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice\n");
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
}

static void
test_lookup_own_line_extra_field(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice +14155552671 +447911123456\n");
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
}

static void
test_lookup_other_invalid_line(void **state)
{
	struct phones_state *st = *state;
	char want[PATH_BUF + 32];

	write_phones(st, "bob 07911 123456\nalice +14155552671\n");
	assert_int_equal(lookup_captured(st, "alice"), BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+14155552671");
	/* Still reported, for the administrator. */
	snprintf(want, sizeof(want), "%s:1: invalid phone number", st->file);
	assert_non_null(strstr(st->captured, want));
}

static void
test_lookup_group_writable(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice +14155552671\n");
	assert_int_equal(chmod(st->file, 0664), 0);
	assert_int_equal(lookup_captured(st, "alice"), BV_CONFIG);
	assert_null(st->c.phone);
	assert_non_null(strstr(st->captured, st->file));
	assert_non_null(strstr(st->captured, "writable"));
}

static void
test_lookup_world_writable(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice +14155552671\n");
	assert_int_equal(chmod(st->file, 0646), 0);
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
}

static void
test_lookup_not_owned(void **state)
{
	struct phones_state *st = *state;

	if (geteuid() != 0)
		skip();
	write_phones(st, "alice +14155552671\n");
	assert_int_equal(chown(st->file, 65534, 65534), 0);
	assert_int_equal(lookup_captured(st, "alice"), BV_CONFIG);
	assert_null(st->c.phone);
	assert_non_null(strstr(st->captured, "not owned by root"));
}

static void
test_lookup_symlink(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice +14155552671\n");
	snprintf(st->link, sizeof(st->link), "%s/link", st->dir);
	assert_int_equal(symlink(st->file, st->link), 0);
	st->cfg.phones_file = st->link;
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
}

static void
test_lookup_relative_path(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice +14155552671\n");
	/* The same file, named relative to the working directory. */
	assert_int_equal(chdir("/"), 0);
	st->cfg.phones_file = st->file + 1;
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
}

static void
test_lookup_missing_file(void **state)
{
	struct phones_state *st = *state;

	assert_int_equal(unlink(st->file), 0);
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
}

static void
test_lookup_directory(void **state)
{
	struct phones_state *st = *state;

	st->cfg.phones_file = st->dir;
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
}

static void
test_lookup_gecos_no_entry(void **state)
{
	struct phones_state *st = *state;

	/* No such passwd entry: GECOS gives nothing, still BV_OK. */
	write_phones(st, "alice +14155552671\n");
	st->cfg.phones_gecos = true;
	assert_int_equal(
	    phones_lookup(&st->cfg, "bv-no-such-user-x", &st->log, &st->c),
	    BV_OK);
	assert_null(st->c.phone);
	/* The file still wins when it has the user. */
	assert_int_equal(phones_lookup(&st->cfg, "alice", &st->log, &st->c),
			 BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+14155552671");
}

/* --- phones_lookup: email destinations -------------------------------- */

static void
test_lookup_email_only(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "alice +14155552671\ndave dave@example.com\n");
	assert_int_equal(phones_lookup(&st->cfg, "dave", &st->log, &st->c),
			 BV_OK);
	assert_null(st->c.phone);
	assert_non_null(st->c.email);
	assert_string_equal(st->c.email, "dave@example.com");
}

static void
test_lookup_phone_and_email(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "erin +14155550100 erin@example.org\n"
			 "frank\tfrank@example.net  +447911123456 # desk\n");
	assert_int_equal(phones_lookup(&st->cfg, "erin", &st->log, &st->c),
			 BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+14155550100");
	assert_non_null(st->c.email);
	assert_string_equal(st->c.email, "erin@example.org");
	contact_clear(&st->c);
	/* Email first, phone second: the same. */
	assert_int_equal(phones_lookup(&st->cfg, "frank", &st->log, &st->c),
			 BV_OK);
	assert_non_null(st->c.phone);
	assert_string_equal(st->c.phone, "+447911123456");
	assert_non_null(st->c.email);
	assert_string_equal(st->c.email, "frank@example.net");
}

static void
test_lookup_two_phones(void **state)
{
	struct phones_state *st = *state;
	char want[PATH_BUF + 32];

	/* Which of two numbers would get the code?  Ambiguous: refused. */
	write_phones(st, "bob +447911123456\n"
			 "erin +14155550100 +14155550199\n");
	assert_int_equal(lookup_captured(st, "erin"), BV_CONFIG);
	assert_null(st->c.phone);
	assert_null(st->c.email);
	snprintf(want, sizeof(want), "%s:2: invalid", st->file);
	assert_non_null(strstr(st->captured, want));
}

static void
test_lookup_two_emails(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "dave dave@example.com dave@example.org\n");
	assert_int_equal(phones_lookup(&st->cfg, "dave", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
	assert_null(st->c.email);
}

static void
test_lookup_junk_second_dest(void **state)
{
	struct phones_state *st = *state;
	char want[PATH_BUF + 32];

	/* A valid phone does not excuse a typo next to it. */
	write_phones(st, "erin +14155550100 erin-at-example.org\n");
	assert_int_equal(lookup_captured(st, "erin"), BV_CONFIG);
	assert_null(st->c.phone);
	assert_null(st->c.email);
	snprintf(want, sizeof(want), "%s:1: invalid", st->file);
	assert_non_null(strstr(st->captured, want));

	write_phones(st, "dave dave@example.com 4155550100\n");
	assert_int_equal(phones_lookup(&st->cfg, "dave", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
	assert_null(st->c.email);
}

static void
test_lookup_junk_first_dest(void **state)
{
	struct phones_state *st = *state;

	write_phones(st, "erin junk erin@example.org\n");
	assert_int_equal(phones_lookup(&st->cfg, "erin", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
	assert_null(st->c.email);
}

static void
test_lookup_three_dests(void **state)
{
	struct phones_state *st = *state;

	write_phones(st,
		     "erin +14155550100 erin@example.org erin@example.com\n");
	assert_int_equal(phones_lookup(&st->cfg, "erin", &st->log, &st->c),
			 BV_CONFIG);
	assert_null(st->c.phone);
	assert_null(st->c.email);
}

static void
test_lookup_other_invalid_email_line(void **state)
{
	struct phones_state *st = *state;

	/* Someone else's bad line does not stop this user. */
	write_phones(st, "dave dave@@example.com\n"
			 "erin +14155550100 erin@example.org\n");
	assert_int_equal(lookup_captured(st, "erin"), BV_OK);
	assert_string_equal(st->c.phone, "+14155550100");
	assert_string_equal(st->c.email, "erin@example.org");
	assert_non_null(strstr(st->captured, ":1: invalid"));
}

static void
test_lookup_gecos_email_only_user(void **state)
{
	struct phones_state *st = *state;

	/* GECOS only adds a phone; it never removes the file's email. */
	write_phones(st, "bv-no-such-user-x dave@example.com\n");
	st->cfg.phones_gecos = true;
	assert_int_equal(
	    phones_lookup(&st->cfg, "bv-no-such-user-x", &st->log, &st->c),
	    BV_OK);
	assert_null(st->c.phone);
	assert_string_equal(st->c.email, "dave@example.com");
}

/* phones_lookup of alice, in the child of run_guarded. */
static int
lookup_in_child(void *arg)
{
	struct phones_state *st = arg;

	return (int)phones_lookup(&st->cfg, "alice", &st->log, &st->c);
}

/* A FIFO at the phones path is refused at once, never waited on. */
static void
test_lookup_fifo(void **state)
{
	struct phones_state *st = *state;
	char *log;

	unlink(st->file);
	assert_int_equal(mkfifo(st->file, 0644), 0);
	assert_int_equal(run_guarded(lookup_in_child, st, st->errlog),
			 BV_CONFIG);
	log = capture_read(st->errlog);
	assert_non_null(strstr(log, st->file));
	assert_non_null(strstr(log, "refused: a FIFO, not a regular file"));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_e164_valid),
	    T(test_e164_invalid),
	    T(test_mask_us),
	    T(test_mask_uk),
	    T(test_mask_fixed_width),
	    T(test_mask_minimum_buffer),
	    T(test_mask_hides_middle),
	    T(test_mask_short),
	    T(test_email_valid),
	    T(test_email_invalid),
	    T(test_email_mask),
	    T(test_lookup_found),
	    T(test_lookup_no_trailing_newline),
	    T(test_lookup_crlf),
	    T(test_lookup_absent),
	    T(test_lookup_empty_file),
	    T(test_lookup_comments_blank),
	    T(test_lookup_own_invalid_line),
	    T(test_lookup_own_invalid_after_valid),
	    T(test_lookup_own_line_missing_number),
	    T(test_lookup_own_line_extra_field),
	    T(test_lookup_other_invalid_line),
	    T(test_lookup_group_writable),
	    T(test_lookup_world_writable),
	    T(test_lookup_not_owned),
	    T(test_lookup_symlink),
	    T(test_lookup_relative_path),
	    T(test_lookup_missing_file),
	    T(test_lookup_directory),
	    T(test_lookup_fifo),
	    T(test_lookup_gecos_no_entry),
	    T(test_lookup_email_only),
	    T(test_lookup_phone_and_email),
	    T(test_lookup_two_phones),
	    T(test_lookup_two_emails),
	    T(test_lookup_junk_second_dest),
	    T(test_lookup_junk_first_dest),
	    T(test_lookup_three_dests),
	    T(test_lookup_other_invalid_email_line),
	    T(test_lookup_gecos_email_only_user),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
