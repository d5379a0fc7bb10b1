#!/bin/sh
# run-pam-tests.sh - the pam_wrapper + libpamtest suite of pam_baxverify.
#
# Started by `make check` (automake TESTS) with, in the environment:
#   BV_MODULE       absolute path of the built .libs/pam_baxverify.so
#   BV_TEST_PAM     the built tests/pam/test_pam program (BaxVerify)
#   BV_SYSLOG_SHIM  absolute path of the built syslog_capture.so
#   srcdir          the source tree (tests/mock/ lives there)
# Optional:
#   BV_TEST_PROVIDERS the built tests/pam/test_providers program (Tryvox,
#                     Mudbase, failover, channel menu); when unset it is
#                     not run and a note says so
#   BV_TEST_LOCAL     the built tests/pam/test_local program (the local
#                     store: local provider, delivery command, recovery
#                     codes, limits, grace, parallel logins, damage);
#                     when unset it is not run and a note says so.  It
#                     runs BV_CLI (the built baxverify) for recovery-codes,
#                     reset and validate-token, and skips those cases
#                     without it.
#   BV_TEST_HELPER    the built tests/pam/test_helper program (the helper
#                     as the local caller would attack it); when unset it
#                     is not run and a note says so
#   BV_PRELOAD_FIRST  a library that must come first in LD_PRELOAD (libasan
#                     under an ASan build; deep binding is then disabled)
#   BV_TEST_FILTER    run only the cmocka cases whose name contains it
#
# It makes a scratch directory with a test CA, starts the loopback mock
# (BaxVerify, Tryvox and Mudbase on one port), writes PAM service files
# naming the module by absolute path, and runs the cmocka programs and a
# few pamtester checks under pam_wrapper.  Nothing outside the scratch
# directory is touched; the mock is stopped by its PID and the directory
# removed on exit.  The exit code is 0 only when every program and check
# passed: the first failing program's code (99 for a hard error), else 1
# when a pamtester check failed.

set -eu

: "${BV_MODULE:?BV_MODULE not set}"
: "${BV_TEST_PAM:?BV_TEST_PAM not set}"
: "${BV_SYSLOG_SHIM:?BV_SYSLOG_SHIM not set}"
srcdir=${srcdir:-.}
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"

# The code the mock sends (force_code) and a wrong one.
code=918273
wrong=550011

bv_find_pam_wrapper ||
	bv_skip "libpam_wrapper.so not found (install libpam-wrapper)"
[ -f "$BV_MODULE" ] || bv_fail "module $BV_MODULE not built"
[ -f "$BV_SYSLOG_SHIM" ] || bv_fail "$BV_SYSLOG_SHIM not built"
for prog in "${BV_TEST_PROVIDERS:-}" "${BV_TEST_LOCAL:-}" \
	"${BV_TEST_HELPER:-}"; do
	[ -z "$prog" ] || [ -x "$prog" ] || bv_fail "$prog not built"
done
command -v openssl >/dev/null 2>&1 || bv_skip "openssl not found"

bv_scratch_dir pam-tests

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

# --- the libpamtest suites ------------------------------------------------

rc=0
bv_under_pam_wrapper "$BV_TEST_PAM" ${BV_TEST_FILTER:+"$BV_TEST_FILTER"} ||
	rc=$?
# The other suites, each when its program is named.
for suite in PROVIDERS LOCAL HELPER; do
	eval "prog=\${BV_TEST_$suite:-}"
	if [ -z "$prog" ]; then
		echo "NOTE: BV_TEST_$suite not set: its suite not run" >&2
		continue
	fi
	suite_rc=0
	bv_under_pam_wrapper "$prog" ${BV_TEST_FILTER:+"$BV_TEST_FILTER"} ||
		suite_rc=$?
	[ "$rc" -ne 0 ] || rc=$suite_rc
done
# cmocka exits with the number of failed cases: 77 would read as a skip.
[ "$rc" -ne 77 ] || rc=1

# --- pamtester: a real PAM application reading the code from a pipe -------

mock() { # PATH [JSON]
	if [ $# -gt 1 ]; then
		curl -fsS --cacert "$dir/pki/ca.pem" \
			-H 'Content-Type: application/json' \
			--data "$2" "$mock_url$1" >/dev/null
	else
		curl -fsS --cacert "$dir/pki/ca.pem" "$mock_url$1"
	fi
}

write_conf() { # [extra top-level settings]
	cat >"$conf" <<EOF
provider = "baxverify";
baxverify = {
  api_url = "$mock_url/v1";
  project_id = "$bv_project_id";
  api_key = "$bv_api_key";
};
http = {
  ca_file = "$dir/pki/ca.pem";
  connect_timeout = 5;
  timeout = 5;
};
phones = { file = "$dir/baxverify.phones"; };
store = { dir = "$dir/pamtester-store"; };
helper = "$BV_HELPER";
${1:-}
EOF
	chmod 600 "$conf"
}

pt_failed=0
pt_check() { # NAME EXPECTED-EXIT NEEDLE -- (stdin feeder is $feed)
	name=$1 want=$2 needle=$3
	got=0
	: >"$dir/syslog"
	eval "$feed" |
		bv_under_pam_wrapper pamtester -v bv alice authenticate \
		>"$dir/pamtester.out" 2>&1 || got=$?
	if [ "$got" -ne "$want" ] ||
		! grep -qF -- "$needle" "$dir/pamtester.out"; then
		echo "FAIL: pamtester $name: exit $got (want $want):" >&2
		sed 's/^/    /' "$dir/pamtester.out" >&2
		pt_failed=1
		return 0
	fi
	for secret in "$bv_api_key" "$bv_tryvox_key" "$code" "$wrong"; do
		if grep -qF -- "$secret" "$dir/pamtester.out" \
			"$dir/syslog"; then
			echo "FAIL: pamtester $name: \"$secret\" leaked" >&2
			pt_failed=1
		fi
	done
	echo "PASS: pamtester $name"
}

if ! command -v pamtester >/dev/null 2>&1; then
	echo "SKIP: pamtester not installed" >&2
elif ! command -v curl >/dev/null 2>&1; then
	echo "SKIP: pamtester checks need curl" >&2
else
	printf 'alice +14155552671\n' >"$dir/baxverify.phones"
	chmod 600 "$dir/baxverify.phones"

	write_conf
	mock /_mock/reset '{}'
	mock /_mock/config "{\"force_code\": \"$code\"}"
	feed="echo $code"
	pt_check "right code" 0 "successfully authenticated"

	# misc_conv takes one read(2) per prompt: the second answer must not
	# arrive before the first prompt has been read.
	mock /_mock/reset '{}'
	mock /_mock/config "{\"force_code\": \"$code\"}"
	feed="{ echo $wrong; sleep 1; echo $code; }"
	pt_check "wrong then right code" 0 "Wrong code. 2 attempt(s) left."

	write_conf "max_tries = 1;"
	mock /_mock/reset '{}'
	mock /_mock/config "{\"force_code\": \"$code\"}"
	feed="echo $wrong"
	pt_check "wrong code" 1 "Too many wrong codes."
fi

if [ "$rc" -eq 0 ] && [ "$pt_failed" -ne 0 ]; then
	rc=1
fi
exit "$rc"
