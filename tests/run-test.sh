#!/bin/sh
# run-test.sh TEST [ARGS...] - how `make check` starts each entry of TESTS
# (automake's LOG_COMPILER, Makefile.am), so that every test program is
# an entry of its own, with its own .log and .trs, named in the summary.
#
# The pam_wrapper programs need a setup around them - a scratch
# directory, a test CA, the loopback mock, PAM service files - which the
# runner of their kind makes afresh for each program:
#   tests/pam/test_faults  tests/pam/run-faults.sh    (five mocks)
#   tests/pam/test_loop    tests/pam/run-hardening.sh (valgrind, shims)
#   tests/pam/test_*       tests/pam/run-pam-tests.sh (one mock)
# Everything else (unit programs, test scripts) runs as it is.
#
# srcdir comes from AM_TESTS_ENVIRONMENT.
srcdir=${srcdir:-.}
case ${1#./} in
tests/pam/test_faults) exec sh "$srcdir/tests/pam/run-faults.sh" "$@" ;;
tests/pam/test_loop) exec sh "$srcdir/tests/pam/run-hardening.sh" "$@" ;;
tests/pam/test_*) exec sh "$srcdir/tests/pam/run-pam-tests.sh" "$@" ;;
*) exec "$@" ;;
esac
