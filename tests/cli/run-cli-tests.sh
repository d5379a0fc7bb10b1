#!/bin/sh
# run-cli-tests.sh - baxverify(8), the administrator's command, run as a
# process against the loopback mock (BaxVerify, Tryvox and Mudbase on one
# HTTPS port).
#
# Started by `make check` (automake TESTS) with, in the environment:
#   BV_CLI   the built baxverify program
#   srcdir   the source tree (tests/mock/ lives there)
# Optional:
#   BV_CLI_WRAPPER  a command put before the program (e.g. valgrind)
#
# Prints TAP-style "ok N - name" / "not ok N - name" lines and exits 1
# when any check failed, 77 (skip) only when python3 or openssl is
# missing, 99 on a hard error.  Everything lives in one mktemp directory,
# removed on exit; the mock is stopped by its PID.

set -u

: "${BV_CLI:?BV_CLI not set}"
srcdir=${srcdir:-.}
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"

# Keys of our own for the mock (the other settings are tests/mock/lib.sh's):
# a key no output may ever show (grep'ed at the end), and the Tryvox one.
bv_api_key=sk_test_CLI_7f3a9b2cd41e
bv_tryvox_key=tvx_sk_test_CLI_q8w7e6
code=123456
bv_fail_word=ERROR # hard errors: "ERROR: ...", exit 99

[ -n "$bv_python" ] || bv_skip "python3 not found"
command -v openssl >/dev/null 2>&1 || bv_skip "openssl not found"
[ -x "$BV_CLI" ] || bv_fail "$BV_CLI not built"

bv_scratch_dir cli-tests

# --- the test CA and the mock ---------------------------------------------

bv_make_ca
# shellcheck disable=SC2119 # no extra arguments for the mock
bv_start_mock

# mock METHOD PATH [JSON]: the control API; the answer on stdout.
mock() {
	"$bv_python" - "$mock_url" "$dir/pki/ca.pem" "$@" <<'EOF'
import json, ssl, sys, urllib.request
url, ca, method, path = sys.argv[1:5]
data = sys.argv[5].encode() if len(sys.argv) > 5 else None
req = urllib.request.Request(url + path, data=data, method=method,
                             headers={"Content-Type": "application/json"})
ctx = ssl.create_default_context(cafile=ca)
with urllib.request.urlopen(req, context=ctx) as r:
    sys.stdout.write(r.read().decode())
EOF
}

# --- configuration --------------------------------------------------------

conf=$dir/baxverify.conf
phones=$dir/baxverify.phones
store=$dir/store

# write_conf FILE [SETTING...]: BaxVerify at the mock, phones and store
# in $dir (bv_write_conf, tests/mock/lib.sh).
write_conf() {
	bv_write_conf "$@"
}
write_conf "$conf"

cat >"$phones" <<'EOF'
# test phones file -- comments must survive every edit
#   user    destinations
alice   +14155550101            # Alice's phone
bob     +447700900123   bob@example.org

	# an indented comment, a tab, trailing spaces   
carol   +61491570006
EOF
chmod 644 "$phones"
cp "$phones" "$dir/phones.orig"

# --- running the CLI and recording results --------------------------------

n=0
failed=0
: >"$dir/all-output"

# run ARGS...: the CLI with our config; output in $dir/out, status in $rc.
run() {
	rc=0
	${BV_CLI_WRAPPER:-} "$BV_CLI" --conf "$conf" "$@" >"$dir/out" \
		2>&1 </dev/null || rc=$?
	cat "$dir/out" >>"$dir/all-output"
}
# run_in TEXT ARGS...: as run, with the line TEXT on standard input.
run_in() {
	printf '%s\n' "$1" >"$dir/in"
	shift
	rc=0
	${BV_CLI_WRAPPER:-} "$BV_CLI" --conf "$conf" "$@" >"$dir/out" \
		2>&1 <"$dir/in" || rc=$?
	cat "$dir/out" >>"$dir/all-output"
}
# run_raw ARGS...: without --conf (global option tests).
run_raw() {
	rc=0
	${BV_CLI_WRAPPER:-} "$BV_CLI" "$@" >"$dir/out" 2>&1 </dev/null ||
		rc=$?
	cat "$dir/out" >>"$dir/all-output"
}

report() { # CONDITION-STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		echo "# exit status $rc; output:"
		sed 's/^/#   /' "$dir/out"
		failed=$((failed + 1))
	fi
}

# expect NAME STATUS [NEEDLE...]: last run exited STATUS, output has each.
expect() {
	name=$1 want=$2
	shift 2
	res=0
	[ "$rc" -eq "$want" ] || res=1
	for needle in "$@"; do
		grep -qF -- "$needle" "$dir/out" || res=1
	done
	report "$res" "$name"
}

# expect_not NAME NEEDLE: the last run's output lacks NEEDLE.
expect_not() {
	res=0
	! grep -qF -- "$2" "$dir/out" || res=1
	report "$res" "$1"
}

mock POST /_mock/config "{\"force_code\":\"$code\"}" >/dev/null ||
	bv_fail "mock control API"

# --- help and usage errors ------------------------------------------------

run_raw --help
expect "--help exits 0" 0 "usage: baxverify" "recovery-codes"
run_raw help verify
expect "help COMMAND" 0 "--show-token"
run check --help
expect "COMMAND --help exits 0" 0 "usage: baxverify"
run_raw --version
expect "--version" 0 "baxverify"
run_raw frobnicate
expect "unknown command exits 2" 2 "unknown command"
run_raw
expect "no command exits 2" 2 "usage:"
run_raw --bogus check
expect "unknown global option exits 2" 2 "--bogus"
run check --bogus
expect "unknown command option exits 2" 2 "--bogus"
run enroll alice
expect "enroll without DEST exits 2" 2 "missing arguments"
run verify
expect "verify without USER exits 2" 2 "missing arguments"
run verify alice
expect "verify with nothing on stdin exits 2" 2 "no code on standard input"
run send
expect "send without USER exits 2" 2
run recovery-codes
expect "recovery-codes without USER exits 2" 2
run reset alice bob
expect "reset with two users exits 2" 2 "too many"
run stats --days 0
expect "stats --days 0 exits 2" 2 "--days"
run stats --days 12x
expect "stats --days 12x exits 2" 2
run logs --limit 101
expect "logs --limit 101 exits 2" 2
run recovery-codes alice --count 33
expect "recovery-codes --count 33 exits 2" 2
run recovery-codes alice --count 3 --revoke
expect "recovery-codes --count with --revoke exits 2" 2
run send alice --id ver_x
expect "an option of another command exits 2" 2

# --- check ------------------------------------------------------------------

run check
expect "check ok" 0 "baxverify: ok" "ok"
[ "$(tail -n 1 "$dir/out")" = ok ]
report $? "check ends with ok"

run check --user alice
expect "check --user shows the masked phone" 0 "+1•••••••0101" \
	"store: $store: ok" "user alice: asked for a code: sms to +1•••••••0101"
expect_not "check --user does not show the full number" "+14155550101"

run check --user nobody
expect "check --user without a destination exits 1" 1 \
	"user nobody: denied: nothing to send a code to by sms" "nullok"

# check --user says what the module would do: the groups filter first.
# alice, bob and carol are no users of this host (in no group), root is
# in group root.
id alice >/dev/null 2>&1 && bv_fail "a user alice exists on this host"
write_conf "$dir/groups.conf" 'groups=["root"]'
run --conf "$dir/groups.conf" check --user alice
expect "check --user outside the groups: skipped" 0 \
	"user alice: skipped: in none of the groups"
expect_not "a skipped user is not asked" "asked for a code"
run --conf "$dir/groups.conf" check --user root
expect "check --user in the groups, no phone: denied" 1 \
	"user root: denied: nothing to send a code to"
write_conf "$dir/nullok.conf" 'groups=["root"]' nullok=true
run --conf "$dir/nullok.conf" check --user root
expect "check --user with no phone and nullok: skipped" 0 \
	"user root: skipped: nothing to send a code to by sms" "(nullok)"

# A user whose groups cannot be read (a passwd entry longer than the 1 MiB
# the lookup's buffer may grow to: ERANGE to the end) is an error, as for
# the module, not "skipped".
# A private mount namespace shows this run alone a passwd file with it.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 &&
	unshare --mount --propagation private true 2>/dev/null; then
	cp /etc/passwd "$dir/passwd"
	printf 'bvlong:x:4242:4242:%s:/nonexistent:/usr/sbin/nologin\n' \
		"$(head -c 1100000 /dev/zero | tr '\0' g)" >>"$dir/passwd"
	chmod 644 "$dir/passwd"
	rc=0
	# shellcheck disable=SC2016,SC2086 # the inner shell expands; the
	# wrapper is words, as in run()
	unshare --mount --propagation private sh -c \
		'mount --bind "$1" /etc/passwd && shift && exec "$@"' sh \
		"$dir/passwd" ${BV_CLI_WRAPPER:-} "$BV_CLI" \
		--conf "$dir/groups.conf" check --user bvlong \
		>"$dir/out" 2>&1 </dev/null || rc=$?
	cat "$dir/out" >>"$dir/all-output"
	expect "check --user whose groups cannot be read: an error" 3 \
		"user bvlong: error: the groups filter cannot be applied"
	expect_not "a group lookup error is not \"skipped\"" "skipped"
else
	n=$((n + 1))
	echo "ok $n - check --user whose groups cannot be read # SKIP needs root and unshare"
fi

write_conf "$dir/wrongkey.conf" baxverify.api_key=sk_wrong_key_000
run --conf "$dir/wrongkey.conf" check
expect "check with a wrong key exits 1" 1 "UNAUTHORIZED" "HTTP 401" \
	"help: https://"

mock POST /_mock/fault '{"endpoint":"stats","kind":"error","code":"BAXVERIFY_API_KEY_SCOPE","count":1}' >/dev/null
run check
expect "check with API_KEY_SCOPE exits 1" 1 "BAXVERIFY_API_KEY_SCOPE" \
	"HTTP 403" "help: https://baxcloud.tech/dashboard/projects/$bv_project_id?tab=api-keys"

mock POST /_mock/fault '{"endpoint":"stats","kind":"http500","count":1}' >/dev/null
run check
expect "check with a 5xx exits 1" 1 "service unavailable"

write_conf "$dir/unknown.conf" '+frobnicate = 1;'
line=$(grep -n frobnicate "$dir/unknown.conf" | cut -d: -f1)
run --conf "$dir/unknown.conf" check
expect "check with an unknown key exits 3 naming file:line" 3 \
	"$dir/unknown.conf:$line: unknown key \"frobnicate\""

write_conf "$dir/open.conf"
chmod 644 "$dir/open.conf"
run --conf "$dir/open.conf" check
expect "check on a 0644 config with api_key exits 3" 3 "chmod 600"

run --conf "$dir/missing.conf" check
expect "check on a missing config exits 3" 3 "missing.conf"

write_conf "$dir/tryvox.conf" 'provider=["baxverify", "tryvox", "mudbase"]' \
	"tryvox.api_url=$mock_url" "tryvox.api_key=$bv_tryvox_key" \
	"tryvox.tenant_id=$bv_tenant_id" "mudbase.api_url=$mock_url" \
	"mudbase.project_id=$bv_mudbase_project"
run --conf "$dir/tryvox.conf" check
expect "check with tryvox and mudbase" 0 "tryvox: ok" \
	"mudbase: no authenticated endpoint to test; configuration valid"

sed "s/$bv_tryvox_key/tvx_wrong_key/" "$dir/tryvox.conf" >"$dir/tvxbad.conf"
run --conf "$dir/tvxbad.conf" check
expect "check with a wrong tryvox key exits 1" 1 "UNAUTHORIZED" \
	"HTTP 401"

write_conf "$dir/local.conf" provider=local local.delivery=command \
	"local.command=$dir/no-such-command"
run --conf "$dir/local.conf" check
expect "check with a missing delivery command exits 3" 3 "no-such-command"
printf '#!/bin/sh\ncat >/dev/null\n' >"$dir/sms.sh"
chmod 600 "$dir/sms.sh"
sed -i "s|$dir/no-such-command|$dir/sms.sh|" "$dir/local.conf"
run --conf "$dir/local.conf" check
expect "check with a non-executable command exits 3" 3 "not an executable"
chmod 700 "$dir/sms.sh"
run --conf "$dir/local.conf" check
expect "check with an executable command" 0 "local: delivery command" "ok"
expect "check: the host key is made at the first code" 0 \
	"host key $store/.host.key: not made yet"
[ ! -e "$store/.host.key" ]
report $? "check makes no host key"
# The module's own rule (child_open_trusted), so check says what it does.
chmod 720 "$dir/sms.sh"
run --conf "$dir/local.conf" check
expect "check refuses a group-writable command" 3 \
	"refused: not owned by root or writable by group or others"
chmod 700 "$dir/sms.sh"
ln -s "$dir/sms.sh" "$dir/sms-link.sh"
sed "s|$dir/sms.sh|$dir/sms-link.sh|" "$dir/local.conf" >"$dir/link.conf"
run --conf "$dir/link.conf" check
expect "check refuses a symlinked command" 3 "sms-link.sh refused: " \
	"cannot open it"
if [ "$(id -u)" -eq 0 ]; then
	chown 65534 "$dir/sms.sh"
	run --conf "$dir/local.conf" check
	expect "check refuses a command owned by nobody" 3 \
		"refused: not owned by root"
	expect_not "no ok for a command the module refuses" "delivery command $dir/sms.sh: ok"
	chown 0 "$dir/sms.sh"
else
	n=$((n + 1))
	echo "ok $n - check refuses a command owned by nobody # SKIP needs root"
fi

# --- enroll, unenroll, list -------------------------------------------------

chmod 640 "$phones"
run enroll dave +14155550199
expect "enroll a new user" 0 "enrolled dave"
diff "$dir/phones.orig" "$phones" >"$dir/diff" 2>&1
[ "$(grep -c '^[<>]' "$dir/diff")" -eq 1 ] &&
	grep -q '^> dave    +14155550199$' "$dir/diff"
report $? "enroll appends one line and keeps everything else"
[ "$(stat -c %a "$phones")" = 640 ]
report $? "enroll keeps the file mode"
res=0
for f in "$dir"/.baxverify.phones.*; do
	[ ! -e "$f" ] || res=1
done
report $res "enroll leaves no temporary file"

run enroll alice +14155550111 alice@example.com
expect "enroll replaces a line" 0 "replaced alice"
grep -qx 'alice   +14155550111  alice@example.com  *# Alice'"'"'s phone' \
	"$phones"
report $? "the replaced line keeps its comment"
[ "$(grep -c '^alice' "$phones")" -eq 1 ]
report $? "enroll leaves one line for the user"

cp "$phones" "$dir/before"
run enroll eve +12
expect "enroll refuses +12" 2 "E.164"
run enroll eve 'x#y@example.com'
expect "enroll refuses an address with #" 2
run enroll 'e ve' +14155550123
expect "enroll refuses a user name with a space" 2 "invalid user name"
run enroll 'e#ve' +14155550123
expect "enroll refuses a user name with #" 2 "invalid user name"
run enroll eve +14155550123 +14155550124
expect "enroll refuses two phone numbers" 2
cmp -s "$dir/before" "$phones"
report $? "refused enrolls leave the file alone"

run list
expect "list masks" 0 "alice" "+1•••••••0111" "a•••@example.com" \
	"b•••@example.org"
expect_not "list does not show full numbers" "+14155550111"
run list --full
expect "list --full" 0 "+14155550111" "alice@example.com"

run unenroll dave
expect "unenroll" 0 "unenrolled dave"
run enroll alice +14155550101
cmp -s "$dir/phones.orig" "$phones"
report $? "enroll, replace and unenroll restore the file byte for byte"
run unenroll nobody
expect "unenroll of an unknown user exits 1" 1 "not in"
[ "$(stat -c %a "$phones")" = 640 ]
report $? "the mode survives every edit"
chmod 644 "$phones"

# A FIFO at the phones path: refused at once, never waited on (open(2)
# of a FIFO with no writer would block; timeout's 124 would show it).
mv "$phones" "$dir/phones.keep"
mkfifo -m 644 "$phones"
rc=0
timeout 20 "$BV_CLI" --conf "$conf" list >"$dir/out" 2>&1 </dev/null ||
	rc=$?
expect "list refuses a FIFO phones file at once" 4 "$phones" \
	"not a regular file"
rc=0
timeout 20 "$BV_CLI" --conf "$conf" enroll eve +14155550123 \
	>"$dir/out" 2>&1 </dev/null || rc=$?
expect "enroll refuses a FIFO phones file at once" 4 "not a regular file"
rm -f "$phones"
mv "$dir/phones.keep" "$phones"

# --- send, verify, validate-token -------------------------------------------

mock POST /_mock/reset >/dev/null
mock POST /_mock/config "{\"force_code\":\"$code\"}" >/dev/null
run send alice
expect "send" 0 "sent a code to +1•••••••0101 by sms via baxverify"
run_in 654321 verify alice
expect "verify with a wrong code exits 1" 1 "BAXVERIFY_OTP_INVALID"
run_in "$code" verify alice
expect "verify reads the code from stdin" 0 "verified" "expires at"
expect_not "verify does not print the token" "token:"

# Secrets never on the command line: refused, before any request.
mock POST /_mock/reset >/dev/null
mock POST /_mock/config "{\"force_code\":\"$code\"}" >/dev/null
run send alice
run verify alice "$code"
expect "verify refuses a code on the command line" 2 \
	"refusing a code on the command line" "standard input" "--file"
expect_not "the refusal does not repeat the code" "$code"
[ "$(wc -l <"$dir/out")" -eq 1 ]
report $? "the refusal is one line"
run validate-token tok_on_argv_123
expect "validate-token refuses a token on the command line" 2 \
	"refusing a token on the command line"
expect_not "the refusal does not repeat the token" "tok_on_argv_123"
mock GET /_mock/requests | "$bv_python" -c '
import json, sys
paths = [r["path"] for r in json.load(sys.stdin)["requests"]]
sys.exit(0 if not any("/verify" in p or "validate" in p
                      for p in paths) else 1)'
report $? "a refused secret is never sent"

printf '%s\n' "$code" >"$dir/code"
chmod 644 "$dir/code"
run verify alice --file "$dir/code"
expect "verify --file refuses a file others can read" 4 "$dir/code" \
	"chmod 600"
ln -s "$dir/code" "$dir/code-link"
chmod 600 "$dir/code"
run verify alice --file "$dir/code-link"
expect "verify --file refuses a symlink" 4 "code-link"
run_in "$code" verify alice - --file "$dir/code"
expect "verify with both - and --file exits 2" 2 "not both"
: >"$dir/empty"
run verify alice --file "$dir/empty"
expect "verify --file with an empty file exits 2" 2 "empty"
run verify alice --file "$dir/code" --show-token
expect "verify --file reads the code from the file; --show-token" 0 \
	"verified" "token: "
token=$(sed -n 's/^token: //p' "$dir/out")

run send alice
run_in "$code" verify alice -
expect "verify - reads the code from stdin" 0 "verified"

run_in "$token" validate-token
expect "validate-token valid" 0 "valid"
run_in "$token" validate-token - --user alice
expect "validate-token --user names the phone" 0 "valid for +1•••••••0101"
printf '%s\n' "$token" >"$dir/token"
run validate-token --file "$dir/token" --consume
expect "validate-token --file --consume" 0 "valid" "consumed"
run validate-token --file "$dir/token"
expect "validate-token after consume is invalid" 1 "invalid" \
	"BAXVERIFY_TOKEN_CONSUMED"
run_in not.a.token validate-token
expect "validate-token of garbage is invalid" 1 "invalid" \
	"BAXVERIFY_TOKEN_INVALID"
run validate-token
expect "validate-token with nothing on stdin exits 2" 2 \
	"no token on standard input"
run send alice --file "$dir/token"
expect "send --file is not an option of send" 2 "not valid here"

run --conf "$dir/tryvox.conf" send bob --provider tryvox --channel email
expect "send by tryvox email" 0 "b•••@example.org" "verification id: ver_"
vid=$(sed -n 's/^verification id: \([^ ]*\).*/\1/p' "$dir/out")
run_in "$code" --conf "$dir/tryvox.conf" verify bob --provider tryvox \
	--channel email
expect "tryvox verify without --id exits 2" 2 "--id"
run_in "$code" --conf "$dir/tryvox.conf" verify bob --provider tryvox \
	--channel email --id "$vid"
expect "tryvox verify --id" 0 "verified"
run_in "$vid" --conf "$dir/tryvox.conf" validate-token --provider tryvox
expect "tryvox validate-token" 0 "valid"
run_in "$vid" --conf "$dir/tryvox.conf" validate-token --provider mudbase
expect "validate-token by a provider that cannot exits 2" 2

# The local provider: codes in a file, checked against the store.
write_conf "$dir/localfile.conf" provider=local local.delivery=file \
	"local.file=$dir/outbox" "local.message=code %c"
run --conf "$dir/localfile.conf" send carol
expect "local send" 0 "via local"
lcode=$(sed -n 's/.*code \([0-9]*\).*/\1/p' "$dir/outbox" | tail -n 1)
run_in "$lcode" --conf "$dir/localfile.conf" verify carol --show-token
expect "local verify" 0 "verified"
ltoken=$(sed -n 's/^token: //p' "$dir/out")
run_in "$ltoken" --conf "$dir/localfile.conf" validate-token
expect "local validate-token needs --user" 2 "--user"
run_in "$ltoken" --conf "$dir/localfile.conf" validate-token --user carol \
	--consume
expect "local validate-token --consume" 0 "valid"
run_in "$ltoken" --conf "$dir/localfile.conf" validate-token --user carol
expect "local token is single use" 1 "invalid"
# Codes and tokens are MACs under the host key the first send made.
run --conf "$dir/localfile.conf" send carol
grep -q '^code \$bvmac1\$[0-9a-f]\{16\}\$[0-9a-f]\{32\}\$[0-9a-f]\{64\} ' \
	"$store/carol"
report $? "the local code is kept as a \$bvmac1\$ entry"
[ "$(stat -c %a:%s "$store/.host.key")" = 600:32 ]
report $? "the host key is 32 bytes, mode 0600"
run --conf "$dir/localfile.conf" check
expect "check: the host key is ok" 0 "host key $store/.host.key: ok"
chmod 640 "$store/.host.key"
run --conf "$dir/localfile.conf" check
expect "check refuses a group-readable host key" 3 \
	"host key $store/.host.key refused: group or others have access"
run --conf "$dir/localfile.conf" send carol
expect "send refuses a group-readable host key" 3 \
	"host key $store/.host.key refused"
chmod 600 "$store/.host.key"

# --- stats and logs ---------------------------------------------------------

run stats
expect "stats table" 0 "sent" "verified"
run stats --days 30 --json
expect "stats --json" 0 '"days"'
"$bv_python" -m json.tool <"$dir/out" >/dev/null 2>&1
report $? "stats --json is valid JSON"
run logs
expect "logs table" 0 "phone" "status" "+14155550101" "total:"
run logs --json --limit 1 --page 2
expect "logs --json" 0 '"items"'
"$bv_python" -m json.tool <"$dir/out" >/dev/null 2>&1
report $? "logs --json is valid JSON"
run logs --phone +14155550101 --status verified
expect "logs with filters" 0 "verified"
mock GET /_mock/requests | "$bv_python" -c '
import json, sys
paths = [r["path"] for r in json.load(sys.stdin)["requests"]]
sys.exit(0 if any("phone=%2B14155550101&status=verified" in p
                  for p in paths) else 1)'
report $? "logs URL-encodes its query"
mock POST /_mock/fault '{"endpoint":"logs","kind":"error","code":"BAXVERIFY_FEATURE_DISABLED","count":1}' >/dev/null
run logs
expect "logs with an API error exits 1" 1 "BAXVERIFY_FEATURE_DISABLED" \
	"tab=features"
mock POST /_mock/fault '{"endpoint":"stats","kind":"error","code":"BAXVERIFY_PLAN_NOT_INCLUDED","message":"\u001b]0;owned\u0007\u001b[2Jplan \u009b31m","count":1}' >/dev/null
run stats
expect "stats with an API error exits 1" 1 "BAXVERIFY_PLAN_NOT_INCLUDED" \
	"plan"
esc=$(printf '\033')
csi=$(printf '\302\233')
! grep -q -e "$esc" -e "$csi" -e "$(printf '\007')" "$dir/out"
report $? "server text reaches the terminal without control characters"
mock POST /_mock/fault '{"endpoint":"stats","kind":"malformed","count":1}' >/dev/null
run stats
expect "stats with a malformed answer exits 1" 1 "service unavailable"
run --conf "$dir/localfile.conf" stats
expect "stats without baxverify configured exits 3" 3

# --- recovery codes and reset -----------------------------------------------

run recovery-codes alice
expect "recovery-codes" 0 "Recovery codes for alice"
grep -E '^  [0-9]{4}-[0-9]{4}-[0-9]{4}$' "$dir/out" | sed 's/^  //' \
	>"$dir/codes"
[ "$(wc -l <"$dir/codes")" -eq 10 ] && [ "$(sort -u "$dir/codes" | wc -l)" -eq 10 ]
report $? "recovery-codes prints 10 distinct codes NNNN-NNNN-NNNN"
[ "$(grep -c '^recovery ' "$store/alice")" -eq 10 ]
report $? "the store holds 10 hashes"
res=0
while read -r c; do
	digits=$(printf '%s' "$c" | tr -d -)
	if grep -qF -e "$c" -e "$digits" "$store/alice"; then res=1; fi
done <"$dir/codes"
report $res "no recovery code is in the store in clear"
first=$(head -n 1 "$dir/codes" | tr -d -)
"$bv_python" -W ignore - "$first" "$store/alice" <<'EOF' 2>/dev/null
import sys
try:
    import crypt
except ImportError:
    sys.exit(0)  # newer python: nothing to check the hash with
code, path = sys.argv[1:]
hashes = [l.split()[1] for l in open(path) if l.startswith("recovery ")]
sys.exit(0 if sum(crypt.crypt(code, h) == h for h in hashes) == 1 else 1)
EOF
report $? "a printed code matches exactly one stored hash"
run recovery-codes alice --count 3
expect "recovery-codes --count 3 replaces the set" 0 \
	"The 10 earlier codes no longer work"
[ "$(grep -c '^recovery ' "$store/alice")" -eq 3 ]
report $? "the store holds 3 hashes"
run recovery-codes alice --revoke
expect "recovery-codes --revoke" 0 "revoked 3 recovery codes"
! grep -q '^recovery ' "$store/alice"
report $? "--revoke empties the set"

until=$(($(date +%s) + 900))
now=$(date +%s)
printf 'version 1\nsend %s\nfailures 5\nlocked_until %s\nremember %s %s\n' \
	"$now" "$until" 'sudo|/dev/pts/1|-|4242.99' "$until" >"$store/bob"
chmod 600 "$store/bob"
run check --user bob
expect "check --user shows a lockout" 0 "LOCKED until"
run reset bob
expect "reset clears a lockout" 0 "a lockout until" "5 failed" \
	"1 recent send" "1 grace window"
! grep -q '^locked_until' "$store/bob" && grep -qx 'failures 0' "$store/bob" &&
	! grep -q '^send ' "$store/bob" && ! grep -q '^remember ' "$store/bob"
report $? "the lockout, counters and grace windows are gone from the store"
run reset bob
expect "reset again: nothing to clear" 0 "nothing to clear"
printf 'garbage\n' >"$store/carol"
run reset carol
expect "reset of a damaged record exits 4" 4 "damaged"

# The providers' health record (health_retry): check lists the marks, reset
# --providers clears them and replaces a damaged record; a damaged one fails
# the check (the module only ignores it).
now=$(date +%s)
printf 'version 1\ndown baxverify %s %s\n' "$((now - 100))" "$((now - 10))" \
	>"$store/@health"
chmod 600 "$store/@health"
run --conf "$dir/tryvox.conf" check
expect "check lists a provider marked down" 0 \
	"providers: baxverify marked down since" "tried after the others until"
run --conf "$dir/tryvox.conf" reset --providers
expect "reset --providers clears the marks" 0 "cleared the marks of baxverify"
grep -qx 'version 1' "$store/@health" && ! grep -q '^down ' "$store/@health"
report $? "the health record holds no mark"
run --conf "$dir/tryvox.conf" check
expect "check with no provider marked down" 0 "providers: none marked down"
printf 'garbage\n' >"$store/@health"
run --conf "$dir/tryvox.conf" check
expect "check on a damaged health record exits 4" 4 "@health is damaged" \
	"reset --providers"
run --conf "$dir/tryvox.conf" reset --providers
expect "reset --providers replaces a damaged health record" 0 \
	"nothing to clear"
run --conf "$dir/tryvox.conf" check
expect "check passes once it is replaced" 0 "providers: none marked down"
run reset --providers bob
expect "reset --providers takes no user" 2 "too many arguments"
run check
expect_not "one provider: check says nothing of marks" "providers:"

# --- secrets ----------------------------------------------------------------

res=0
for secret in "$bv_api_key" "$bv_tryvox_key"; do
	if grep -qF -- "$secret" "$dir/all-output"; then
		echo "# leaked: $secret"
		res=1
	fi
done
report $res "no API key in any output"

echo "1..$n"
if [ "$failed" -ne 0 ]; then
	echo "# $failed of $n checks failed"
	exit 1
fi
exit 0
