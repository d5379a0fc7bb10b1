#!/bin/sh
# sshd.sh - two-factor SSH logins through the real OpenSSH sshd and ssh.
#
# Started by `make check` (automake TESTS) with BV_MODULE and srcdir in the
# environment (see lib.sh).  Needs root; skips (77) otherwise.
#
# For each of pam.d-examples/sshd-password-code and sshd-key-code, starts
# /usr/sbin/sshd on 127.0.0.1 (a free port, its own host key, pid file and
# sshd_config) under pam_wrapper, whose service directory holds the PAM
# stack made from the example (lib.sh: e2e_pam_from_example), so the
# system's /etc/pam.d is never touched.  sshd runs in a private mount
# namespace with a tmpfs of its own on /tmp: pam_wrapper copies its
# service directory to /tmp/pam.X for every process (sshd re-executes
# itself for each connection), and there are only 62 such names on the
# machine, which other pam_wrapper tests running in parallel may hold.
# The copies vanish with the namespace, and so do the records of the
# test's logins: /var/log/wtmp, btmp and lastlog are files of the scratch
# directory in there.  What sshd reads is therefore
# outside /tmp: the scratch directory is under /var/tmp, and holds a copy
# of the module.  The sshd_config lines the example
# says are needed are taken from the example's own header.  The real ssh
# client logs in as a throwaway user, answering the keyboard-interactive
# prompts through SSH_ASKPASS (SSH_ASKPASS_REQUIRE=force, no terminal) with
# the user's password and the code the mock server delivered.
#
# Checks: the login succeeds, the command runs and sees BAXVERIFY_*; the
# session spent the token (consume_token); a wrong code and an unreachable
# service (failmode secure) are refused; with password + code a wrong
# password sends no code; with key + code the code alone (no key) is
# refused before any code is sent.

set -u

e2e_here=$(cd "$(dirname "$0")" && pwd)
srcdir=${srcdir:-$e2e_here/../..}
# shellcheck source=tests/e2e/lib.sh
. "$e2e_here/lib.sh"

sshd=/usr/sbin/sshd
[ -x "$sshd" ] || e2e_skip "$sshd not found (apt-get install openssh-server)"
e2e_require ssh ssh-keygen setsid timeout unshare mount
unshare --mount --propagation private true 2>/dev/null ||
	e2e_skip "unshare --mount is not permitted here"

# libpam_wrapper.so (tests/mock/lib.sh): $pam_wrapper_lib.
bv_find_pam_wrapper ||
	e2e_skip "libpam_wrapper.so not found (libpam-wrapper)"

e2e_init sshd /var/tmp
# The module too: the build tree may be under /tmp, which sshd cannot see.
cp "$BV_MODULE" "$e2e_dir/pam_baxverify.so" ||
	e2e_hard "cannot copy $BV_MODULE"
BV_MODULE=$e2e_dir/pam_baxverify.so
# And its helpers (root's, mode 0755, as the module requires): the
# local-only one beside the other.
install -m 0755 "$BV_HELPER" "$e2e_dir/baxverify-helper" ||
	e2e_hard "cannot copy $BV_HELPER"
install -m 0755 "$(dirname "$BV_HELPER")/baxverify-helper-local" \
	"$e2e_dir/baxverify-helper-local" ||
	e2e_hard "cannot copy baxverify-helper-local"
BV_HELPER=$e2e_dir/baxverify-helper
e2e_start_mock
e2e_add_user bve2essh
e2e_write_conf +14155550142
e2e_make_askpass

# sshd's privilege separation directory (made by the service unit when
# sshd runs as a service).  pam_motd in the examples writes
# /run/motd.dynamic.
e2e_undo_if_new /run/sshd
mkdir -p /run/sshd
chmod 755 /run/sshd
e2e_undo_if_new /run/motd.dynamic
# What sshd sees as /var/log/wtmp, btmp and lastlog (see start_sshd).
mkdir "$e2e_dir/var-log"

ssh-keygen -q -t ed25519 -N '' -C e2e-host -f "$e2e_dir/host_key" ||
	e2e_hard "ssh-keygen (host key)"
ssh-keygen -q -t ed25519 -N '' -C e2e-client -f "$e2e_dir/client_key" ||
	e2e_hard "ssh-keygen (client key)"
mkdir -p "$e2e_dir/home/.ssh"
cp "$e2e_dir/client_key.pub" "$e2e_dir/home/.ssh/authorized_keys"
chown -R "$e2e_user:" "$e2e_dir/home/.ssh"

# The sshd_config block of an example's header: the lines between
# "sshd_config needs:" and the next empty comment line, without the "#".
example_sshd_config() { # EXAMPLE
	awk '
	/sshd_config needs:/ { on = 1; next }
	on && /^#[ \t]*$/ { if (n) exit; next }
	on { sub(/^#[ \t]*/, ""); print; n++ }
	' "$srcdir/pam.d-examples/$1"
}

free_port() {
	"$e2e_python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

sshd_pid=
# start_sshd EXAMPLE: sshd with the PAM stack $e2e_dir/pam.d-EXAMPLE/sshd
# and the example's sshd_config lines; sets port and sshd_pid.  A port
# taken between free_port and the bind is retried.
start_sshd() {
	ex=$1
	pamdir=$e2e_dir/pam.d-$ex
	bv_write_other_service "$pamdir"
	needs=$(example_sshd_config "$ex")
	echo "$needs" | grep -q '^AuthenticationMethods ' ||
		e2e_hard "$ex: no sshd_config block in its header"
	try=0
	while :; do
		try=$((try + 1))
		port=$(free_port)
		cat >"$e2e_dir/sshd_config-$ex" <<EOF
# From the header of pam.d-examples/$ex:
$needs
# The test's own:
ListenAddress 127.0.0.1
Port $port
HostKey $e2e_dir/host_key
PidFile $e2e_dir/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
StrictModes no
UseDNS no
AllowUsers $e2e_user
PermitRootLogin no
X11Forwarding no
PrintMotd no
LoginGraceTime 60
LogLevel VERBOSE
EOF
		log=$e2e_dir/sshd-$ex.log
		: >"$log"
		# shellcheck disable=SC2016 # the script's $0, $@: sh -c's
		unshare --mount --propagation private sh -c '
			mount -t tmpfs -o mode=1777,size=16m e2e-tmp /tmp ||
				exit 98
			for f in /var/log/wtmp /var/log/btmp /var/log/lastlog
			do
				[ -f "$f" ] || continue
				: >"$0/${f##*/}"
				mount --bind "$0/${f##*/}" "$f" || exit 98
			done
			exec "$@"' "$e2e_dir/var-log" \
			env LD_PRELOAD="$pam_wrapper_lib" PAM_WRAPPER=1 \
			PAM_WRAPPER_DEBUGLEVEL=2 \
			PAM_WRAPPER_SERVICE_DIR="$pamdir" \
			"$sshd" -D -e -f "$e2e_dir/sshd_config-$ex" \
			>>"$log" 2>&1 &
		sshd_pid=$!
		e2e_pids="$e2e_pids $sshd_pid"
		i=0
		while ! grep -q 'Server listening' "$log"; do
			kill -0 "$sshd_pid" 2>/dev/null || break
			i=$((i + 1))
			[ "$i" -le 100 ] || e2e_hard "sshd did not start in 10 s"
			sleep 0.1
		done
		grep -q 'Server listening' "$log" && return 0
		wait "$sshd_pid" 2>/dev/null
		if grep -q 'Bind to port\|Cannot bind' "$log" && [ "$try" -lt 5 ]
		then
			continue
		fi
		cat "$log" >&2
		e2e_hard "sshd ($ex) exited"
	done
}

stop_sshd() {
	e2e_kill_pid "$sshd_pid"
}

# ssh_login NAME [ssh options...]: log in as the test user and run a
# command that prints a marker and the environment; without a terminal
# (setsid), answers through the askpass helper.  Output in NAME.out and
# NAME.err, exit status in rc.
ssh_login() {
	name=$1
	shift
	rc=0
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$e2e_dir" LANG=C.UTF-8 \
		SSH_ASKPASS="$e2e_dir/askpass" SSH_ASKPASS_REQUIRE=force \
		DISPLAY=:0 \
		timeout 60 setsid -w ssh -F /dev/null -p "$port" \
		-o BatchMode=no -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 \
		"$@" -l "$e2e_user" 127.0.0.1 'echo E2E-COMMAND-RAN; env' \
		</dev/null >"$e2e_dir/$name.out" 2>"$e2e_dir/$name.err" || rc=$?
}

sends() {
	e2e_count_requests /v1/auth/sms/send
}

# The checks on a successful login, common to both examples.
check_logged_in() { # NAME PROMPTS
	name=$1 want=$2
	out=$e2e_dir/$name.out
	if [ "$rc" -ne 0 ] || ! grep -qx 'E2E-COMMAND-RAN' "$out"; then
		e2e_fail "$name: login and command (exit $rc)" \
			"$e2e_dir/$name.err" "$e2e_dir/askpass.log" "$log"
		return
	fi
	e2e_pass "$name: logged in, command ran"
	got=$(e2e_prompts)
	if [ "$got" = "$want" ]; then
		e2e_pass "$name: prompts were: $want"
	else
		e2e_fail "$name: prompts were \"$got\", want \"$want\""
	fi
	# What the user saw before the code prompt: the masked number.
	# "+", the first digit, seven bullets (U+2022), the last four digits.
	b=$(printf '\342\200\242')
	masked=$(printf '%s' "$e2e_phone" | cut -c1-2)$b$b$b$b$b$b$b
	masked=$masked$(printf '%s' "$e2e_phone" | sed 's/.*\(....\)$/\1/')
	if grep -qF "A verification code was sent by SMS to $masked." \
		"$e2e_dir/askpass.log"; then
		e2e_pass "$name: told where the code went ($masked)"
	else
		e2e_fail "$name: told where the code went ($masked)" \
			"$e2e_dir/askpass.log"
	fi
	token=$(sed -n 's/^BAXVERIFY_TOKEN=//p' "$out")
	if [ -n "$token" ] &&
		grep -qx "BAXVERIFY_PHONE=$e2e_phone" "$out" &&
		grep -qx 'BAXVERIFY_TOKEN_EXPIRES=[0-9][0-9]*' "$out" &&
		grep -qx 'BAXVERIFY_PROVIDER=baxverify' "$out"; then
		e2e_pass "$name: BAXVERIFY_* in the session's environment"
	else
		e2e_fail "$name: BAXVERIFY_* in the session's environment" "$out"
	fi
	# The session line (consume_token) spent exactly the token the
	# session got: sshd carried it from its authentication process.
	consumed=$(e2e_last_body /v1/auth/sms/validate-token token)
	if [ -n "$token" ] && [ "$consumed" = "$token" ] &&
		[ "$(e2e_count_requests /v1/auth/sms/validate-token \
			consume true)" -eq 1 ]; then
		e2e_pass "$name: the session consumed the token"
	else
		e2e_fail "$name: the session consumed the token"
	fi
	if grep -q "Accepted keyboard-interactive/pam for $e2e_user" "$log"
	then
		e2e_pass "$name: sshd accepted keyboard-interactive/pam"
	else
		e2e_fail "$name: sshd accepted keyboard-interactive/pam" "$log"
	fi
}

# A refused login: ssh exits 255 and the command never ran.
check_refused() { # NAME
	if [ "$rc" -eq 255 ] && ! grep -q E2E-COMMAND-RAN "$e2e_dir/$1.out"
	then
		e2e_pass "$1: refused (exit 255)"
	else
		e2e_fail "$1: refused (exit $rc, want 255)" "$e2e_dir/$1.out" \
			"$e2e_dir/$1.err"
	fi
}

# A wrong code: refused, and the mock saw the code the helper gave.
check_wrong_code() { # NAME
	check_refused "$1"
	wrong=$(cat "$e2e_dir/askpass.wrong")
	if [ -n "$wrong" ] && [ "$(e2e_count_requests /v1/auth/sms/verify \
		code "\"$wrong\"")" -ge 1 ]; then
		e2e_pass "$1: the mock was asked to verify the wrong code"
	else
		e2e_fail "$1: the mock was asked to verify the wrong code"
	fi
}

# An unreachable service: refused, and the user was told.
check_unavailable() { # NAME
	check_refused "$1"
	if grep -q 'verification service is unreachable' "$e2e_dir/$1.err"
	then
		e2e_pass "$1: the user was told the service is unreachable"
	else
		e2e_fail "$1: the user was told the service is unreachable" \
			"$e2e_dir/$1.err"
	fi
}

mock_reset() {
	e2e_mock /_mock/reset '{}' >/dev/null
}

started=$(date +%s)

# --- password + code: AuthenticationMethods keyboard-interactive ----------

mkdir "$e2e_dir/pam.d-sshd-password-code"
e2e_pam_from_example sshd-password-code "$e2e_dir/pam.d-sshd-password-code/sshd"
start_sshd sshd-password-code
kbd="-o PreferredAuthentications=keyboard-interactive"
kbd="$kbd -o PubkeyAuthentication=no"

mock_reset
e2e_askpass_set right "$e2e_password"
# shellcheck disable=SC2086
ssh_login pw-ok $kbd
check_logged_in pw-ok "password code"

mock_reset
e2e_askpass_set right "not-the-$e2e_password"
# shellcheck disable=SC2086
ssh_login pw-badpass $kbd
check_refused pw-badpass
if [ "$(sends)" -eq 0 ]; then
	e2e_pass "pw-badpass: no code was sent for a wrong password"
else
	e2e_fail "pw-badpass: no code was sent for a wrong password"
fi

mock_reset
e2e_askpass_set wrong "$e2e_password"
# shellcheck disable=SC2086
ssh_login pw-wrongcode $kbd
check_wrong_code pw-wrongcode

mock_reset
e2e_mock /_mock/fault '{"endpoint": "*", "kind": "http500"}' >/dev/null
e2e_askpass_set right "$e2e_password"
# shellcheck disable=SC2086
ssh_login pw-api-500 $kbd
check_unavailable pw-api-500
e2e_mock /_mock/fault '{"clear": true}' >/dev/null

stop_sshd

# --- key + code: AuthenticationMethods publickey,keyboard-interactive -----

mkdir "$e2e_dir/pam.d-sshd-key-code"
e2e_pam_from_example sshd-key-code "$e2e_dir/pam.d-sshd-key-code/sshd"
start_sshd sshd-key-code
key="-i $e2e_dir/client_key -o IdentitiesOnly=yes"
key="$key -o PreferredAuthentications=publickey,keyboard-interactive"

mock_reset
e2e_askpass_set right "$e2e_password"
# shellcheck disable=SC2086
ssh_login key-ok $key
check_logged_in key-ok "code"
if grep -q "Partial publickey for $e2e_user" "$log"; then
	e2e_pass "key-ok: sshd accepted the key first"
else
	e2e_fail "key-ok: sshd accepted the key first" "$log"
fi

# The code alone is not enough: without the key, keyboard-interactive is
# never offered, so no code is sent either.
mock_reset
e2e_askpass_set right "$e2e_password"
ssh_login key-nokey -o PubkeyAuthentication=no \
	-o PreferredAuthentications=keyboard-interactive
check_refused key-nokey
if [ "$(sends)" -eq 0 ]; then
	e2e_pass "key-nokey: no code was sent without the key"
else
	e2e_fail "key-nokey: no code was sent without the key"
fi

mock_reset
e2e_askpass_set wrong "$e2e_password"
# shellcheck disable=SC2086
ssh_login key-wrongcode $key
check_wrong_code key-wrongcode

# The service is down altogether: the mock is stopped (failmode secure).
e2e_stop_mock
e2e_askpass_set right "$e2e_password"
# shellcheck disable=SC2086
ssh_login key-api-down $key
check_unavailable key-api-down

stop_sshd

# No secret in what sshd logged (with pam_wrapper's copy of the module's
# syslog lines) or what the client printed: the API key and the tokens.
leaked=
for secret in "$e2e_api_key" $(sed -n 's/^BAXVERIFY_TOKEN=//p' \
	"$e2e_dir/pw-ok.out" "$e2e_dir/key-ok.out"); do
	if grep -qF -- "$secret" "$e2e_dir"/sshd-*.log "$e2e_dir"/*.err; then
		leaked="$leaked ${secret%"${secret#??????????}"}..."
	fi
done
if [ -z "$leaked" ]; then
	e2e_pass "no API key or token in sshd's log or the client's messages"
else
	e2e_fail "secrets in sshd's log or the client's messages:$leaked"
fi

echo "sshd.sh: $(($(date +%s) - started)) s for the logins"
e2e_finish
