#!/bin/sh
# sms-fail.sh PHONE - a delivery command for test_local.c that fails the
# way a gateway client does: exit status 3, a reason on stderr whose first
# line carries a terminal escape, and a second line the log must not get.
cat >/dev/null
printf 'gateway \033[31mrefused\033[0m: no credit left\n' >&2
printf 'second line: account 42 suspended\n' >&2
exit 3
