#!/bin/sh
# run-faults.sh - the fault matrix and environment-hygiene checks of
# pam_baxverify (tests/pam/test_faults.c) under pam_wrapper.
#
# Started by `make check` (automake TESTS) with, in the environment:
#   BV_MODULE        absolute path of the built .libs/pam_baxverify.so
#   BV_SYSLOG_SHIM   absolute path of the built syslog_capture.so
#   srcdir           the source tree (tests/mock/ lives there)
# Optional:
#   BV_TEST_FAULTS   the built tests/pam/test_faults program
#                    (default: tests/pam/test_faults, from the build dir)
#   BV_DOCS_DIR      where test_faults writes fault-matrix.md (the Makefile
#                    sets it to the source tree's docs/ for normal builds)
#   BV_PRELOAD_FIRST a library that must come first in LD_PRELOAD (libasan)
#   BV_TEST_FILTER   run only the cases whose name contains it (no table is
#                    written then)
#
# It makes a scratch directory with the test PKI (tests/mock/make-ca.sh),
# starts five instances of the loopback mock - the proper one, one serving
# a certificate for another host, an expired one, a self-signed one (not
# from the test CA) and one speaking plain HTTP - and a directory in which
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
BV_TEST_FAULTS=${BV_TEST_FAULTS:-tests/pam/test_faults}
srcdir=${srcdir:-.}
python=/usr/bin/python3
[ -x "$python" ] || python=python3

# Must match API_KEY, PROJECT_ID, TRYVOX_KEY, TENANT_ID and MUDBASE_PROJECT
# in harness.h.
api_key=sk_test_SECRET_9f8e7d
project_id=proj_test
tryvox_key=tvx_sk_test_K3y9Qz7Wm4
tenant_id=acc_test
mudbase_project=proj_mud

skip() {
	echo "SKIP: $*" >&2
	exit 77
}
fail() {
	echo "FAIL: $*" >&2
	exit 99
}

pam_wrapper_lib=
pw_libdir=$(pkg-config --variable=libdir pam_wrapper 2>/dev/null || :)
for lib in ${pw_libdir:+"$pw_libdir/libpam_wrapper.so"} \
	/usr/lib/x86_64-linux-gnu/libpam_wrapper.so \
	/usr/lib64/libpam_wrapper.so /usr/lib/libpam_wrapper.so \
	/usr/local/lib/libpam_wrapper.so; do
	if [ -f "$lib" ]; then
		pam_wrapper_lib=$lib
		break
	fi
done
[ -n "$pam_wrapper_lib" ] ||
	skip "libpam_wrapper.so not found (install libpam-wrapper)"
command -v openssl >/dev/null 2>&1 || skip "openssl not found"
[ -f "$BV_MODULE" ] || fail "module $BV_MODULE not built"
[ -f "$BV_SYSLOG_SHIM" ] || fail "$BV_SYSLOG_SHIM not built"
[ -x "$BV_TEST_FAULTS" ] || fail "$BV_TEST_FAULTS not built"

dir=
pids=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null || :
	done
	for pid in $pids; do
		wait "$pid" 2>/dev/null || :
	done
	[ -z "$dir" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$(date +%s)
dir=$(mktemp -d "${TMPDIR:-/tmp}/bv-faults.XXXXXX")
chmod 700 "$dir"
umask 077

sh "$srcdir/tests/mock/make-ca.sh" "$dir/pki" >"$dir/make-ca.log" 2>&1 || {
	cat "$dir/make-ca.log" >&2
	fail "make-ca.sh"
}

# mock NAME [arguments...]: start one instance; its port lands in
# $dir/NAME.port.
mock() {
	name=$1
	shift
	"$python" "$srcdir/tests/mock/mock_baxverify.py" "$@" \
		--port 0 --port-file "$dir/$name.port" \
		--project-id "$project_id" --api-key "$api_key" \
		--tryvox-key "$tryvox_key" --tenant-id "$tenant_id" \
		--mudbase-project "$mudbase_project" \
		>"$dir/$name.log" 2>&1 &
	pids="$pids $!"
	eval "pid_$name=\$!"
}
for cert in server wronghost expired selfsigned; do
	mock "$cert" --cert "$dir/pki/$cert.pem" --key "$dir/pki/$cert.key"
done
mock plain --plain

# Wait for every port file (they start in parallel).
for name in server wronghost expired selfsigned plain; do
	i=0
	while [ ! -s "$dir/$name.port" ]; do
		eval "pid=\$pid_$name"
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$dir/$name.log" >&2
			fail "the $name mock exited"
		fi
		i=$((i + 1))
		[ "$i" -le 100 ] || fail "the $name mock did not start in 10 s"
		sleep 0.1
	done
done

# A CA directory as SSL_CERT_DIR wants it, trusting only the self-signed
# certificate.
mkdir "$dir/env-ca"
cp "$dir/pki/selfsigned.pem" "$dir/env-ca/selfsigned.pem"
hash=$(openssl x509 -hash -noout -in "$dir/pki/selfsigned.pem")
ln -s selfsigned.pem "$dir/env-ca/$hash.0"
chmod 755 "$dir" "$dir/pki" "$dir/env-ca"

# --- PAM service files (as in run-pam-tests.sh) ---------------------------

conf="$dir/baxverify.conf"
mkdir "$dir/pam.d"
service() { # NAME [module arguments...]
	name=$1
	shift
	{
		printf 'auth [ignore=ignore default=done] %s conf=%s%s\n' \
			"$BV_MODULE" "$conf" "${*:+ $*}"
		echo "auth required pam_debug.so auth=module_unknown"
		echo "account required pam_permit.so"
	} >"$dir/pam.d/$name"
}
service bv
service bv_safe failmode=safe
cat >"$dir/pam.d/other" <<EOF
auth required pam_deny.so
account required pam_deny.so
password required pam_deny.so
session required pam_deny.so
EOF

preload="$pam_wrapper_lib $BV_SYSLOG_SHIM"
deepbind=
if [ -n "${BV_PRELOAD_FIRST:-}" ]; then
	preload="$BV_PRELOAD_FIRST $preload"
	deepbind=1
fi

rc=0
env BV_TESTDIR="$dir" \
	BV_MOCK_URL="https://127.0.0.1:$(cat "$dir/server.port")" \
	BV_CA_FILE="$dir/pki/ca.pem" BV_SYSLOG_FILE="$dir/syslog" \
	BV_WRONGHOST_PORT="$(cat "$dir/wronghost.port")" \
	BV_EXPIRED_PORT="$(cat "$dir/expired.port")" \
	BV_SELFSIGNED_PORT="$(cat "$dir/selfsigned.port")" \
	BV_PLAIN_PORT="$(cat "$dir/plain.port")" \
	BV_SELFSIGNED_PEM="$dir/pki/selfsigned.pem" \
	BV_ENV_CA_DIR="$dir/env-ca" \
	${deepbind:+PAM_WRAPPER_DISABLE_DEEPBIND=1} \
	${deepbind:+UID_WRAPPER_DISABLE_DEEPBIND=1} \
	LD_PRELOAD="$preload" PAM_WRAPPER=1 PAM_WRAPPER_USE_SYSLOG=1 \
	PAM_WRAPPER_SERVICE_DIR="$dir/pam.d" \
	"$BV_TEST_FAULTS" ${BV_TEST_FILTER:+"$BV_TEST_FILTER"} || rc=$?
# cmocka exits with the number of failed cases: 77 would read as a skip.
[ "$rc" -ne 77 ] || rc=1
echo "run-faults.sh: $(($(date +%s) - start)) s"
exit "$rc"
