#!/bin/sh
# sms-sleep-exec.sh PHONE - as sms-sleep.sh, but the hanging program is
# the module's direct child (exec): its PID goes to sms-sleep.pids.
d=${0%/*}
echo "$$" >"$d/sms-sleep.pids"
exec sleep 30
