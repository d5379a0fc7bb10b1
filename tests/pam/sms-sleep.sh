#!/bin/sh
# sms-sleep.sh PHONE - a delivery command for test_local.c that hangs, as a
# gateway client stuck on the network does: a child of its own sleeps
# (the shell does not exec it), and both PIDs are written to
# sms-sleep.pids so the test can tell whether anything outlived the
# module's timeout.
d=${0%/*}
sleep 30 &
echo "$$ $!" >"$d/sms-sleep.pids"
wait
