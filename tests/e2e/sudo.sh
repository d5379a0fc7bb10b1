#!/bin/sh
# sudo.sh - step-up with the real sudo, run by a non-root user.
#
# Started by `make check` (automake TESTS) with BV_MODULE, BV_CLI and
# srcdir in the environment (see lib.sh).  Needs root, sudo, unshare and
# setpriv; skips (77) otherwise.
#
# sudo is setuid, so pam_wrapper cannot be preloaded into it.  Instead each
# run happens in a private mount namespace (unshare --mount --propagation
# private) in which the PAM stack made from pam.d-examples/sudo (lib.sh:
# e2e_pam_from_example) is bind-mounted over /etc/pam.d/sudo and
# /etc/pam.d/sudo-i, and a test sudoers.d over /etc/sudoers.d.  Nothing
# changes outside the namespace.  There the throwaway user runs
# `sudo -A` with SUDO_ASKPASS answering the password prompt and the code
# prompt (the code the mock delivered), with or without a terminal.
#
# Checks: the right code runs the command as root with BAXVERIFY_* in its
# environment and the session spends the token; sudo -i (PAM service
# sudo-i, pam.d-examples/sudo-i) asks for the code too; a wrong code and a
# wrong password are refused (the latter without sending a code).  With
# the module argument remember=300 (the grace window): a second sudo on
# the same terminal is asked for the password only, and no code is sent;
# another service (sudo -i) and another terminal are asked again.
#
# Without a terminal sudo leaves PAM_TTY unset, and the module keys the
# window on "SERVICE|-|-|SESSION" (the record's "remember" line, printed as
# a NOTE): sudo runs share a window only within one login session.
#
# The window is also keyed on the login session (its id and start time),
# so a new terminal that reuses a closed one's /dev/pts/N name, or another
# terminal-less session, is asked again.

set -u

e2e_here=$(cd "$(dirname "$0")" && pwd)
srcdir=${srcdir:-$e2e_here/../..}
# shellcheck source=tests/e2e/lib.sh
. "$e2e_here/lib.sh"

command -v sudo >/dev/null 2>&1 ||
	e2e_skip "sudo not found (apt-get install sudo)"
e2e_require unshare setpriv setsid script timeout mount
if [ -z "${BV_CLI:-}" ] || [ ! -x "$BV_CLI" ]; then
	e2e_hard "BV_CLI not set or not built"
fi
[ -f /etc/pam.d/sudo ] || e2e_skip "/etc/pam.d/sudo missing"
[ -f /etc/pam.d/sudo-i ] || e2e_skip "/etc/pam.d/sudo-i missing"
unshare --mount --propagation private true 2>/dev/null ||
	e2e_skip "unshare --mount is not permitted here"

e2e_init sudo
# sudo's runtime directory (made at boot by tmpfiles.d, else by sudo).
e2e_undo_if_new /run/sudo/ts
e2e_undo_if_new /run/sudo
e2e_start_mock
e2e_add_user bve2esudo
e2e_write_conf +14155550177
e2e_make_askpass
uid=$(id -u "$e2e_user")
gid=$(id -g "$e2e_user")

# sudoers for the namespace: the user may run anything as root, always
# with a password (timestamp_timeout=0: sudo's own timestamp never masks
# the module), one try per run.
mkdir "$e2e_dir/sudoers.d"
cat >"$e2e_dir/sudoers.d/e2e" <<EOF
Defaults:$e2e_user timestamp_timeout=0, passwd_tries=1, lecture=never
$e2e_user ALL=(root) ALL
EOF
chmod 440 "$e2e_dir/sudoers.d/e2e"
visudo -c -f "$e2e_dir/sudoers.d/e2e" >/dev/null 2>&1 ||
	e2e_hard "the test sudoers does not parse"

# The stacks: pam.d-examples/sudo and sudo-i as shipped ("plain"), and
# with the grace window as a module argument ("grace").
mkdir "$e2e_dir/plain" "$e2e_dir/grace"
e2e_pam_from_example sudo "$e2e_dir/plain/sudo"
e2e_pam_from_example sudo-i "$e2e_dir/plain/sudo-i"
e2e_pam_from_example sudo "$e2e_dir/grace/sudo" remember=300
e2e_pam_from_example sudo-i "$e2e_dir/grace/sudo-i" remember=300

# as_user STACK NAME MODE COMMAND: run the shell COMMAND as the test user
# in a private mount namespace where STACK/sudo is /etc/pam.d/sudo and
# STACK/sudo-i is /etc/pam.d/sudo-i.  MODE "notty": no controlling
# terminal (setsid); "tty": on a new pseudo-terminal (script).  Output in
# NAME.out (as the terminal showed it) and NAME.txt (cleaned up), exit
# status in rc.
as_user() {
	pam=$e2e_dir/$1 name=$2 mode=$3 cmd=$4
	case $mode in
	notty) run='exec setsid -w sh -c "$0"' ;;
	tty) run='exec script -qec "$0" /dev/null' ;;
	*) e2e_hard "as_user: mode $mode" ;;
	esac
	rc=0
	timeout 60 unshare --mount --propagation private sh -c '
		mount --bind "$1/sudo" /etc/pam.d/sudo &&
		mount --bind "$1/sudo-i" /etc/pam.d/sudo-i &&
		mount --bind "$2" /etc/sudoers.d || exit 98
		shift 2
		cd "$0" && exec "$@"' "$e2e_dir" "$pam" "$e2e_dir/sudoers.d" \
		setpriv --reuid="$uid" --regid="$gid" --init-groups \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$e2e_dir/home" \
		USER="$e2e_user" LOGNAME="$e2e_user" LANG=C.UTF-8 \
		SUDO_ASKPASS="$e2e_dir/askpass" \
		sh -c "$run" "$cmd" \
		</dev/null >"$e2e_dir/$name.out" 2>&1 || rc=$?
	# script(1) relays the terminal: carriage returns, and the echo of
	# what it writes there when its stdin ends ("^@").
	tr -d '\r' <"$e2e_dir/$name.out" | sed 's/\^@//g' >"$e2e_dir/$name.txt"
}

sends() {
	e2e_count_requests /v1/auth/sms/send
}

mock_reset() {
	e2e_mock /_mock/reset '{}' >/dev/null
}

prompts_are() { # WANT
	[ "$(e2e_prompts)" = "$1" ]
}

check_prompts() { # NAME WANT
	if prompts_are "$2"; then
		e2e_pass "$1: prompts were: $2"
	else
		e2e_fail "$1: prompts were \"$(e2e_prompts)\", want \"$2\"" \
			"$e2e_dir/$1.txt"
	fi
}

ran_as_root() { # NAME [TIMES]
	[ "$rc" -eq 0 ] &&
		[ "$(grep -cx 'UID=0' "$e2e_dir/$1.txt")" -eq "${2:-1}" ]
}

check_root() { # NAME [TIMES]
	if ran_as_root "$@"; then
		e2e_pass "$1: the command ran as root${2:+ ($2 times)}"
	else
		e2e_fail "$1: the command ran as root${2:+ ($2 times)}" \
			"(exit $rc)" "$e2e_dir/$1.txt" "$e2e_dir/askpass.log"
	fi
}

check_refused() { # NAME
	if [ "$rc" -ne 0 ] && ! grep -q 'UID=' "$e2e_dir/$1.txt"; then
		e2e_pass "$1: refused (exit $rc)"
	else
		e2e_fail "$1: refused (exit $rc)" "$e2e_dir/$1.txt"
	fi
}

sends_are() { # N
	[ "$(sends)" -eq "$1" ]
}

check_sends() { # NAME N
	if sends_are "$2"; then
		e2e_pass "$1: $2 code(s) sent in all"
	else
		e2e_fail "$1: $(sends) code(s) sent in all, want $2"
	fi
}

# The terminal a run was on (its first line, from tty(1)).
tty_of() { # NAME
	sed -n '1{/^\/dev\//p;}' "$e2e_dir/$1.txt"
}

started=$(date +%s)
sudo_id='sudo -k; sudo -A sh -c "echo UID=\$(id -u); env"'

# --- the stack as shipped (no grace) ----------------------------------------

mock_reset
e2e_askpass_set right "$e2e_password"
as_user plain ok notty "$sudo_id"
check_root ok
check_prompts ok "password code"
out=$e2e_dir/ok.txt
token=$(sed -n 's/^BAXVERIFY_TOKEN=//p' "$out")
if [ -n "$token" ] && grep -qx "BAXVERIFY_PHONE=$e2e_phone" "$out" &&
	grep -qx 'BAXVERIFY_PROVIDER=baxverify' "$out"; then
	e2e_pass "ok: BAXVERIFY_* in the command's environment"
else
	e2e_fail "ok: BAXVERIFY_* in the command's environment" "$out"
fi
if [ -n "$token" ] &&
	[ "$(e2e_last_body /v1/auth/sms/validate-token token)" = "$token" ] &&
	[ "$(e2e_count_requests /v1/auth/sms/validate-token consume true)" \
		-eq 1 ]; then
	e2e_pass "ok: the session consumed the token"
else
	e2e_fail "ok: the session consumed the token"
fi

# sudo -i authenticates with the PAM service sudo-i (Debian's sudo is built
# --with-pam-login): without pam.d-examples/sudo-i it would skip the code.
mock_reset
e2e_askpass_set right "$e2e_password"
as_user plain ok-sudo-i notty 'sudo -k; sudo -A -i sh -c "echo UID=\$(id -u)"'
check_root ok-sudo-i
check_prompts ok-sudo-i "password code"

mock_reset
e2e_askpass_set wrong "$e2e_password"
as_user plain wrongcode notty "$sudo_id"
check_refused wrongcode
wrong=$(cat "$e2e_dir/askpass.wrong")
if [ -n "$wrong" ] && [ "$(e2e_count_requests /v1/auth/sms/verify \
	code "\"$wrong\"")" -ge 1 ]; then
	e2e_pass "wrongcode: the mock was asked to verify the wrong code"
else
	e2e_fail "wrongcode: the mock was asked to verify the wrong code"
fi

mock_reset
e2e_askpass_set right "not-$e2e_password"
as_user plain badpass notty "$sudo_id"
check_refused badpass
check_sends badpass 0

# --- grace: remember=300 on the auth line -----------------------------------

mock_reset
e2e_askpass_set right "$e2e_password"
as_user grace grace-first notty "$sudo_id; $sudo_id"
check_root grace-first 2
check_prompts grace-first "password code password"
check_sends grace-first 1

# What the window is keyed on without a terminal (PAM_TTY unset): the
# service, "-" for terminal and host, and the login session (its id and
# start time), so another session is a stranger.
key=$(sed -n 's/^remember \([^ ]*\) .*/\1/p' "$e2e_dir/store/$e2e_user")
echo "NOTE: grace key without a terminal: $key"

e2e_askpass_set right "$e2e_password"
as_user grace grace-other-session notty "$sudo_id"
check_root grace-other-session
check_prompts grace-other-session "password code"
check_sends grace-other-session 2

# Another PAM service: sudo -i uses sudo-i.
e2e_askpass_set right "$e2e_password"
as_user grace grace-sudo-i notty \
	'sudo -k; sudo -A -i sh -c "echo UID=\$(id -u)"'
check_root grace-sudo-i
check_prompts grace-sudo-i "password code"
check_sends grace-sudo-i 3

# A terminal: asked (another key than no terminal), then not asked again
# on the same terminal.
e2e_askpass_set right "$e2e_password"
as_user grace grace-tty tty "tty; $sudo_id; $sudo_id"
check_root grace-tty 2
check_prompts grace-tty "password code password"
check_sends grace-tty 4

# Another terminal, opened after that one was closed, must be asked again,
# even when the kernel hands it the same /dev/pts/N name.
e2e_askpass_set right "$e2e_password"
as_user grace grace-tty2 tty "tty; $sudo_id"
check_root grace-tty2
tty1=$(tty_of grace-tty) tty2=$(tty_of grace-tty2)
[ -n "$tty1" ] && [ "$tty1" = "$tty2" ] &&
	echo "NOTE: the second terminal reused the name $tty2"
check_prompts grace-tty2 "password code"

# (That `baxverify reset` ends a window is checked by tests/cli.)

echo "sudo.sh: $(($(date +%s) - started)) s for the sudo runs"
e2e_finish
