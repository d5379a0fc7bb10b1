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
# Leak checking stays on for our own programs; the PAM applications under
# test (pamtester) are not ours, so their exit-time leaks do not count.
if BV_QUICK=1 BV_PRELOAD_FIRST="$libasan" \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -s -j2 check; then
	echo "sanitizer suites: passed"
else
	find . -name '*.log' -path './tests/*' -exec grep -l -E \
		'ERROR: AddressSanitizer|runtime error|^FAIL' {} + 2>/dev/null |
		while read -r log; do echo "== $log"; tail -50 "$log"; done
	exit 1
fi
