#!/bin/sh
# Static checks: cppcheck over src/, then the clang static analyzer
# (scan-build) over a full build of a fresh copy of the distribution.
# Either finding anything fails the run.  Needs a configured tree (for
# config.h and `make distdir`).  Usage: tests/static/run-static.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$top"
for tool in cppcheck scan-build; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "run-static: $tool not found (apt-get install cppcheck clang-tools)" >&2
		exit 1
	}
done

echo "==> cppcheck"
# Warnings, not style: the house style owns style, and -Werror the rest.
cppcheck --enable=warning,performance,portability --error-exitcode=1 \
	--inline-suppr --quiet --std=c11 -I. \
	--suppress=missingIncludeSystem src

echo "==> scan-build"
work=$(mktemp -d /tmp/bv-static.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
make -s distdir distdir="$work/src" >/dev/null
cd "$work/src"
scan-build ./configure --quiet >/dev/null
scan-build --status-bugs -o "$work/report" make -s -j2 >"$work/build.log" 2>&1 || {
	grep -E 'warning:|error:' "$work/build.log" || cat "$work/build.log"
	echo "run-static: the static analyzer reported problems" >&2
	exit 1
}
grep -E '^scan-build: ' "$work/build.log" || true
echo "static checks: clean"
