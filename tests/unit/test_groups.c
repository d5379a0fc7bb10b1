/*
 * test_groups.c - groups_user_applies and groups_getpwnam against a fake
 * NSS: getpwnam_r, getgrouplist and getgrgid_r are replaced at link time
 * (-Wl,--wrap=..., see Makefile.am), so a case can make an entry larger
 * than any buffer, or make a lookup fail, and see that a lookup that did
 * not work never reads as "not a member" (the user would be skipped,
 * PAM_IGNORE, under sudo and su).
 *
 * Also phones_lookup's GECOS read, which shares groups_getpwnam.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "../../src/core/conf.h"
#include "../../src/core/groups.h"
#include "../../src/core/phones.h"

/* ------------------------------------------------------------------ */
/* The fake NSS.                                                       */

#define MAX_FAKE_GIDS 400
#define MAX_FAKE_GROUPS 4

struct fake_group {
	gid_t gid;
	const char *name;
	size_t need;	    /* buffer size below which getgrgid_r says ERANGE */
	int err;	    /* returned whatever the buffer */
	const char *member; /* in gr_mem (getgrnam_r), or NULL */
	int nam_err;	    /* getgrnam_r's error */
};

static struct {
	int pw_err;
	size_t pw_need;
	bool pw_missing;
	const char *gecos;
	gid_t gids[MAX_FAKE_GIDS];
	int ngids;
	bool gl_fail;
	struct fake_group groups[MAX_FAKE_GROUPS];
	size_t ngroups;
	/* Seen. */
	size_t pw_maxbuf;
	size_t gr_maxbuf;
	int gr_calls; /* getgrgid_r */
	int gl_calls; /* getgrouplist */
} fake;

int __wrap_getpwnam_r(const char *name, struct passwd *pwd, char *buf,
		      size_t buflen, struct passwd **result);
int __wrap_getgrouplist(const char *user, gid_t group, gid_t *groups,
			int *ngroups);
int __wrap_getgrgid_r(gid_t gid, struct group *grp, char *buf, size_t buflen,
		      struct group **result);
int __wrap_getgrnam_r(const char *name, struct group *grp, char *buf,
		      size_t buflen, struct group **result);

int
__wrap_getpwnam_r(const char *name, struct passwd *pwd, char *buf,
		  size_t buflen, struct passwd **result)
{
	size_t n = strlen(name) + 1;

	*result = NULL;
	if (buflen > fake.pw_maxbuf)
		fake.pw_maxbuf = buflen;
	if (fake.pw_err != 0)
		return fake.pw_err;
	if (buflen < fake.pw_need || buflen < n)
		return ERANGE;
	if (fake.pw_missing)
		return 0;
	memset(pwd, 0, sizeof(*pwd));
	memcpy(buf, name, n);
	pwd->pw_name = buf;
	pwd->pw_passwd = buf + n - 1; /* "" */
	pwd->pw_uid = 1000;
	pwd->pw_gid = 1000;
	/* GECOS in our buffer too: the caller tokenises it. */
	if (fake.gecos != NULL && n + strlen(fake.gecos) + 1 <= buflen) {
		memcpy(buf + n, fake.gecos, strlen(fake.gecos) + 1);
		pwd->pw_gecos = buf + n;
	} else {
		pwd->pw_gecos = buf + n - 1;
	}
	pwd->pw_dir = buf + n - 1;
	pwd->pw_shell = buf + n - 1;
	*result = pwd;
	return 0;
}

int
__wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups)
{
	(void)user;
	(void)group;
	fake.gl_calls++;
	if (fake.gl_fail)
		return -1; /* and *ngroups left as it was */
	if (*ngroups < fake.ngids) {
		*ngroups = fake.ngids;
		return -1;
	}
	memcpy(groups, fake.gids, (size_t)fake.ngids * sizeof(*groups));
	*ngroups = fake.ngids;
	return fake.ngids;
}

int
__wrap_getgrgid_r(gid_t gid, struct group *grp, char *buf, size_t buflen,
		  struct group **result)
{
	size_t i, n;

	*result = NULL;
	fake.gr_calls++;
	if (buflen > fake.gr_maxbuf)
		fake.gr_maxbuf = buflen;
	for (i = 0; i < fake.ngroups; i++) {
		const struct fake_group *g = &fake.groups[i];

		if (g->gid != gid)
			continue;
		if (g->err != 0)
			return g->err;
		n = strlen(g->name) + 1;
		if (buflen < g->need || buflen < n)
			return ERANGE;
		memset(grp, 0, sizeof(*grp));
		memcpy(buf, g->name, n);
		grp->gr_name = buf;
		grp->gr_gid = gid;
		*result = grp;
		return 0;
	}
	return 0; /* no such group */
}

int
__wrap_getgrnam_r(const char *name, struct group *grp, char *buf, size_t buflen,
		  struct group **result)
{
	static char *members[2];
	size_t i, n;

	*result = NULL;
	for (i = 0; i < fake.ngroups; i++) {
		const struct fake_group *g = &fake.groups[i];

		if (strcmp(g->name, name) != 0)
			continue;
		if (buflen > fake.gr_maxbuf)
			fake.gr_maxbuf = buflen;
		/* The same entry read by name fails as by gid, unless the
		   case says otherwise (nam_err). */
		if (g->nam_err != 0 || g->err != 0)
			return g->nam_err != 0 ? g->nam_err : g->err;
		n = strlen(g->name) + 1;
		if (buflen < g->need || buflen < n)
			return ERANGE;
		memset(grp, 0, sizeof(*grp));
		memcpy(buf, g->name, n);
		grp->gr_name = buf;
		grp->gr_gid = g->gid;
		members[0] = (char *)(uintptr_t)g->member;
		members[1] = NULL;
		grp->gr_mem = members;
		*result = grp;
		return 0;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Fixtures.                                                           */

struct state {
	char dir[64];
	char errlog[128];
	char phones[128];
	struct bv_log log;
	char *captured; /* what the last captured call logged */
};

static int
setup(void **state)
{
	struct state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
	memset(&fake, 0, sizeof(fake));
	/* alice: primary group 1000 "alice", and "staff" (100). */
	fake.gids[0] = 1000;
	fake.gids[1] = 100;
	fake.ngids = 2;
	fake.groups[0] = (struct fake_group){1000, "alice", 0, 0, NULL, 0};
	fake.groups[1] = (struct fake_group){100, "staff", 0, 0, NULL, 0};
	fake.ngroups = 2;
	snprintf(st->dir, sizeof(st->dir), "/tmp/bv-test-groups.XXXXXX");
	if (mkdtemp(st->dir) == NULL) {
		free(st);
		return -1;
	}
	snprintf(st->errlog, sizeof(st->errlog), "%s/stderr", st->dir);
	snprintf(st->phones, sizeof(st->phones), "%s/phones", st->dir);
	*state = st;
	return 0;
}

static int
teardown(void **state)
{
	struct state *st = *state;

	free(st->captured);
	unlink(st->errlog);
	unlink(st->phones);
	rmdir(st->dir);
	free(st);
	return 0;
}

/* Add group gid named name to the fake, and to alice's list. */
static void
add_group(gid_t gid, const char *name, size_t need, int err)
{
	assert_true(fake.ngroups < MAX_FAKE_GROUPS);
	fake.groups[fake.ngroups++] =
	    (struct fake_group){gid, name, need, err, NULL, 0};
	fake.gids[fake.ngids++] = gid;
}

static int stderr_saved = -1;

/* Send stderr (where bv_log writes without PAM) to st->errlog. */
static void
capture_begin(struct state *st)
{
	stderr_saved = capture_stderr(st->errlog);
}

/* Back to the real stderr; what was written is in st->captured. */
static void
capture_end(struct state *st)
{
	capture_restore(stderr_saved);
	free(st->captured);
	st->captured = capture_read(st->errlog);
}

/* groups_user_applies(patterns, user), what it logged captured. */
static enum bv_result
applies_captured(struct state *st, char *const *patterns, const char *user,
		 bool *applies)
{
	enum bv_result rc;

	capture_begin(st);
	rc = groups_user_applies(patterns, user, &st->log, applies);
	capture_end(st);
	return rc;
}

/* Pattern lists are char *const[] (as the config holds them), not
   literals. */
static char p_staff[] = "staff", p_wheel[] = "wheel", p_big[] = "biggroup",
	    p_not_staff[] = "!staff", p_not_big[] = "!biggroup",
	    p_late[] = "late", p_st_any[] = "st*", p_not_big_any[] = "!big*",
	    p_big_any[] = "big*";
#define PATTERNS(...) ((char *const[]){__VA_ARGS__, NULL})

/* ------------------------------------------------------------------ */
/* Cases.                                                              */

static void
test_member_and_not(void **state)
{
	struct state *st = *state;
	bool applies = false;

	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "alice", &applies), BV_OK);
	assert_true(applies);
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_wheel), "alice", &applies), BV_OK);
	assert_false(applies);
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_not_staff), "alice", &applies),
	    BV_OK);
	assert_false(applies);
	assert_string_equal(st->captured, "");
}

/* A group line of 13 KB does not fit 8 KiB: the buffer grows, and the
   membership is found. */
static void
test_group_erange_then_found(void **state)
{
	struct state *st = *state;
	bool applies = false;

	add_group(4242, "biggroup", 13 * 1024, 0);
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_big), "alice", &applies), BV_OK);
	assert_true(applies);
	assert_true(fake.gr_maxbuf >= 13 * 1024);
	assert_string_equal(st->captured, "");
	/* By gid too (a wildcard pattern reads each group of the user). */
	fake.gr_maxbuf = 0;
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_big_any), "alice", &applies),
	    BV_OK);
	assert_true(applies);
	assert_true(fake.gr_maxbuf >= 13 * 1024);
	/* The same for an exclusion: the big group is seen, and excludes. */
	assert_int_equal(applies_captured(st, PATTERNS(p_staff, p_not_big),
					  "alice", &applies),
			 BV_OK);
	assert_false(applies);
}

/* Larger than the cap: not "not a member", but a denial, logged. */
static void
test_group_erange_forever(void **state)
{
	struct state *st = *state;
	bool applies = true;

	add_group(4242, "biggroup", 2 * 1024 * 1024, 0);
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_big), "alice", &applies),
	    BV_INTERNAL);
	assert_false(applies);
	assert_int_equal(fake.gr_maxbuf, 1024 * 1024);
	assert_non_null(strstr(st->captured,
			       "user=alice: cannot read group "
			       "biggroup: larger than 1048576 bytes"));
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_big_any), "alice", &applies),
	    BV_INTERNAL);
	assert_non_null(strstr(st->captured,
			       "user=alice: cannot read group "
			       "4242: larger than 1048576 bytes"));
}

/* An NSS error on a group the patterns need denies, even when another
   group matched: the unread one could have been excluded.  A wildcard
   reads every group of the user, so an error on any of them denies. */
static void
test_group_error_denies(void **state)
{
	struct state *st = *state;
	bool applies = true;

	add_group(4242, "biggroup", 0, EIO);
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_big), "alice", &applies),
	    BV_INTERNAL);
	assert_false(applies);
	assert_non_null(strstr(st->captured, "user=alice: cannot read group "
					     "biggroup: Input/output error"));
	assert_int_equal(applies_captured(st, PATTERNS(p_staff, p_not_big),
					  "alice", &applies),
			 BV_INTERNAL);
	assert_false(applies);
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_st_any), "alice", &applies),
	    BV_INTERNAL);
	assert_false(applies);
	assert_non_null(strstr(st->captured, "user=alice: cannot read group "
					     "4242: Input/output error"));
}

/* Group names only: each named group is read by its name, never the
   user's other groups; the group list only when a member list left the
   answer open. */
static void
test_literal_reads_only_named(void **state)
{
	struct state *st = *state;
	bool applies = false;

	/* staff lists alice: decided by its member list alone. */
	fake.groups[1].member = "alice";
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "alice", &applies), BV_OK);
	assert_true(applies);
	assert_int_equal(fake.gr_calls, 0);
	assert_int_equal(fake.gl_calls, 0);
	/* Excluded by a member list: decided too. */
	assert_int_equal(applies_captured(st, PATTERNS(p_wheel, p_not_staff),
					  "alice", &applies),
			 BV_OK);
	assert_false(applies);
	assert_int_equal(fake.gl_calls, 0);
	/* Wanted, but an exclusion is still open: the list is read. */
	add_group(4242, "biggroup", 0, 0);
	assert_int_equal(applies_captured(st, PATTERNS(p_staff, p_not_big),
					  "alice", &applies),
			 BV_OK);
	assert_false(applies);
	assert_int_equal(fake.gl_calls, 1);
	/* Not named by a member list: the list decides (a directory may
	   leave members out); a positive name needs no read by gid. */
	fake.gr_calls = 0;
	fake.groups[1].member = NULL;
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "alice", &applies), BV_OK);
	assert_true(applies);
	assert_int_equal(fake.gl_calls, 2);
	assert_int_equal(fake.gr_calls, 0);
	/* No such group: nobody is in it. */
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_wheel), "alice", &applies), BV_OK);
	assert_false(applies);
	assert_string_equal(st->captured, "");
}

/* Two names, one gid (a local group and a directory's): an exclusion
   holds only for the name the gid resolves to, so the shared gid skips
   nobody; a wanted name may go by the gid (asking more is safe). */
static void
test_shared_gid_excludes_nobody(void **state)
{
	static char p_not_exempt[] = "!mfa-exempt", p_exempt[] = "mfa-exempt",
		    p_not_docker[] = "!docker";
	struct state *st = *state;
	bool applies = false;

	add_group(998, "docker", 0, 0); /* alice's, by her group list */
	fake.groups[fake.ngroups++] =
	    (struct fake_group){998, "mfa-exempt", 0, 0, NULL, 0};
	fake.groups[1].member = "alice"; /* staff lists her */
	assert_int_equal(applies_captured(st, PATTERNS(p_staff, p_not_exempt),
					  "alice", &applies),
			 BV_OK);
	assert_true(applies);
	assert_true(fake.gr_calls > 0);
	/* The name the gid resolves to does exclude. */
	assert_int_equal(applies_captured(st, PATTERNS(p_staff, p_not_docker),
					  "alice", &applies),
			 BV_OK);
	assert_false(applies);
	/* Wanted through the shared gid: asked. */
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_exempt), "alice", &applies), BV_OK);
	assert_true(applies);
	assert_string_equal(st->captured, "");
}

/* Wildcards: the user's groups by gid, and exclusions by wildcard. */
static void
test_wildcards(void **state)
{
	struct state *st = *state;
	bool applies = false;

	assert_int_equal(
	    applies_captured(st, PATTERNS(p_st_any), "alice", &applies), BV_OK);
	assert_true(applies);
	assert_true(fake.gr_calls > 0);
	add_group(4242, "biggroup", 0, 0);
	assert_int_equal(applies_captured(st, PATTERNS(p_staff, p_not_big_any),
					  "alice", &applies),
			 BV_OK);
	assert_false(applies);
	assert_string_equal(st->captured, "");
}

/* A gid with no entry at all is no error: skipped. */
static void
test_group_without_entry_skipped(void **state)
{
	struct state *st = *state;
	bool applies = false;

	fake.gids[fake.ngids++] = 5555; /* in the list, no group entry */
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "alice", &applies), BV_OK);
	assert_true(applies);
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_big), "alice", &applies), BV_OK);
	assert_false(applies);
	assert_string_equal(st->captured, "");
}

static void
test_passwd_erange_then_found(void **state)
{
	struct state *st = *state;
	bool applies = false;

	fake.pw_need = 20000; /* more than the old fixed 4096 */
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "alice", &applies), BV_OK);
	assert_true(applies);
	assert_true(fake.pw_maxbuf >= 20000);
}

static void
test_passwd_error_denies(void **state)
{
	struct state *st = *state;
	bool applies = true;

	fake.pw_err = EIO;
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "alice", &applies),
	    BV_INTERNAL);
	assert_false(applies);
	assert_non_null(strstr(st->captured,
			       "user=alice: cannot read the "
			       "passwd entry: Input/output error"));
	assert_int_equal(fake.gr_calls, 0);

	fake.pw_err = 0;
	fake.pw_need = 4 * 1024 * 1024;
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "alice", &applies),
	    BV_INTERNAL);
	assert_int_equal(fake.pw_maxbuf, 1024 * 1024);
}

/* No passwd entry: in no group, not ours to ask (no error). */
static void
test_no_such_user(void **state)
{
	struct state *st = *state;
	bool applies = true;

	fake.pw_missing = true;
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "nobody-x", &applies),
	    BV_OK);
	assert_false(applies);
	assert_string_equal(st->captured, "");
}

static void
test_grouplist_failure_denies(void **state)
{
	struct state *st = *state;
	bool applies = true;

	fake.gl_fail = true;
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "alice", &applies),
	    BV_INTERNAL);
	assert_false(applies);
	assert_non_null(strstr(st->captured, "user=alice: cannot read the "
					     "group list"));
}

/* More groups than the first try holds: asked again with room. */
static void
test_grouplist_grows(void **state)
{
	struct state *st = *state;
	bool applies = false;
	int i;

	for (i = 0; fake.ngids < MAX_FAKE_GIDS - 1; i++)
		fake.gids[fake.ngids++] = (gid_t)(20000 + i);
	add_group(4242, "late", 0, 0); /* the last of ~400 */
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_late), "alice", &applies), BV_OK);
	assert_true(applies);
}

/* The user name in those lines comes from the caller: sanitised. */
static void
test_error_names_user_sanitised(void **state)
{
	struct state *st = *state;
	bool applies = true;

	fake.pw_err = EIO;
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_staff), "\xffroot\n", &applies),
	    BV_INTERNAL);
	assert_null(strstr(st->captured, "user=root"));
	assert_non_null(strstr(st->captured, "user=?root?: cannot read"));
}

/* phones.gecos: a passwd entry that cannot be read is no "no phone". */
static void
test_gecos_lookup(void **state)
{
	struct state *st = *state;
	struct bv_config cfg = {0};
	struct bv_contact c = {NULL, NULL};
	FILE *f = fopen(st->phones, "w");

	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(st->phones, 0644), 0);
	cfg.phones_file = st->phones;
	cfg.phones_gecos = true;
	fake.gecos = "Alice,+14155552671,";
	fake.pw_need = 10000;
	assert_int_equal(phones_lookup(&cfg, "alice", &st->log, &c), BV_OK);
	assert_non_null(c.phone);
	assert_string_equal(c.phone, "+14155552671");
	contact_clear(&c);

	fake.pw_err = EIO;
	capture_begin(st);
	assert_int_equal(phones_lookup(&cfg, "alice", &st->log, &c),
			 BV_INTERNAL);
	capture_end(st);
	assert_null(c.phone);
	assert_non_null(strstr(st->captured, "user=alice: cannot read the "
					     "passwd entry"));
}

/* No patterns: everyone, and nothing is looked up. */
static void
test_no_patterns(void **state)
{
	struct state *st = *state;
	bool applies = false;

	fake.pw_err = EIO;
	assert_int_equal(groups_user_applies(NULL, "alice", &st->log, &applies),
			 BV_OK);
	assert_true(applies);
}

/* A group getgrouplist left out in silence (a failing source): its own
   lookup by name still finds the member. */
static void
test_dropped_group_found_by_name(void **state)
{
	struct state *st = *state;
	bool applies = false;

	fake.groups[fake.ngroups++] =
	    (struct fake_group){10, "wheel", 0, 0, "alice", 0};
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_wheel), "alice", &applies), BV_OK);
	assert_true(applies);
}

/* ... and when that lookup fails, the user is not skipped: denied. */
static void
test_named_lookup_error_denies(void **state)
{
	struct state *st = *state;
	bool applies = true;

	fake.groups[fake.ngroups++] =
	    (struct fake_group){10, "wheel", 0, 0, NULL, EIO};
	assert_int_equal(
	    applies_captured(st, PATTERNS(p_wheel), "alice", &applies),
	    BV_INTERNAL);
	assert_false(applies);
	assert_non_null(strstr(st->captured, "group wheel"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_member_and_not),
	    T(test_group_erange_then_found),
	    T(test_group_erange_forever),
	    T(test_group_error_denies),
	    T(test_literal_reads_only_named),
	    T(test_wildcards),
	    T(test_shared_gid_excludes_nobody),
	    T(test_group_without_entry_skipped),
	    T(test_passwd_erange_then_found),
	    T(test_passwd_error_denies),
	    T(test_no_such_user),
	    T(test_grouplist_failure_denies),
	    T(test_grouplist_grows),
	    T(test_error_names_user_sanitised),
	    T(test_gecos_lookup),
	    T(test_no_patterns),
	    T(test_dropped_group_found_by_name),
	    T(test_named_lookup_error_denies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
