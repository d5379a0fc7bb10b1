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
# (pam_permit; a bare libcurl client making the same requests, as a
# program and alone; a libcurl program's start), with the goals.
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
# The tests' mock starter and config writer.
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"
bv_fail_word=run-bench.sh

# Test values, given from here to the mock and to bench_auth.
api_key=sk_bench_SECRET_4c1d
project_id=proj_bench
phone=+14155550123
code=246810
user=bvbench
# A real account outside the skip configuration's group, so that the
# module looks its groups up as on a host.
skip_user=nobody
getent passwd "$skip_user" >/dev/null 2>&1 || skip_user=root

# The mock's credentials (tests/mock/lib.sh gives them to it).
bv_api_key=$api_key
bv_project_id=$project_id

fail() {
	bv_fail "$@"
}

if [ -z "${BV_BENCH:-}" ] || [ -z "${BV_MODULE:-}" ]; then
	${MAKE:-make} -C "$builddir" bench >&2 || fail "make bench failed"
fi
bench=${BV_BENCH:-$builddir/bench/bench_auth}
bare=${BV_BENCH_BARE:-$builddir/bench/bare_client}
helper=$builddir/baxverify-helper
module=${BV_MODULE:-$builddir/.libs/pam_baxverify.so}
[ -x "$bench" ] || fail "$bench not built (no \"bench\" target in Makefile.am?)"
[ -x "$bare" ] || fail "$bare not built"
[ -x "$helper" ] || fail "$helper not built"
[ -f "$module" ] || fail "$module not built"
case $module in /*) ;; *) module=$(pwd)/$module ;; esac

bv_find_pam_wrapper ||
	fail "libpam_wrapper.so not found (install libpam-wrapper)"
command -v openssl >/dev/null 2>&1 || fail "openssl not found"

# $dir: removed, the mock stopped by its PID, on exit.
bv_scratch_dir bench

# --- the test CA and the mock ---------------------------------------------

bv_make_ca
# A send limit no run reaches: every login sends a code to one number.
bv_start_mock --send-limit 1000000 --send-window 1

# --- the module's configuration -------------------------------------------

printf '%s %s\n' "$user" "$phone" >"$dir/baxverify.phones"
chmod 600 "$dir/baxverify.phones"
mkdir -m 700 "$dir/store-bax" "$dir/store-local"

# conf NAME PROVIDER STORE [SETTING...]: a configuration file, mode 0600
# (it holds the API key; bv_write_conf).  No send limit: every login
# sends a code.
conf() {
	bv_conf_name=$1 bv_conf_provider=$2 bv_conf_store=$3
	shift 3
	bv_write_conf "$dir/$bv_conf_name.conf" "provider=$bv_conf_provider" \
		local.delivery=file "local.file=$dir/outbox" \
		"store.dir=$dir/$bv_conf_store" \
		"helper=$builddir/baxverify-helper" \
		limits.max_sends_per_hour=0 "$@"
}
conf bax baxverify store-bax
conf local local store-local

# The skipped user's configuration: the shipped, fully commented file as
# an administrator starts from it, with "groups" naming a group that
# exists (as a real one does) and that the skip user is not in.
skip_gid=$(id -g "$skip_user")
skip_group=$(getent group | awk -F: -v u="$skip_user" -v g="$skip_gid" \
	'$3 != g && ("," $4 ",") !~ ("," u ",") { print $1; exit }')
[ -n "$skip_group" ] || fail "no group found that $skip_user is not in"
sed "s/^groups = \[\];/groups = [\"$skip_group\"];/" \
	"$srcdir/conf/baxverify.conf" >"$dir/skip.conf"
grep -q "^groups = \[\"$skip_group\"\];" "$dir/skip.conf" ||
	fail "conf/baxverify.conf has no \"groups = [];\" line to change"
chmod 600 "$dir/skip.conf"

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
bv_write_other_service "$dir/pam.d"

# --- run ------------------------------------------------------------------

rc=0
env BV_BENCH_MOCK_URL="$mock_url" BV_BENCH_CA="$dir/pki/ca.pem" \
	BV_BENCH_API_KEY="$api_key" BV_BENCH_PROJECT_ID="$project_id" \
	BV_BENCH_PHONE="$phone" BV_BENCH_CODE="$code" \
	BV_BENCH_USER="$user" BV_BENCH_SKIP_USER="$skip_user" \
	BV_BENCH_OUTBOX="$dir/outbox" BV_BENCH_BARE="$bare" \
	BV_BENCH_HELPER="$helper" \
	LD_PRELOAD="$pam_wrapper_lib" PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR="$dir/pam.d" \
	"$bench" "$@" || rc=$?
if [ "$rc" -eq 99 ]; then
	echo "run-bench.sh: mock log:" >&2
	tail -n 20 "$dir/mock.log" >&2
fi
exit "$rc"
