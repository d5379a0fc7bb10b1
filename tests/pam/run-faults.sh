#!/bin/sh
# run-faults.sh [PROGRAM [FILTER]] - the fault matrix and
# environment-hygiene checks of pam_baxverify (tests/pam/test_faults.c)
# under pam_wrapper.
#
# `make check` starts it for tests/pam/test_faults (tests/run-test.sh,
# automake's LOG_COMPILER), with, in the environment:
#   BV_MODULE        absolute path of the built .libs/pam_baxverify.so
#   BV_SYSLOG_SHIM   absolute path of the built syslog_capture.so
#   srcdir           the source tree (tests/mock/ lives there)
# PROGRAM defaults to $BV_TEST_FAULTS, else tests/pam/test_faults.
# Optional:
#   BV_FAULT_MATRIX  the file test_faults writes the matrix to (the Makefile
#                    sets it to tests/pam/fault-matrix.md in the build
#                    directory; never the source tree, read-only under
#                    make distcheck)
#   BV_PRELOAD_FIRST a library that must come first in LD_PRELOAD (libasan)
#   BV_TEST_FILTER   run only the cases whose name contains it (no table is
#                    written then; or FILTER, the second argument)
#
# It makes a scratch directory with the test PKI (tests/mock/make-ca.sh),
# starts six instances of the loopback mock - the proper one, one serving
# a certificate for another host, an expired one, a self-signed one (not
# from the test CA), one speaking plain HTTP, and the failing primary of
# the provider-health rows (BV_PRIMARY_URL) - and a directory in which
# the self-signed certificate is a hashed trust anchor (for SSL_CERT_DIR),
# writes the PAM service files and runs test_faults.  Every mock is stopped
# by its PID and the directory removed on exit.

set -eu

# The matrix takes over a minute; the main `make check` runs it, the
# repeat runs (distcheck, the sanitizer build) set BV_QUICK and skip it.
if [ -n "${BV_QUICK:-}" ]; then
	echo "run-faults: skipped under BV_QUICK (it runs in the main make check)"
	exit 77
fi

: "${BV_MODULE:?BV_MODULE not set}"
: "${BV_SYSLOG_SHIM:?BV_SYSLOG_SHIM not set}"
BV_TEST_FAULTS=${1:-${BV_TEST_FAULTS:-tests/pam/test_faults}}
BV_TEST_FILTER=${2:-${BV_TEST_FILTER:-}}
srcdir=${srcdir:-.}
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"

bv_find_pam_wrapper ||
	bv_skip "libpam_wrapper.so not found (install libpam-wrapper)"
command -v openssl >/dev/null 2>&1 || bv_skip "openssl not found"
[ -f "$BV_MODULE" ] || bv_fail "module $BV_MODULE not built"
[ -f "$BV_SYSLOG_SHIM" ] || bv_fail "$BV_SYSLOG_SHIM not built"
[ -x "$BV_TEST_FAULTS" ] || bv_fail "$BV_TEST_FAULTS not built"

start=$(date +%s)
bv_scratch_dir faults
bv_make_ca

# The mocks start in parallel; each one's port lands in $dir/NAME.port.
for cert in server wronghost expired selfsigned; do
	bv_spawn_mock "$cert" --cert "$dir/pki/$cert.pem" \
		--key "$dir/pki/$cert.key"
done
bv_spawn_mock plain --plain
# The provider-health rows' primary (BaxVerify failing) beside the proper
# mock (Tryvox answering): a mock of its own, so that its connections are
# counted apart.
bv_spawn_mock primary --cert "$dir/pki/server.pem" --key "$dir/pki/server.key"
# Wait for every port file.
for name in server wronghost expired selfsigned plain primary; do
	bv_wait_mock "$name" "$name mock"
done
mock_url="https://127.0.0.1:$(cat "$dir/server.port")" # BV_MOCK_URL

# A CA directory as SSL_CERT_DIR wants it, trusting only the self-signed
# certificate.
mkdir "$dir/env-ca"
cp "$dir/pki/selfsigned.pem" "$dir/env-ca/selfsigned.pem"
hash=$(openssl x509 -hash -noout -in "$dir/pki/selfsigned.pem")
ln -s selfsigned.pem "$dir/env-ca/$hash.0"
chmod 755 "$dir" "$dir/pki" "$dir/env-ca"

# --- PAM service files (tests/mock/lib.sh, as in run-pam-tests.sh) --------

conf="$dir/baxverify.conf"
bv_service bv
bv_service bv_safe failmode=safe
bv_write_other_service "$dir/pam.d"

bv_set_preload
rc=0
bv_under_pam_wrapper \
	BV_WRONGHOST_PORT="$(cat "$dir/wronghost.port")" \
	BV_EXPIRED_PORT="$(cat "$dir/expired.port")" \
	BV_SELFSIGNED_PORT="$(cat "$dir/selfsigned.port")" \
	BV_PLAIN_PORT="$(cat "$dir/plain.port")" \
	BV_SELFSIGNED_PEM="$dir/pki/selfsigned.pem" \
	BV_ENV_CA_DIR="$dir/env-ca" \
	BV_PRIMARY_URL="https://127.0.0.1:$(cat "$dir/primary.port")" \
	"$BV_TEST_FAULTS" ${BV_TEST_FILTER:+"$BV_TEST_FILTER"} || rc=$?
# cmocka exits with the number of failed cases: 77 would read as a skip.
[ "$rc" -ne 77 ] || rc=1
echo "run-faults.sh: $(($(date +%s) - start)) s"
exit "$rc"
