#!/bin/sh
# sms-sleep.sh PHONE - a delivery command for test_local.c that hangs, as a
# gateway client stuck on the network does: a child of its own sleeps
# (the shell does not exec it), and both PIDs are written to
# sms-sleep.pids so the test can tell whether anything outlived the
# module's timeout.
# Run from a descriptor (fexecve), a script's $0 is /dev/fd/N: where
# that descriptor points is its real path.
self=$0
case $0 in /dev/fd/*) self=$(readlink "/proc/$$/fd/${0#/dev/fd/}") ;; esac
d=${self%/*}
sleep 30 &
echo "$$ $!" >"$d/sms-sleep.pids"
wait
