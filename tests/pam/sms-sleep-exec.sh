#!/bin/sh
# sms-sleep-exec.sh PHONE - as sms-sleep.sh, but the hanging program is
# the module's direct child (exec): its PID goes to sms-sleep.pids.
# Run from a descriptor (fexecve), a script's $0 is /dev/fd/N: where
# that descriptor points is its real path.
self=$0
case $0 in /dev/fd/*) self=$(readlink "/proc/$$/fd/${0#/dev/fd/}") ;; esac
d=${self%/*}
echo "$$" >"$d/sms-sleep.pids"
exec sleep 30
