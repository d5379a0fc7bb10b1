#!/bin/sh
# The house style bans these libc calls (unbounded or error-blind); any use
# in src/ fails the build's test suite.
set -u
src=${srcdir:-.}/src
hits=$(grep -rnE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|gets|atoi|atol|sscanf)[[:space:]]*\(' \
	"$src" --include='*.c' --include='*.h' | grep -vE ':[0-9]+:[[:space:]]*(/\*|\*)')
if [ -n "$hits" ]; then
	echo "banned functions used:"
	echo "$hits"
	exit 1
fi
echo "no banned functions in $src"
exit 0
