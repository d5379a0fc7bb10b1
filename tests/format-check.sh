#!/bin/sh
# tests/format-check.sh [--fix] - the C sources' whitespace is
# .clang-format's: lists every file clang-format would change and exits 1
# (0 when none would change); --fix rewrites them instead.  Run by
# `make format-check` (a stage of ./quickstart check) and `make format`.
set -u
top=${srcdir:-.}
command -v clang-format >/dev/null 2>&1 || {
	echo "format-check: clang-format not found (apt-get install clang-format)" >&2
	exit 1
}
files=$(ls "$top"/src/*/*.[ch] "$top"/tests/*/*.[ch] "$top"/bench/*.c)
if [ "${1:-}" = --fix ]; then
	# shellcheck disable=SC2086 # one path a word: no blanks in them
	exec clang-format -i $files
fi
bad=0
for f in $files; do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "format-check: $f differs from .clang-format (make format)"
		bad=1
	fi
done
[ "$bad" = 0 ] && echo "format-check: $(echo "$files" | wc -l) files as .clang-format has them"
exit "$bad"
