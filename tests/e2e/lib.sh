# shellcheck shell=sh
# lib.sh - shared helpers of the end-to-end tests (tests/e2e/*.sh): the
# real sshd, ssh and sudo against the built module and the loopback mock.
# Sourced, not run.  POSIX sh.
#
# Environment (from AM_TESTS_ENVIRONMENT):
#   BV_MODULE  absolute path of the built .libs/pam_baxverify.so
#   BV_CLI     the built baxverify command (sudo.sh only)
#   srcdir     the source tree
# And from the sourcing script: e2e_here, its own directory (where
# count-requests.py is).
#
# Everything a test creates is recorded here and undone by e2e_cleanup,
# which runs on EXIT, INT and TERM: the processes it started (by PID), the
# users it created (userdel -r, after their processes are gone), its
# scratch directory, and the runtime files real programs leave behind
# (/run/sshd, /run/motd.dynamic, sudo's timestamp file of the test user)
# when they did not exist before.
#
# BV_E2E_KEEP=1 keeps the scratch directory (logs) for debugging.
#
# Output: one "PASS: name" or "FAIL: name" line per check; e2e_finish
# exits 0 when nothing failed, 1 otherwise.  Hard errors exit 99, missing
# prerequisites 77 (automake's skip).

srcdir=${srcdir:-.}
# The helpers shared with the other runners (bv_find_pam_wrapper,
# bv_write_other_service, ...).
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"
e2e_python=/usr/bin/python3
[ -x "$e2e_python" ] || e2e_python=$(command -v python3 || :)

e2e_dir=
e2e_pids=
e2e_users=
e2e_failed=0
e2e_undo_files= # runtime files to remove at exit (created by our run)

e2e_skip() {
	echo "SKIP: $*" >&2
	exit 77
}

e2e_hard() {
	echo "ERROR: $*" >&2
	exit 99
}

e2e_pass() {
	echo "PASS: $*"
}

# e2e_fail NAME [FILE...]: a failed check; the files are shown indented.
e2e_fail() {
	echo "FAIL: $1" >&2
	shift
	for e2e_f in "$@"; do
		[ -f "$e2e_f" ] || continue
		echo "  --- $e2e_f" >&2
		sed 's/^/    /' "$e2e_f" >&2
	done
	e2e_failed=1
}

# e2e_xfail NAME BUG COMMAND...: a check that fails today because of a
# known bug of the module (BUG says which).  While COMMAND fails it prints
# XFAIL and the test still passes; once COMMAND succeeds it prints XPASS
# and fails the test, so that the marker is turned into a plain check.
e2e_xfail() {
	e2e_name=$1 e2e_bug=$2
	shift 2
	if "$@"; then
		echo "XPASS: $e2e_name (known bug fixed? make it a plain check:" \
			"$e2e_bug)" >&2
		e2e_failed=1
	else
		echo "XFAIL: $e2e_name (known bug: $e2e_bug)"
	fi
}

e2e_finish() {
	[ "$e2e_failed" -eq 0 ] || exit 1
	exit 0
}

# Prerequisites shared by every e2e test: root, the built module, the mock.
e2e_require() {
	[ "$(id -u)" -eq 0 ] ||
		e2e_skip "the end-to-end tests need root (real sshd, sudo, users)"
	[ -n "${BV_MODULE:-}" ] || e2e_hard "BV_MODULE not set"
	[ -f "$BV_MODULE" ] || e2e_hard "module $BV_MODULE not built"
	# A sanitizer build: libasan must come first in a process, which the
	# real sshd cannot arrange and setuid sudo refuses (LD_PRELOAD).
	if [ -n "${BV_PRELOAD_FIRST:-}" ] ||
		ldd "$BV_MODULE" 2>/dev/null | grep -q 'libasan\|libubsan'; then
		e2e_skip "the module is built with sanitizers: real sshd and" \
			"sudo cannot load it (the main build runs these tests)"
	fi
	if [ -n "${BV_QUICK:-}" ]; then
		e2e_skip "BV_QUICK is set: the end-to-end tests are slow"
	fi
	[ -n "$e2e_python" ] || e2e_skip "python3 not found (mock server)"
	for e2e_c in openssl curl useradd userdel chpasswd "$@"; do
		command -v "$e2e_c" >/dev/null 2>&1 ||
			e2e_skip "$e2e_c not found"
	done
}

# --- cleanup --------------------------------------------------------------

e2e_kill_pid() { # PID: TERM, then KILL after 5 s
	kill "$1" 2>/dev/null || return 0
	e2e_i=0
	while kill -0 "$1" 2>/dev/null && [ "$e2e_i" -lt 50 ]; do
		e2e_i=$((e2e_i + 1))
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null || :
	wait "$1" 2>/dev/null || :
}

# Processes of a test user (an sshd session, a shell): ours by construction.
e2e_kill_user_procs() { # USER
	for e2e_p in $(ps -o pid= -u "$1" 2>/dev/null); do
		kill -9 "$e2e_p" 2>/dev/null || :
	done
}

e2e_cleanup() {
	set +e
	for e2e_p in $e2e_pids; do
		e2e_kill_pid "$e2e_p"
	done
	for e2e_u in $e2e_users; do
		e2e_kill_user_procs "$e2e_u"
		userdel -r "$e2e_u" >/dev/null 2>&1 ||
			userdel -f -r "$e2e_u" >/dev/null 2>&1
		rm -f "/run/sudo/ts/$e2e_u"
	done
	for e2e_f in $e2e_undo_files; do
		if [ -d "$e2e_f" ]; then rmdir "$e2e_f"; else rm -f "$e2e_f"; fi
	done 2>/dev/null
	if [ -n "${BV_E2E_KEEP:-}" ] && [ -n "$e2e_dir" ]; then
		echo "BV_E2E_KEEP: kept $e2e_dir" >&2
	elif [ -n "$e2e_dir" ]; then
		rm -rf "$e2e_dir"
	fi
}

# Remove PATH at exit if it does not exist now (a side effect of a real
# program: sshd's privilege separation dir, pam_motd's output).
e2e_undo_if_new() { # PATH
	[ -e "$1" ] || e2e_undo_files="$e2e_undo_files $1"
}

# e2e_init NAME [PARENT]: the scratch directory (mode 755 in PARENT,
# default /tmp: scripts and data in it must be readable by the test user)
# and the traps.
e2e_init() {
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	umask 022
	e2e_dir=$(mktemp -d "${2:-/tmp}/bv-e2e-$1.XXXXXX") || e2e_hard "mktemp"
	chmod 755 "$e2e_dir"
	mkdir "$e2e_dir/etc" "$e2e_dir/store"
	chmod 700 "$e2e_dir/etc" "$e2e_dir/store"
}

# --- the mock server ------------------------------------------------------

e2e_api_key=sk_test_E2E_4c7d1e9a
e2e_project_id=proj_e2e
# What tests/mock/lib.sh gives the mock and writes into configurations.
bv_api_key=$e2e_api_key
bv_project_id=$e2e_project_id

# Start the mock over HTTPS with a fresh test CA (tests/mock/lib.sh's
# bv_make_ca and bv_start_mock, in $e2e_dir); sets e2e_mock_url, e2e_ca
# and e2e_mock_pid.  The CA and the server certificate are
# world-readable: the askpass helpers of the test user read the outbox.
e2e_start_mock() {
	dir=$e2e_dir
	bv_make_ca
	chmod 755 "$e2e_dir/pki"
	e2e_ca=$e2e_dir/pki/ca.pem
	# send-limit: the mock's own per-phone limit (5 a minute by default)
	# would refuse the later logins of a test.
	bv_start_mock --send-limit 1000
	e2e_mock_pid=$mock_pid
	e2e_pids="$e2e_pids $e2e_mock_pid"
	e2e_mock_url=$mock_url
}

e2e_stop_mock() {
	e2e_kill_pid "$e2e_mock_pid"
}

# e2e_mock PATH [JSON]: GET, or POST the JSON; the answer on stdout.
e2e_mock() {
	if [ $# -gt 1 ]; then
		curl -fsS --cacert "$e2e_ca" -H 'Content-Type: application/json' \
			--data "$2" "$e2e_mock_url$1"
	else
		curl -fsS --cacert "$e2e_ca" "$e2e_mock_url$1"
	fi
}

# e2e_count_requests PATH [KEY VALUE]: how many API requests the mock got
# on PATH (e.g. /v1/auth/sms/send), optionally only those whose JSON body
# has KEY equal to VALUE (compared as JSON: true, "123456", ...).
e2e_count_requests() {
	e2e_mock /_mock/requests |
		"$e2e_python" "$e2e_here/count-requests.py" "$@"
}

# e2e_last_body PATH KEY: KEY of the JSON body of the last request on PATH.
e2e_last_body() {
	e2e_mock /_mock/requests | "$e2e_python" -c '
import json, sys
hits = [r for r in json.load(sys.stdin)["requests"] if r["path"] == sys.argv[1]]
b = hits[-1]["body"] if hits else {}
print(b.get(sys.argv[2], "") if isinstance(b, dict) else "")' "$1" "$2"
}

# --- users ----------------------------------------------------------------

# e2e_add_user PREFIX: a user with a random name, a home in the scratch
# directory and a known password; sets e2e_user and e2e_password.
e2e_add_user() {
	e2e_s=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
	e2e_user=$1$e2e_s
	e2e_password=E2e-pw-$e2e_s
	useradd --create-home --home-dir "$e2e_dir/home" --user-group \
		--shell /bin/sh "$e2e_user" >"$e2e_dir/useradd.log" 2>&1 || {
		cat "$e2e_dir/useradd.log" >&2
		e2e_hard "useradd $e2e_user failed"
	}
	e2e_users="$e2e_users $e2e_user"
	echo "$e2e_user:$e2e_password" | chpasswd ||
		e2e_hard "chpasswd failed"
}

# --- module configuration -------------------------------------------------

# e2e_write_conf PHONE [extra top-level settings]: the module's
# configuration (root, 0600) pointing at the mock with the test CA, a
# phones file with the test user, the store in the scratch directory.
# limits: a test sends more codes and fails more often than the defaults
# (5 an hour, lockout after 5 failures) allow; they are not what these
# tests are about.
e2e_conf=
e2e_write_conf() {
	e2e_phone=$1
	e2e_conf=$e2e_dir/etc/baxverify.conf
	printf '%s %s\n' "$e2e_user" "$e2e_phone" \
		>"$e2e_dir/etc/baxverify.phones"
	chmod 644 "$e2e_dir/etc/baxverify.phones"
	bv_write_conf "$e2e_conf" "phones.file=$e2e_dir/etc/baxverify.phones" \
		limits.max_sends_per_hour=50 limits.deny=50 ${2:+"+$2"}
}

# --- PAM stacks from pam.d-examples/ ----------------------------------------

# e2e_pam_from_example NAME OUT [auth arguments...]: OUT is
# pam.d-examples/NAME with
#   - each active line naming pam_baxverify.so given the module's absolute
#     path and conf=<the test configuration> (and, on auth lines, the extra
#     arguments);
#   - each "@include FILE" replaced by the active lines of /etc/pam.d/FILE,
#     which is what libpam does with it (pam_wrapper's service directory
#     has no common-* files).
# Comments and every other line are kept as they are.  examples.sh checks
# that this is all that changes.
e2e_pam_from_example() {
	e2e_src=$srcdir/pam.d-examples/$1
	e2e_out=$2
	shift 2
	[ -f "$e2e_src" ] || e2e_hard "no example $e2e_src"
	awk -v mod="$BV_MODULE" -v conf="$e2e_conf" -v extra="$*" '
	function include(file,    line, n) {
		path = "/etc/pam.d/" file
		print "# --- @include " file " (from " path ")"
		n = 0
		while ((getline line < path) > 0) {
			if (line ~ /^[ \t]*(#|$)/)
				continue
			if (line ~ /^[ \t]*@include/) {
				print "lib.sh: nested @include in " path \
					> "/dev/stderr"
				exit 3
			}
			print line
			n++
		}
		close(path)
		if (n == 0) {
			print "lib.sh: " path " missing or empty" \
				> "/dev/stderr"
			exit 3
		}
		print "# --- end of " file
	}
	/^[ \t]*#/ { print; next }
	/^[ \t]*@include[ \t]/ { include($2); next }
	/pam_baxverify\.so/ {
		args = "conf=" conf
		if ($1 == "auth" && extra != "")
			args = args " " extra
		sub(/pam_baxverify\.so/, mod " " args)
	}
	{ print }
	' "$e2e_src" >"$e2e_out" ||
		e2e_hard "cannot make $e2e_out from $e2e_src"
}

# --- askpass ----------------------------------------------------------------

# e2e_make_askpass: $e2e_dir/askpass, an SSH_ASKPASS / SUDO_ASKPASS helper
# for the test user.  It appends each prompt to askpass.log (one line, the
# newlines in it as "|") and answers
#   a password prompt  with the contents of askpass.password;
#   the code prompt    with the code the mock last delivered to the user's
#                      phone, or, when askpass.mode says "wrong", with that
#                      code with each digit + 1 (recorded in askpass.wrong);
#   anything else      with nothing (exit 1).
# Everything it reads is world-readable; the files it writes belong to the
# test user.
e2e_make_askpass() {
	e2e_q=$(printf '%s' "$e2e_phone" | sed 's/+/%2B/')
	cat >"$e2e_dir/askpass" <<EOF
#!/bin/sh
d=$e2e_dir
# One line per prompt: sshd puts the module's messages before the prompt,
# on lines of their own.
printf '%s\n' "\$1" | tr '\n' '|' >>"\$d/askpass.log"
echo >>"\$d/askpass.log"
case \$1 in
*[Pp]assword*:*)
	cat "\$d/askpass.password"
	;;
*"Verification code:"*)
	code=\$(curl -fsS --cacert "$e2e_ca" \\
		"$e2e_mock_url/_mock/outbox/last?phone=$e2e_q" |
		sed -n 's/.*"code":"\\([0-9]*\\)".*/\\1/p')
	if [ "\$(cat "\$d/askpass.mode")" = wrong ]; then
		code=\$(printf '%s' "\$code" | tr 0-9 1-90)
		printf '%s\n' "\$code" >"\$d/askpass.wrong"
	fi
	printf '%s\n' "\$code"
	;;
*)
	exit 1
	;;
esac
EOF
	chmod 755 "$e2e_dir/askpass"
	for e2e_f in askpass.log askpass.wrong; do
		: >"$e2e_dir/$e2e_f"
		chown "$e2e_user" "$e2e_dir/$e2e_f"
		chmod 644 "$e2e_dir/$e2e_f"
	done
	e2e_askpass_set right "$e2e_password"
}

# e2e_askpass_set MODE PASSWORD: how the next prompts are answered; the
# prompt log starts empty.
e2e_askpass_set() {
	echo "$1" >"$e2e_dir/askpass.mode"
	printf '%s\n' "$2" >"$e2e_dir/askpass.password"
	chmod 644 "$e2e_dir/askpass.mode" "$e2e_dir/askpass.password"
	: >"$e2e_dir/askpass.log"
	: >"$e2e_dir/askpass.wrong"
}

# e2e_prompts: the prompts asked since the last e2e_askpass_set, one word
# each ("password" or "code" or "other"), space-separated.
e2e_prompts() {
	sed -e 's/.*Verification code:.*/code/' \
		-e 's/.*[Pp]assword.*:.*/password/' \
		-e '/^code$/!{/^password$/!s/.*/other/;}' \
		"$e2e_dir/askpass.log" | tr '\n' ' ' | sed 's/ $//'
}
