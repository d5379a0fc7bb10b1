#!/bin/sh
# sms-record.sh PHONE - a delivery command for test_local.c.
#
# pam_baxverify runs it as local.command: the phone as the only argument,
# the message on stdin, an empty environment.  It records what it was
# given next to itself (run-pam-tests.sh copies it into the scratch
# directory) and succeeds:
#   sms-record.fds    descriptors it inherited: "N target" per line
#   sms-record.argv   the argument count, then each argument, per line
#   sms-record.env    its environment exactly as execve(2) passed it
#   sms-record.stdin  the message, byte for byte
#   outbox            "PHONE: MESSAGE", as delivery = "file" writes it
# No PATH is needed: the shell's default finds the tools.
# Run from a descriptor (fexecve), a script's $0 is /dev/fd/N: where
# that descriptor points is its real path.
self=$0
case $0 in /dev/fd/*) self=$(readlink "/proc/$$/fd/${0#/dev/fd/}") ;; esac
d=${self%/*}

# First, before anything here opens a file: what did we inherit?  stdout
# is replaced for good (exec), so no saved copy of it shows up; the
# shell's own descriptor on this script is left for the test to ignore.
exec >"$d/sms-record.fds"
find /proc/$$/fd -mindepth 1 -maxdepth 1 -printf '%f %l\n'

exec >"$d/sms-record.argv"
printf '%s\n' "$#" "$@"
tr '\0' '\n' </proc/$$/environ >"$d/sms-record.env"
cat >"$d/sms-record.stdin"
{
	printf '%s: ' "$1"
	cat "$d/sms-record.stdin"
	echo
} >>"$d/outbox"
exit 0
