#!/bin/sh
# run-bench.sh - build and run the performance benchmark of pam_baxverify.
#
#   bench/run-bench.sh [-n ITERATIONS] [-w WARMUP]
#
# Builds bench/bench_auth and the module (`make bench` in the build
# directory), makes a throwaway test CA, starts the loopback mock BaxVerify
# (tests/mock/mock_baxverify.py), writes the module's configurations, a
# phones file, the store directories and the PAM service files in a
# scratch directory, and runs bench_auth under pam_wrapper: it prints a
# table of mean and median microseconds per login beside their floors
# (pam_permit; a bare libcurl client making the same requests; crypt_r).
# Nothing outside the scratch directory is touched (bench_auth removes the
# /tmp/pam.X copies pam_wrapper makes); the mock is stopped by its PID and
# the directory removed on exit.  A run takes about a minute.  The exit code is
# bench_auth's: 0, or 1 when a check failed (connections per login, no
# connection for a skipped user, identical requests), 99 on an error.
#
# Environment (all optional):
#   BV_BUILDDIR  the configured build tree (default: this script's ../)
#   BV_MODULE    the built module (default: $BV_BUILDDIR/.libs/pam_baxverify.so)
#   BV_BENCH     the built program; when both BV_MODULE and BV_BENCH are
#                set, nothing is built
#   MAKE         make program (default: make)

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BV_BUILDDIR:-$srcdir}
python=/usr/bin/python3
[ -x "$python" ] || python=python3

# Test values, given from here to the mock and to bench_auth.
api_key=sk_bench_SECRET_4c1d
project_id=proj_bench
phone=+14155550123
code=246810
user=bvbench
# Outside the skip configuration's groups: any user is (the group does not
# exist); a real account makes the module look its groups up, as on a host.
skip_user=nobody
getent passwd "$skip_user" >/dev/null 2>&1 || skip_user=root

fail() {
	echo "run-bench.sh: $*" >&2
	exit 99
}

if [ -z "${BV_BENCH:-}" ] || [ -z "${BV_MODULE:-}" ]; then
	${MAKE:-make} -C "$builddir" bench >&2 || fail "make bench failed"
fi
bench=${BV_BENCH:-$builddir/bench/bench_auth}
module=${BV_MODULE:-$builddir/.libs/pam_baxverify.so}
[ -x "$bench" ] || fail "$bench not built (no \"bench\" target in Makefile.am?)"
[ -f "$module" ] || fail "$module not built"
case $module in /*) ;; *) module=$(pwd)/$module ;; esac

# libpam_wrapper.so: where pkg-config says, else the usual places.
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
[ -n "$pam_wrapper_lib" ] || fail "libpam_wrapper.so not found (install libpam-wrapper)"
command -v openssl >/dev/null 2>&1 || fail "openssl not found"

dir=
mock_pid=
cleanup() {
	if [ -n "$mock_pid" ]; then
		kill "$mock_pid" 2>/dev/null || :
		wait "$mock_pid" 2>/dev/null || :
	fi
	[ -z "$dir" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dir=$(mktemp -d "${TMPDIR:-/tmp}/bv-bench.XXXXXX")
chmod 700 "$dir"
umask 077

# --- the test CA and the mock ---------------------------------------------

sh "$srcdir/tests/mock/make-ca.sh" "$dir/pki" >"$dir/make-ca.log" 2>&1 || {
	cat "$dir/make-ca.log" >&2
	fail "make-ca.sh failed"
}

# A send limit no run reaches: every login sends a code to one number.
"$python" "$srcdir/tests/mock/mock_baxverify.py" \
	--cert "$dir/pki/server.pem" --key "$dir/pki/server.key" \
	--port 0 --port-file "$dir/port" \
	--project-id "$project_id" --api-key "$api_key" \
	--send-limit 1000000 --send-window 1 \
	>"$dir/mock.log" 2>&1 &
mock_pid=$!

i=0
while [ ! -s "$dir/port" ]; do
	if ! kill -0 "$mock_pid" 2>/dev/null; then
		cat "$dir/mock.log" >&2
		mock_pid=
		fail "the mock server exited"
	fi
	i=$((i + 1))
	[ "$i" -le 100 ] || fail "the mock server did not start within 10 s"
	sleep 0.1
done
mock_url="https://127.0.0.1:$(cat "$dir/port")"

# --- the module's configuration -------------------------------------------

printf '%s %s\n' "$user" "$phone" >"$dir/baxverify.phones"
chmod 600 "$dir/baxverify.phones"
mkdir -m 700 "$dir/store-bax" "$dir/store-local"

# conf NAME PROVIDER STORE [more settings]: a configuration file, mode 0600
# (it holds the API key).  No send limit: every login sends a code.
conf() {
	cat >"$dir/$1.conf" <<EOF
provider = "$2";
baxverify = {
  api_url = "$mock_url/v1";
  project_id = "$project_id";
  api_key = "$api_key";
};
local = {
  delivery = "file";
  file = "$dir/outbox";
};
http = {
  ca_file = "$dir/pki/ca.pem";
  connect_timeout = 5;
  timeout = 10;
};
phones = { file = "$dir/baxverify.phones"; };
store = { dir = "$dir/$3"; };
helper = "$builddir/baxverify-helper";
limits = { max_sends_per_hour = 0; };
${4:-}
EOF
	chmod 600 "$dir/$1.conf"
}
conf bax baxverify store-bax
conf skip baxverify store-bax 'groups = ["bv-bench-no-such-group"];'
conf local local store-local

# --- PAM service files ----------------------------------------------------

mkdir "$dir/pam.d"
echo "auth required pam_permit.so" >"$dir/pam.d/bench_permit"
# The module in front of the same pam_permit line: PAM_IGNORE goes on to
# pam_permit (PAM_SUCCESS); anything else the module says ends the stack
# with a failure, which bench_auth reports.
{
	echo "auth [ignore=ignore default=die] $module conf=$dir/skip.conf"
	echo "auth required pam_permit.so"
} >"$dir/pam.d/bench_skip"
echo "auth required $module conf=$dir/bax.conf" >"$dir/pam.d/bench_bax"
echo "auth required $module conf=$dir/local.conf" >"$dir/pam.d/bench_local"
cat >"$dir/pam.d/other" <<EOF
auth required pam_deny.so
account required pam_deny.so
password required pam_deny.so
session required pam_deny.so
EOF

# The module's libraries that sshd links too (for the sshd-like skip row):
# a login in sshd finds these loaded already.
host_libs=
if [ -x /usr/sbin/sshd ] && command -v ldd >/dev/null 2>&1; then
	ldd /usr/sbin/sshd 2>/dev/null | awk '$2 == "=>" { print $1 }' |
		sort -u >"$dir/sshd.libs" || :
	host_libs=$(ldd "$module" 2>/dev/null |
		awk '$2 == "=>" { print $1 }' | sort -u |
		comm -12 - "$dir/sshd.libs" | tr '\n' ' ')
fi

# --- run ------------------------------------------------------------------

rc=0
env BV_BENCH_MOCK_URL="$mock_url" BV_BENCH_CA="$dir/pki/ca.pem" \
	BV_BENCH_API_KEY="$api_key" BV_BENCH_PROJECT_ID="$project_id" \
	BV_BENCH_PHONE="$phone" BV_BENCH_CODE="$code" \
	BV_BENCH_USER="$user" BV_BENCH_SKIP_USER="$skip_user" \
	BV_BENCH_OUTBOX="$dir/outbox" BV_BENCH_HOST_LIBS="$host_libs" \
	LD_PRELOAD="$pam_wrapper_lib" PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR="$dir/pam.d" \
	"$bench" "$@" || rc=$?
if [ "$rc" -eq 99 ]; then
	echo "run-bench.sh: mock log:" >&2
	tail -n 20 "$dir/mock.log" >&2
fi
exit "$rc"
