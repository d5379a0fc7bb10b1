#!/bin/sh
# The unit, PAM and CLI suites again, built with AddressSanitizer and
# UndefinedBehaviorSanitizer (-fno-sanitize-recover=all), in a fresh copy
# of the distribution so the main build is untouched.  Under pam_wrapper
# libasan must come first in LD_PRELOAD; the runners do that from
# BV_PRELOAD_FIRST.  Slow suites are skipped here (BV_QUICK=1): they run
# in the main `make check`.  Usage: tests/run-sanitizers.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top"
libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "run-sanitizers: libasan not found" >&2; exit 1; }

work=$(mktemp -d /tmp/bv-asan.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
make -s distdir distdir="$work/src" >/dev/null
cd "$work/src"
./configure --quiet --enable-werror --enable-sanitizers >/dev/null
make -s -j2 >/dev/null
# Address and undefined-behaviour errors fail every suite.  Leak reports
# are kept for the unit and CLI suites; in the PAM suites the test
# programs fork and leave authentications in flight by design, so their
# exit-time leak reports say nothing about the module: its leaks are
# measured by the valgrind loop test (tests/pam/run-hardening.sh).
# libcrypt too: loaded only later (with the module), its crypt_r jumps to
# address 0 under ASan's interceptors.
libcrypt=$(ldconfig -p | sed -n 's/^[[:space:]]*libcrypt\.so\.1 .*=> //p' |
	head -n 1)
export BV_QUICK=1 BV_PRELOAD_FIRST="$libasan${libcrypt:+ $libcrypt}"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pam_suites="tests/pam/test_pam tests/pam/test_providers tests/pam/test_local
tests/pam/test_helper tests/pam/run-pamtester.sh"
pam_suites=$(echo $pam_suites) # one line, single spaces
if make -s -j2 check TESTS="$(make -s print-tests | tr ' ' '\n' |
	grep -v -x -F "$(echo "$pam_suites" | tr ' ' '\n')" |
	tr '\n' ' ')" &&
	ASAN_OPTIONS=detect_leaks=0 make -s -j2 check TESTS="$pam_suites"; then
	echo "sanitizer suites: passed"
else
	find . -name '*.log' -path './tests/*' -exec grep -l -E \
		'ERROR: AddressSanitizer|runtime error|^FAIL' {} + 2>/dev/null |
		while read -r log; do echo "== $log"; tail -50 "$log"; done
	exit 1
fi
