#!/bin/sh
# run-pamtester.sh - pamtester, a real PAM application reading the code
# from a pipe, authenticates through the built module under pam_wrapper
# against the loopback mock: the right code, a wrong then the right one,
# and a wrong one with max_tries = 1.  No secret may reach its output or
# syslog.
#
# Started by `make check` (TESTS) with BV_MODULE, BV_HELPER,
# BV_SYSLOG_SHIM and srcdir (see run-pam-tests.sh).  Skips (77) without
# pam_wrapper, pamtester, curl or openssl.  Works in a scratch directory,
# stops the mock by its PID and removes the directory on exit.

set -eu

: "${BV_MODULE:?BV_MODULE not set}"
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
command -v openssl >/dev/null 2>&1 || bv_skip "openssl not found"
command -v pamtester >/dev/null 2>&1 || bv_skip "pamtester not installed"
command -v curl >/dev/null 2>&1 || bv_skip "the pamtester checks need curl"

bv_scratch_dir pamtester
bv_make_ca
# shellcheck disable=SC2119 # no extra arguments for the mock
bv_start_mock
conf="$dir/baxverify.conf"
bv_service bv
bv_write_other_service "$dir/pam.d"
bv_set_preload

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
	bv_write_conf "$conf" http.timeout=5 "store.dir=$dir/pamtester-store" \
		${1:+"+$1"}
}

# A write to a FIFO whose reader is gone fails (EPIPE) instead.
trap '' PIPE

# pt_wait NEEDLE: until pamtester's output holds NEEDLE (true) or it has
# exited (false); 60 s at most, for a hang, never a window a step races.
pt_wait() {
	i=0
	while ! grep -qF -- "$1" "$dir/pamtester.out"; do
		kill -0 "$pt_pid" 2>/dev/null || return 1
		i=$((i + 1))
		[ "$i" -le 600 ] || return 1
		sleep 0.1
	done
}

# pt_check NAME EXPECTED-EXIT NEEDLE ANSWER [AFTER ANSWER]...: pamtester
# authenticates alice through the service bv, reading its answers from a
# FIFO: the first at once, each later one only once the output holds
# AFTER.  misc_conv reads one answer per prompt: an answer written before
# the previous prompt was read would be read with it.
pt_failed=0
pt_check() {
	name=$1 want=$2 needle=$3
	shift 3
	got=0
	: >"$dir/syslog"
	: >"$dir/pamtester.out"
	rm -f "$dir/answers"
	mkfifo -m 600 "$dir/answers"
	bv_under_pam_wrapper pamtester -v bv alice authenticate \
		<"$dir/answers" >"$dir/pamtester.out" 2>&1 &
	pt_pid=$!
	exec 3>"$dir/answers"
	printf '%s\n' "$1" >&3 || :
	shift
	while [ $# -ge 2 ] && pt_wait "$1"; do
		printf '%s\n' "$2" >&3 || :
		shift 2
	done
	exec 3>&-
	wait "$pt_pid" || got=$?
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

printf 'alice +14155552671\n' >"$dir/baxverify.phones"
chmod 600 "$dir/baxverify.phones"

write_conf
mock /_mock/reset '{}'
mock /_mock/config "{\"force_code\": \"$code\"}"
pt_check "right code" 0 "successfully authenticated" "$code"

# The right code goes in once the wrong one was refused.
mock /_mock/reset '{}'
mock /_mock/config "{\"force_code\": \"$code\"}"
pt_check "wrong then right code" 0 "Wrong code. 2 attempt(s) left." \
	"$wrong" "Wrong code." "$code"

write_conf "max_tries = 1;"
mock /_mock/reset '{}'
mock /_mock/config "{\"force_code\": \"$code\"}"
pt_check "wrong code" 1 "Too many wrong codes." "$wrong"
exit "$pt_failed"
