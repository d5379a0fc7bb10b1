#!/bin/sh
# agreement.sh - `baxverify check` and the module judge one installation
# alike.  Each row of the table breaks one thing the administrator owns
# (the delivery command, the phones file, the store and its host key, the
# helper); then `baxverify check --user root` and a real PAM
# authentication of root (pamtester under pam_wrapper, the built module
# and helper) run on it.
# A row passes when both refuse it, or, for the healthy rows, when check
# says ok and the module gets as far as sending a code.
#
# Started by `make check` with BV_CLI, BV_MODULE, BV_HELPER,
# BV_SYSLOG_SHIM and srcdir in the environment.  Needs root (files owned
# by nobody, a root-owned helper) and pamtester; skipped otherwise.
set -u

srcdir=${srcdir:-.}
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"

[ "$(id -u)" -eq 0 ] || bv_skip "needs root (files owned by nobody)"
command -v pamtester >/dev/null 2>&1 || bv_skip "pamtester not installed"
bv_find_pam_wrapper ||
	bv_skip "libpam_wrapper.so not found (install libpam-wrapper)"
[ -x "$BV_CLI" ] || bv_fail "$BV_CLI not built"
[ -f "$BV_MODULE" ] || bv_fail "module $BV_MODULE not built"
[ -x "$BV_HELPER" ] || bv_fail "helper $BV_HELPER not built"
[ -x "$(dirname "$BV_HELPER")/baxverify-helper-local" ] ||
	bv_fail "baxverify-helper-local not built beside $BV_HELPER"

bv_scratch_dir agreement
conf=$dir/baxverify.conf
mock_url= # no API: the local provider only
bv_service bv
bv_write_other_service "$dir/pam.d"
bv_set_preload

# --- the healthy installation, rebuilt before each row --------------------

fresh() {
	rm -rf "$dir/inst"
	mkdir "$dir/inst"
	inst=$dir/inst
	printf 'root +14155552671\n' >"$inst/phones"
	chmod 644 "$inst/phones"
	printf '#!/bin/sh\necho sent >>"%s/delivered"\n' "$inst" >"$inst/sms"
	chmod 755 "$inst/sms"
	# The helper, and beside it the one a local-only configuration
	# gets (the helper the module starts: check it, not the other).
	cp "$BV_HELPER" "$inst/baxverify-helper"
	cp "$(dirname "$BV_HELPER")/baxverify-helper-local" "$inst/baxverify-helper-local"
	chmod 755 "$inst/baxverify-helper" "$inst/baxverify-helper-local"
	delivery="delivery = \"command\"; command = \"$inst/sms\";"
	extra=
}

# The local provider; $delivery: its delivery settings, $extra: more
# top-level text (bv_write_conf, tests/mock/lib.sh).
write_conf() {
	bv_write_conf "$conf" provider=local "local{  $delivery" \
		"phones.file=$inst/phones" "store.dir=$inst/store" \
		"helper=$inst/baxverify-helper" max_tries=1 ${extra:+"+$extra"}
}

# --- the two judges -------------------------------------------------------

# check_says: "ok" or "refused" from baxverify check's exit status.
check_says() {
	if "$BV_CLI" --conf "$conf" check --user root >"$dir/check.out" 2>&1
	then
		echo ok
	else
		echo refused
	fi
}

# module_says: "ok" when a code went out (the wrong answer then ends the
# login), "refused" when the module denied the installation before any
# code could go (the administrator's line: misconfigured, or failed on
# this host), "other" for anything else.
module_says() {
	rm -f "$inst/delivered"
	: >"$dir/syslog"
	echo 000000 | bv_under_pam_wrapper pamtester -v bv root authenticate \
		>"$dir/module.out" 2>&1
	if [ -s "$inst/delivered" ] && grep -q "Too many wrong codes" \
		"$dir/module.out"; then
		echo ok
	elif [ ! -e "$inst/delivered" ] && grep -q \
		-e "misconfigured. Contact your administrator" \
		-e "Verification failed on this host" "$dir/module.out"; then
		echo refused
	else
		echo other
	fi
}

# list_says: "ok" or "refused" from baxverify list's exit status (it
# reads only the phones file).
list_says() {
	if "$BV_CLI" --conf "$conf" list >"$dir/list.out" 2>&1; then
		echo ok
	else
		echo refused
	fi
}

failed=0
n=0
# row NAME EXPECTED [LIST]: check and the module must say EXPECTED ("ok"
# or "refused"); baxverify list must say LIST (default ok: only the
# phones file concerns it).
row() {
	n=$((n + 1))
	write_conf
	c=$(check_says)
	m=$(module_says)
	l=$(list_says)
	if [ "$c" = "$2" ] && [ "$m" = "$2" ] && [ "$l" = "${3:-ok}" ]; then
		echo "ok $n - $1: check $c, module $m, list $l"
		return
	fi
	echo "not ok $n - $1: expected $2 (list ${3:-ok}); check $c," \
		"module $m, list $l"
	sed 's/^/    check: /' "$dir/check.out"
	sed 's/^/    list: /' "$dir/list.out"
	sed 's/^/    module: /' "$dir/module.out"
	[ ! -s "$dir/syslog" ] || sed 's/^/    log: /' "$dir/syslog"
	failed=1
}

# --- the table ------------------------------------------------------------

fresh
row "healthy installation" ok

fresh
chown nobody "$inst/sms"
row "delivery command owned by nobody" refused

fresh
chmod 775 "$inst/sms"
row "delivery command group-writable" refused

fresh
chmod 757 "$inst/sms"
row "delivery command world-writable" refused

fresh
rm "$inst/sms"
row "delivery command missing" refused

fresh
mv "$inst/sms" "$inst/sms.real"
ln -s "$inst/sms.real" "$inst/sms"
row "delivery command a symbolic link" refused

fresh
chmod 644 "$inst/sms"
row "delivery command not executable" refused

fresh
chmod 666 "$inst/phones"
row "phones file world-writable" refused refused

fresh
chown nobody "$inst/phones"
row "phones file owned by nobody" refused refused

fresh
printf 'root +1415555\n' >"$inst/phones"
row "phones file: the user's line invalid" refused

fresh
mv "$inst/phones" "$inst/phones.real"
ln -sf "$inst/phones.real" "$inst/phones"
row "phones file a symbolic link" refused refused

fresh
mkdir -m 755 "$inst/store"
row "store directory readable by others" refused

# The local provider's host key (.host.key): made by the first login,
# refused when anyone but root could have read or replaced it.
key() {
	mkdir -m 700 "$inst/store"
	head -c "${1:-32}" /dev/urandom >"$inst/store/.host.key"
	chmod 600 "$inst/store/.host.key"
}

fresh
key
row "host key made earlier" ok

fresh
key
chmod 640 "$inst/store/.host.key"
row "host key group-readable" refused

fresh
key
chown nobody "$inst/store/.host.key"
row "host key owned by nobody" refused

fresh
key 31
row "host key of 31 bytes" refused

fresh
key
mv "$inst/store/.host.key" "$inst/host.key"
ln -s "$inst/host.key" "$inst/store/.host.key"
row "host key a symbolic link" refused

fresh
chown nobody "$inst/baxverify-helper-local"
row "helper owned by nobody" refused

fresh
chmod 775 "$inst/baxverify-helper-local"
row "helper group-writable" refused

fresh
delivery="delivery = \"file\"; file = \"$inst/outbox\";"
mkdir "$inst/outbox"
row "delivery file a directory" refused

fresh
extra="http = { ca_file = \"$inst/no-such-ca.pem\"; };"
row "http.ca_file missing" refused refused

fresh
mkdir "$inst/ca.pem"
extra="http = { ca_file = \"$inst/ca.pem\"; };"
row "http.ca_file a directory" refused refused

echo "1..$n"
exit "$failed"
