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
python=/usr/bin/python3
[ -x "$python" ] || python=python3

# Must match API_KEY, PROJECT_ID, TRYVOX_KEY, TENANT_ID and MUDBASE_PROJECT
# in harness.h.
api_key=sk_test_SECRET_9f8e7d
project_id=proj_test
tryvox_key=tvx_sk_test_K3y9Qz7Wm4
tenant_id=acc_test
mudbase_project=proj_mud
code=918273
wrong=550011

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# libpam_wrapper.so: where pkg-config says, else the usual places.
pam_wrapper_lib=
pw_libdir=$(pkg-config --variable=libdir pam_wrapper 2>/dev/null || :)
for lib in ${pw_libdir:+"$pw_libdir/libpam_wrapper.so"} \
	/usr/lib/x86_64-linux-gnu/libpam_wrapper.so \
	/usr/lib64/libpam_wrapper.so /usr/lib/libpam_wrapper.so \
	/usr/local/lib/libpam_wrapper.so; do
	if [ -f "$lib" ]; then
		pam_wrapper_lib=$lib
		break
	fi
done
[ -n "$pam_wrapper_lib" ] ||
	skip "libpam_wrapper.so not found (install libpam-wrapper)"
fail() {
	echo "FAIL: $*" >&2
	exit 99
}
[ -f "$BV_MODULE" ] || fail "module $BV_MODULE not built"
[ -f "$BV_SYSLOG_SHIM" ] || fail "$BV_SYSLOG_SHIM not built"
if [ -n "${BV_TEST_PROVIDERS:-}" ]; then
	[ -x "$BV_TEST_PROVIDERS" ] || fail "$BV_TEST_PROVIDERS not built"
fi
if [ -n "${BV_TEST_LOCAL:-}" ]; then
	[ -x "$BV_TEST_LOCAL" ] || fail "$BV_TEST_LOCAL not built"
fi
command -v openssl >/dev/null 2>&1 || skip "openssl not found"

dir=
mock_pid=
cleanup() {
	if [ -n "$mock_pid" ]; then
		kill "$mock_pid" 2>/dev/null || :
		wait "$mock_pid" 2>/dev/null || :
	fi
	[ -z "$dir" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dir=$(mktemp -d "${TMPDIR:-/tmp}/bv-pam-tests.XXXXXX")
chmod 700 "$dir"
umask 077

# --- the test CA and the mock ---------------------------------------------

sh "$srcdir/tests/mock/make-ca.sh" "$dir/pki" >"$dir/make-ca.log" 2>&1 || {
	cat "$dir/make-ca.log" >&2
	fail "make-ca.sh"
}

"$python" "$srcdir/tests/mock/mock_baxverify.py" \
	--cert "$dir/pki/server.pem" --key "$dir/pki/server.key" \
	--port 0 --port-file "$dir/port" \
	--project-id "$project_id" --api-key "$api_key" \
	--tryvox-key "$tryvox_key" --tenant-id "$tenant_id" \
	--mudbase-project "$mudbase_project" \
	>"$dir/mock.log" 2>&1 &
mock_pid=$!

i=0
while [ ! -s "$dir/port" ]; do
	if ! kill -0 "$mock_pid" 2>/dev/null; then
		cat "$dir/mock.log" >&2
		mock_pid=
		fail "the mock server exited"
	fi
	i=$((i + 1))
	[ "$i" -le 100 ] || fail "the mock server did not start within 10 s"
	sleep 0.1
done
port=$(cat "$dir/port")
mock_url="https://127.0.0.1:$port"

# --- PAM service files ----------------------------------------------------

# A stack whose result is exactly what pam_baxverify returned: libpam turns
# a stack in which every module said PAM_IGNORE into PAM_PERM_DENIED, so
# "ignore" falls through to pam_debug, which answers PAM_MODULE_UNKNOWN, a
# code no module returns; test_pam.c reads that as PAM_IGNORE.  Any other
# answer ends the stack with pam_baxverify's own return code ("done").
conf="$dir/baxverify.conf"
mkdir "$dir/pam.d"
service() { # NAME [module arguments...]
	name=$1
	shift
	{
		printf 'auth [ignore=ignore default=done] %s conf=%s%s\n' \
			"$BV_MODULE" "$conf" "${*:+ $*}"
		echo "auth required pam_debug.so auth=module_unknown"
		echo "account required pam_permit.so"
	} >"$dir/pam.d/$name"
}
service bv
service bv_nullok nullok
service bv_safe failmode=safe
service bv_debug debug
service bv_session
echo "session optional $BV_MODULE conf=$conf consume_token" \
	>>"$dir/pam.d/bv_session"
service bv_badarg frobnicate
# The session's own answer, with PAM_IGNORE made visible as in the auth
# stacks above (test_providers.c reads PAM_MODULE_UNKNOWN as PAM_IGNORE).
service bv_session_ignore
{
	printf 'session [ignore=ignore default=done] %s conf=%s consume_token\n' \
		"$BV_MODULE" "$conf"
	echo "session required pam_debug.so open_session=module_unknown"
} >>"$dir/pam.d/bv_session_ignore"
# The grace window (test_local.c): two services that remember a success.
service bv_remember remember=300
service bv_remember2 remember=300
cat >"$dir/pam.d/other" <<EOF
auth required pam_deny.so
account required pam_deny.so
password required pam_deny.so
session required pam_deny.so
EOF

preload="$pam_wrapper_lib $BV_SYSLOG_SHIM"
deepbind=
if [ -n "${BV_PRELOAD_FIRST:-}" ]; then
	preload="$BV_PRELOAD_FIRST $preload"
	deepbind=1
fi

# Run a command under pam_wrapper; the variables reach only that command.
under_pam_wrapper() {
	env BV_TESTDIR="$dir" BV_MOCK_URL="$mock_url" \
		BV_CA_FILE="$dir/pki/ca.pem" BV_SYSLOG_FILE="$dir/syslog" \
		${deepbind:+PAM_WRAPPER_DISABLE_DEEPBIND=1} \
		${deepbind:+UID_WRAPPER_DISABLE_DEEPBIND=1} \
		LD_PRELOAD="$preload" PAM_WRAPPER=1 PAM_WRAPPER_USE_SYSLOG=1 \
		PAM_WRAPPER_SERVICE_DIR="$dir/pam.d" "$@"
}

# The local provider's test delivery commands, next to the outbox they
# write (they find it from their own path: their environment is empty).
for script in "$srcdir"/tests/pam/sms-*.sh; do
	[ -f "$script" ] || continue
	cp "$script" "$dir/"
	chmod 700 "$dir/${script##*/}"
done

# --- the libpamtest suites ------------------------------------------------

rc=0
under_pam_wrapper "$BV_TEST_PAM" ${BV_TEST_FILTER:+"$BV_TEST_FILTER"} || rc=$?
if [ -n "${BV_TEST_PROVIDERS:-}" ]; then
	prc=0
	under_pam_wrapper "$BV_TEST_PROVIDERS" \
		${BV_TEST_FILTER:+"$BV_TEST_FILTER"} || prc=$?
	[ "$rc" -ne 0 ] || rc=$prc
else
	echo "NOTE: BV_TEST_PROVIDERS not set: test_providers not run" >&2
fi
if [ -n "${BV_TEST_LOCAL:-}" ]; then
	lrc=0
	under_pam_wrapper "$BV_TEST_LOCAL" \
		${BV_TEST_FILTER:+"$BV_TEST_FILTER"} || lrc=$?
	[ "$rc" -ne 0 ] || rc=$lrc
else
	echo "NOTE: BV_TEST_LOCAL not set: test_local not run" >&2
fi
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
  project_id = "$project_id";
  api_key = "$api_key";
};
http = {
  ca_file = "$dir/pki/ca.pem";
  connect_timeout = 5;
  timeout = 5;
};
phones = { file = "$dir/baxverify.phones"; };
store = { dir = "$dir/pamtester-store"; };
${1:-}
EOF
	chmod 600 "$conf"
}

pt_failed=0
pt_check() { # NAME EXPECTED-EXIT NEEDLE -- (stdin feeder is $feed)
	name=$1 want=$2 needle=$3
	got=0
	: >"$dir/syslog"
	eval "$feed" | under_pam_wrapper pamtester -v bv alice authenticate \
		>"$dir/pamtester.out" 2>&1 || got=$?
	if [ "$got" -ne "$want" ] ||
		! grep -qF -- "$needle" "$dir/pamtester.out"; then
		echo "FAIL: pamtester $name: exit $got (want $want):" >&2
		sed 's/^/    /' "$dir/pamtester.out" >&2
		pt_failed=1
		return 0
	fi
	for secret in "$api_key" "$tryvox_key" "$code" "$wrong"; do
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
