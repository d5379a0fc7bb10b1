#!/bin/sh
# sms-hostile.sh PHONE - a delivery command for test_local.c whose error
# output is hostile: terminal escapes (7-bit, 8-bit CSI, UTF-8 C1), a
# carriage return, 100 KB of text on the first line, a NUL byte, more
# after it; then exit status 1.  The module must keep reading (or the
# program would block on a full pipe), and log one short clean line.
cat >/dev/null
printf '\033]0;owned\007\033[2J\233\302\233\rgateway says: ' >&2
head -c 102400 /dev/zero | tr '\0' A >&2
printf '\000after the NUL\n\033[31mline two\n' >&2
exit 1
