#!/bin/sh
# run-biggroup.sh - groups = ["biggroup"] when biggroup's /etc/group line
# is 13 KB (about a thousand members), larger than a fixed 8 KiB lookup
# buffer: the member must still be asked for a code, never skipped
# (PAM_IGNORE, which under sudo or su lets the password alone through).
#
# Started by `make check` with BV_MODULE and BV_SYSLOG_SHIM (see
# run-pam-tests.sh) and srcdir.  Needs root, unshare, pamtester and
# pam_wrapper; skips (77) otherwise.  In a private mount namespace
# (unshare --mount --propagation private) a copy of /etc/group with the
# big line added is bind-mounted over /etc/group, and pamtester
# authenticates root (a member of biggroup there) under pam_wrapper with
# the local provider, which writes the code it sends to a file.  Nothing
# outside the namespace and the scratch directory changes.

set -eu

: "${BV_MODULE:?BV_MODULE not set}"
: "${BV_SYSLOG_SHIM:?BV_SYSLOG_SHIM not set}"
srcdir=${srcdir:-.}
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"

[ "$(id -u)" -eq 0 ] || bv_skip "needs root (a private mount namespace)"
command -v pamtester >/dev/null 2>&1 || bv_skip "pamtester not installed"
command -v unshare >/dev/null 2>&1 || bv_skip "unshare not installed"
bv_find_pam_wrapper ||
	bv_skip "libpam_wrapper.so not found (install libpam-wrapper)"
unshare --mount --propagation private true 2>/dev/null ||
	bv_skip "unshare --mount is not permitted here"
[ -f "$BV_MODULE" ] || bv_fail "module $BV_MODULE not built"
[ -f "$BV_SYSLOG_SHIM" ] || bv_fail "$BV_SYSLOG_SHIM not built"

bv_scratch_dir biggroup

# A gid no group of this host has.
gid=64990
while getent group "$gid" >/dev/null 2>&1; do
	gid=$((gid + 1))
done
{
	cat /etc/group
	printf 'biggroup:x:%s:' "$gid"
	i=1
	while [ "$i" -le 1000 ]; do
		printf 'bvmember%04d,' "$i"
		i=$((i + 1))
	done
	printf 'root\n'
	# A small group root is not in, for the control case.
	printf 'bvothergroup:x:%s:nobody\n' "$((gid + 1000))"
} >"$dir/group"
chmod 644 "$dir/group"
line=$(grep '^biggroup:' "$dir/group" | wc -c)
[ "$line" -gt 13000 ] || bv_fail "the biggroup line is only $line bytes"

conf="$dir/baxverify.conf"
printf 'root +447700900123\n' >"$dir/phones"
chmod 644 "$dir/phones"

write_conf() { # GROUP: the local provider, codes to $dir/outbox
	bv_write_conf "$conf" provider=local local.delivery=file \
		"local.file=$dir/outbox" "phones.file=$dir/phones" \
		phones.gecos=false "groups=[\"$1\"]" max_tries=1
}

bv_service bv
bv_write_other_service "$dir/pam.d"
bv_set_preload

# auth GROUP: pamtester authenticates root, answering a wrong code, in the
# namespace with the big /etc/group; its output in $dir/out.
auth() {
	write_conf "$1"
	rm -f "$dir/outbox"
	: >"$dir/syslog"
	got=0
	echo 000000 | timeout 60 unshare --mount --propagation private sh -c '
		mount --bind "$1" /etc/group || exit 98
		shift
		exec "$@"' sh "$dir/group" \
		env ${bv_deepbind:+PAM_WRAPPER_DISABLE_DEEPBIND=1} \
		LD_PRELOAD="$preload" PAM_WRAPPER=1 PAM_WRAPPER_USE_SYSLOG=1 \
		PAM_WRAPPER_SERVICE_DIR="$dir/pam.d" \
		BV_SYSLOG_FILE="$dir/syslog" \
		pamtester -v bv root authenticate >"$dir/out" 2>&1 || got=$?
	[ "$got" -ne 98 ] || bv_fail "cannot bind-mount over /etc/group"
}

failed=0
fail() {
	echo "FAIL: $*" >&2
	sed 's/^/    out: /' "$dir/out" >&2
	[ ! -s "$dir/syslog" ] || sed 's/^/    log: /' "$dir/syslog" >&2
	failed=1
}

# The member of the 13 KB group is asked: a code went out, the wrong
# answer was refused.
auth biggroup
deliveries=0
[ ! -f "$dir/outbox" ] || deliveries=$(wc -l <"$dir/outbox")
if [ "$deliveries" -ne 1 ] || ! grep -q "Too many wrong codes" "$dir/out" ||
	grep -q "Module is unknown" "$dir/out"; then
	fail "root in the 13 KB biggroup was not asked for a code" \
		"($deliveries code(s) sent)"
else
	echo "PASS: a member of a 13 KB group is asked for a code"
fi

# Control: with another group configured, the same lookups skip root
# (PAM_IGNORE, which the stack shows as "Module is unknown").
auth bvothergroup
if [ -s "$dir/outbox" ] || ! grep -q "Module is unknown" "$dir/out"; then
	fail "root, not in bvothergroup, was not skipped"
else
	echo "PASS: a user outside the configured group is skipped"
fi

exit "$failed"
