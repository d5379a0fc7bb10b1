#!/bin/sh
# examples.sh - every PAM stack in pam.d-examples/ is a tested one.
#
# Started by `make check` (automake TESTS) with srcdir in the environment.
# Needs no root and starts nothing.  For each file in pam.d-examples/:
#   - an end-to-end test (sshd.sh or sudo.sh) builds its PAM stack from it
#     with a literal "e2e_pam_from_example NAME" line, so a new example
#     without a test fails here;
#   - Makefile.am distributes it (EXTRA_DIST), so the check also runs on
#     the tarball (make distcheck);
#   - no auth line makes the module optional or sufficient (the code
#     would then decide nothing);
#   - the stack the tests run is the example with only the module path,
#     its conf= (and the test's extra arguments) and the @include lines
#     expanded: undoing those gives the example back byte for byte
#     (needs Debian's /etc/pam.d/common-*; that part is skipped without).

set -u

e2e_here=$(cd "$(dirname "$0")" && pwd)
srcdir=${srcdir:-$e2e_here/../..}
# shellcheck source=tests/e2e/lib.sh
. "$e2e_here/lib.sh"

examples=$srcdir/pam.d-examples
tests="$srcdir/tests/e2e/sshd.sh $srcdir/tests/e2e/sudo.sh"
[ -d "$examples" ] || e2e_hard "$examples missing"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/bv-e2e-examples.XXXXXX") ||
	e2e_hard "mktemp"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# What e2e_pam_from_example needs, with stand-ins.
BV_MODULE=/nonexistent/.libs/pam_baxverify.so
e2e_conf=/nonexistent/baxverify.conf
fidelity=yes
for f in common-auth common-account common-session \
	common-session-noninteractive common-password; do
	[ -f "/etc/pam.d/$f" ] || fidelity=
done
[ -n "$fidelity" ] ||
	echo "NOTE: /etc/pam.d/common-* missing: generated stacks not compared"

n=0
for path in "$examples"/*; do
	[ -f "$path" ] || continue
	name=${path##*/}
	n=$((n + 1))

	used=
	for t in $tests; do
		if grep -Eq "^[[:space:]]*e2e_pam_from_example[[:space:]]+$name\
([[:space:]]|\$)" "$t"; then
			used="$used ${t##*/}"
		fi
	done
	if [ -n "$used" ]; then
		e2e_pass "$name: exercised by$used"
	else
		e2e_fail "$name: exercised by no end-to-end test (add one to tests/e2e/)"
	fi

	if grep -Eq "(^|[[:space:]])pam.d-examples/$name([[:space:]]|\\\\|\$)" \
		"$srcdir/Makefile.am"; then
		e2e_pass "$name: in EXTRA_DIST"
	else
		e2e_fail "$name: not in Makefile.am's EXTRA_DIST"
	fi

	bad=$(awk '/^[ \t]*#/ { next }
		$1 == "auth" && /pam_baxverify\.so/ &&
		($2 == "optional" || $2 == "sufficient" ||
		 $2 ~ /default=(ignore|ok|done)/) { print FNR": "$0 }' "$path")
	if [ -z "$bad" ]; then
		e2e_pass "$name: the module decides (no optional/sufficient auth line)"
	else
		e2e_fail "$name: auth line lets the code decide nothing: $bad"
	fi

	[ -n "$fidelity" ] || continue
	# Generate as the tests do, then undo: the module path and its
	# arguments back to "pam_baxverify.so", each expanded include back
	# to its @include line.
	(e2e_pam_from_example "$name" "$scratch/$name" remember=300) ||
		e2e_hard "cannot generate a stack from $name"
	awk -v mod="$BV_MODULE" -v conf="$e2e_conf" '
	/^# --- @include / { inc = $4; skip = 1; next }
	skip && /^# --- end of / { print "@include " inc; skip = 0; next }
	skip { next }
	/^[ \t]*#/ { print; next }
	{
		i = index($0, mod " conf=" conf)
		if (i) {
			rest = substr($0, i + length(mod " conf=" conf))
			sub(/^ remember=300/, "", rest)
			$0 = substr($0, 1, i - 1) "pam_baxverify.so" rest
		}
		print
	}' "$scratch/$name" >"$scratch/$name.undone"
	if cmp -s "$path" "$scratch/$name.undone"; then
		e2e_pass "$name: the tested stack is the example, only substituted"
	else
		diff "$path" "$scratch/$name.undone" >"$scratch/$name.diff"
		e2e_fail "$name: the tested stack differs from the example" \
			"$scratch/$name.diff"
	fi
done
[ "$n" -gt 0 ] || e2e_fail "no file in $examples"
e2e_finish
