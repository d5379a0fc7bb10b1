#!/bin/sh
# run-pam-tests.sh PROGRAM [FILTER] - one pam_wrapper + libpamtest
# program of pam_baxverify (tests/pam/test_pam, test_providers, test_local,
# test_helper) in a setup of its own.
#
# `make check` starts it for each of those programs (tests/run-test.sh,
# automake's LOG_COMPILER), so each program is a TESTS entry with its own
# .log.  By hand: make check TESTS=tests/pam/test_local, or
#   BV_MODULE=... BV_SYSLOG_SHIM=... srcdir=. tests/pam/run-pam-tests.sh \
#       tests/pam/test_local
# In the environment (AM_TESTS_ENVIRONMENT):
#   BV_MODULE       absolute path of the built .libs/pam_baxverify.so
#   BV_HELPER       the built baxverify-helper
#   BV_SYSLOG_SHIM  absolute path of the built syslog_capture.so
#   BV_CLI          the built baxverify (test_local runs it for
#                   recovery-codes, reset and validate-token, and skips
#                   those cases without it)
#   srcdir          the source tree (tests/mock/ lives there)
# Optional:
#   BV_PRELOAD_FIRST  a library that must come first in LD_PRELOAD (libasan
#                     under an ASan build; deep binding is then disabled)
#   BV_TEST_FILTER    run only the cmocka cases whose name contains it
#                     (or FILTER, the second argument)
#
# It makes a scratch directory with a test CA, starts the loopback mock
# (BaxVerify, Tryvox and Mudbase on one port), writes PAM service files
# naming the module by absolute path, copies the local provider's test
# delivery commands, and runs PROGRAM under pam_wrapper.  Nothing outside
# the scratch directory is touched; the mock is stopped by its PID and the
# directory removed on exit.  The exit code is PROGRAM's (cmocka: the
# number of failed cases; 77 becomes 1, not a skip), 77 when a
# prerequisite is missing, 99 on a setup error.

set -eu

prog=${1:?usage: run-pam-tests.sh PROGRAM [FILTER]}
filter=${2:-${BV_TEST_FILTER:-}}
: "${BV_MODULE:?BV_MODULE not set}"
: "${BV_SYSLOG_SHIM:?BV_SYSLOG_SHIM not set}"
srcdir=${srcdir:-.}
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"

bv_find_pam_wrapper ||
	bv_skip "libpam_wrapper.so not found (install libpam-wrapper)"
[ -f "$BV_MODULE" ] || bv_fail "module $BV_MODULE not built"
[ -f "$BV_SYSLOG_SHIM" ] || bv_fail "$BV_SYSLOG_SHIM not built"
[ -x "$prog" ] || bv_fail "$prog not built"
case $prog in /*) ;; *) prog=$(pwd)/$prog ;; esac
command -v openssl >/dev/null 2>&1 || bv_skip "openssl not found"

bv_scratch_dir "pam-${prog##*/}"

# --- the test CA and the mock ---------------------------------------------

bv_make_ca
# shellcheck disable=SC2119 # no extra arguments for the mock
bv_start_mock

# --- PAM service files ----------------------------------------------------

# Each auth stack ends with pam_baxverify's own answer, PAM_IGNORE shown
# as PAM_MODULE_UNKNOWN (see bv_service in tests/mock/lib.sh).
conf="$dir/baxverify.conf"
bv_service bv
bv_service bv_nullok nullok
bv_service bv_safe failmode=safe
bv_service bv_debug debug
bv_service bv_session
echo "session optional $BV_MODULE conf=$conf consume_token" \
	>>"$dir/pam.d/bv_session"
bv_service bv_badarg frobnicate
# The session's own answer, with PAM_IGNORE made visible as in the auth
# stacks above (test_providers.c reads PAM_MODULE_UNKNOWN as PAM_IGNORE).
bv_service bv_session_ignore
{
	printf 'session [ignore=ignore default=done] %s conf=%s consume_token\n' \
		"$BV_MODULE" "$conf"
	echo "session required pam_debug.so open_session=module_unknown"
} >>"$dir/pam.d/bv_session_ignore"
# The grace window (test_local.c): two services that remember a success.
bv_service bv_remember remember=300
bv_service bv_remember2 remember=300
bv_write_other_service "$dir/pam.d"

# Commands run under pam_wrapper (bv_under_pam_wrapper) with this preload.
bv_set_preload

# The local provider's test delivery commands, next to the outbox they
# write (they find it from their own path: their environment is empty).
for script in "$srcdir"/tests/pam/sms-*.sh; do
	[ -f "$script" ] || continue
	cp "$script" "$dir/"
	chmod 700 "$dir/${script##*/}"
done

# --- the program ------------------------------------------------------------

rc=0
bv_under_pam_wrapper "$prog" ${filter:+"$filter"} || rc=$?
# cmocka exits with the number of failed cases: 77 would read as a skip.
[ "$rc" -ne 77 ] || rc=1
exit "$rc"
