#!/bin/sh
# sms-echo.sh PHONE - a delivery command for test_local.c that fails the
# way a careless gateway client does: it echoes what it was given - the
# phone number, with and without its "+", and the message with the code -
# on the first line of its standard error, then exits with status 1.
# What it was given is also appended to the outbox ("PHONE: MESSAGE", as
# sms-record.sh writes it), so that the test knows the code that must
# never reach syslog, and can type it later: a code whose delivery failed
# must not work.
# Run from a descriptor (fexecve), a script's $0 is /dev/fd/N: where
# that descriptor points is its real path.
self=$0
case $0 in /dev/fd/*) self=$(readlink "/proc/$$/fd/${0#/dev/fd/}") ;; esac
d=${self%/*}

msg=$(cat)
printf '%s: %s\n' "$1" "$msg" >>"$d/outbox"
printf 'sms-gw: to %s (%s, alice@example.org) failed: "%s"\n' "$1" \
	"${1#+}" "$msg" >&2
exit 1
