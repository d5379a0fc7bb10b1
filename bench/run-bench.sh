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
# the directory removed on exit.  Then bench/bench_load runs the load rows
# (a dead service, failover, 1,000 concurrent logins: see the end of this
# file), about a minute and a half more.  The exit code is the worse of
# the two programs': 0, or 1 when a check failed (connections per login,
# no connection for a skipped user, identical requests; the load rows'
# goals), 99 on an error.
#
# Environment (all optional):
#   BV_BUILDDIR  the configured build tree (default: this script's ../)
#   BV_MODULE    the built module (default: $BV_BUILDDIR/.libs/pam_baxverify.so)
#   BV_BENCH     the built program; when both BV_MODULE and BV_BENCH are
#                set, nothing is built
#   BV_BENCH_LOAD  bench_load (default: $BV_BUILDDIR/bench/bench_load)
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
# The floor of bench_skip: a module that links libconfig and does nothing.
null_module=$builddir/bench/.libs/null_module.so
[ -f "$null_module" ] || fail "$null_module not built"
{
	echo "auth [ignore=ignore default=die] $null_module"
	echo "auth required pam_permit.so"
} >"$dir/pam.d/bench_null"
echo "auth required $module conf=$dir/bax.conf" >"$dir/pam.d/bench_bax"
echo "auth required $module conf=$dir/local.conf" >"$dir/pam.d/bench_local"
bv_write_other_service "$dir/pam.d"

# --- run ------------------------------------------------------------------

# bench_env COMMAND...: COMMAND with bench_auth's environment.
bench_env() {
	env BV_BENCH_MOCK_URL="$mock_url" BV_BENCH_CA="$dir/pki/ca.pem" \
		BV_BENCH_API_KEY="$api_key" BV_BENCH_PROJECT_ID="$project_id" \
		BV_BENCH_PHONE="$phone" BV_BENCH_CODE="$code" \
		BV_BENCH_USER="$user" BV_BENCH_SKIP_USER="$skip_user" \
		BV_BENCH_OUTBOX="$dir/outbox" BV_BENCH_BARE="$bare" \
		BV_BENCH_HELPER="$helper" \
		LD_PRELOAD="$pam_wrapper_lib" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$dir/pam.d" "$@"
}

rc=0
bench_env "$bench" "$@" || rc=$?
if [ "$rc" -eq 99 ]; then
	echo "run-bench.sh: mock log:" >&2
	tail -n 20 "$dir/mock.log" >&2
fi

# --- instructions of a skipped user: callgrind ----------------------------
#
# One login of rows A, S0 and S (bench_auth's login children 0, 1 and 2),
# instructions counted inside login() only (pam_start ... pam_end), which
# the machine's load does not change.  Skipped without valgrind.

if command -v valgrind >/dev/null 2>&1; then
	echo
	echo "Instructions of one login (callgrind, inside pam_start ... pam_end):"
	irs=
	for row in 0:A 1:S0 2:S; do
		out=$dir/callgrind.${row#*:}
		bench_env valgrind --tool=callgrind --toggle-collect=login \
			--callgrind-out-file="$out" \
			"$bench" -x "${row%%:*}" -r 3 3>/dev/null 2>"$dir/callgrind.log" ||
			fail "callgrind of row ${row#*:} failed"
		irs="$irs $(sed -n 's/^summary: //p' "$out")"
	done
	echo "$irs" | awk '{
		printf "  A  %9d\n  S0 %9d  %.2f x A\n  S  %9d  %.2f x A\n",
			$1, $2, $2 / $1, $3, $3 / $1 }'
fi

# --- the load rows: bench_load --------------------------------------------
#
# A dead service, failover past a dead first provider, and 1,000 logins
# of one user from 50 processes (see the top of bench/bench_load.c), with
# mocks, configurations, stores and services of their own in $dir.  Not
# under pam_wrapper: it reads $dir/pam.d itself (pam_start_confdir).
# About a minute and a half; the sizes are fixed (not -n/-w).

load_bench=${BV_BENCH_LOAD:-$builddir/bench/bench_load}
[ -x "$load_bench" ] || fail "$load_bench not built (make bench)"
bench_mock_url=$mock_url bench_mock_port=$mock_port

# Two more mocks with limits no run reaches (per number: BaxVerify sends
# and attempts at one code, Tryvox starts): "load", healthy, and "dead",
# whose BaxVerify send bench_load makes hang (accept, read the request,
# never answer).
bv_spawn_mock load --cert "$dir/pki/server.pem" --key "$dir/pki/server.key" \
	--send-limit 1000000 --send-window 1 --max-attempts 1000000 \
	--tryvox-start-limit 1000000 --tryvox-start-window 1
bv_spawn_mock dead --cert "$dir/pki/server.pem" --key "$dir/pki/server.key"

# A first provider whose connect never completes: a listening socket with
# a backlog of 0 whose accept queue is filled by one connection of its
# own and never accepted, so the kernel drops every later SYN (counted in
# TcpExt ListenOverflows) and the client waits for its connect_timeout.
# Stopped by its PID on exit, with the mocks (bv_cleanup).
load_hole_py='
import os, signal, socket, sys
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
held = []
while True:
    c = socket.socket()
    c.settimeout(0.5)
    try:
        c.connect(s.getsockname())
    except socket.timeout:
        c.close()
        break
    held.append(c)
    if len(held) > 8:
        sys.exit("the accept queue never filled")
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    signal.pause()
'
"${bv_python:-python3}" -c "$load_hole_py" "$dir/hole.port" \
	>"$dir/hole.log" 2>&1 &
bv_pid_hole=$!
bv_pids="$bv_pids $bv_pid_hole"

bv_wait_mock load
load_url=$mock_url
bv_wait_mock dead
dead_url=$mock_url
bv_wait_mock hole "never-accepting listener"
hole_port=$mock_port
mock_url=$bench_mock_url mock_port=$bench_mock_port

# Row 1: http.timeout (= connect_timeout); row 2: connect_timeout, the
# bound, and a longer http.timeout.
load_timeout=2
load_connect_timeout=2
load_failover_timeout=5

# load_conf NAME STORE [SETTING...]: $dir/NAME.conf (bv_write_conf), with
# the store $dir/STORE (made here, mode 0700) and no send limit.
load_conf() {
	load_name=$1 load_store=$2
	shift 2
	mkdir -m 700 "$dir/$load_store"
	bv_write_conf "$dir/$load_name.conf" "store.dir=$dir/$load_store" \
		"helper=$builddir/baxverify-helper" \
		limits.max_sends_per_hour=0 "$@"
}
load_conf load-dead store-dead "baxverify.api_url=$dead_url/v1" \
	"http.connect_timeout=$load_timeout" "http.timeout=$load_timeout"
# Tryvox on the healthy mock: alone (row 2's floor), and second after a
# BaxVerify that cannot be reached.
load_conf load-secondary store-secondary provider=tryvox \
	"tryvox.api_url=$load_url" "tryvox.api_key=$bv_tryvox_key" \
	"tryvox.tenant_id=$bv_tenant_id" \
	"http.connect_timeout=$load_connect_timeout" \
	"http.timeout=$load_failover_timeout"
load_conf load-failover store-failover 'provider=["baxverify", "tryvox"]' \
	"baxverify.api_url=https://127.0.0.1:$hole_port/v1" \
	"tryvox.api_url=$load_url" "tryvox.api_key=$bv_tryvox_key" \
	"tryvox.tenant_id=$bv_tenant_id" \
	"http.connect_timeout=$load_connect_timeout" \
	"http.timeout=$load_failover_timeout"
# Row 3: every wrong code counted (deny > 0), and no lockout before the
# 1,000th; one wrong answer and one code per login.  The floor's store
# is another, so that only the concurrent logins reach the counter.
for load_store in store-conc store-conc-floor; do
	load_conf "load-${load_store#store-}" "$load_store" \
		"baxverify.api_url=$load_url/v1" limits.deny=1000 \
		max_tries=1 max_sends=1
done

# load_service NAME CONF [ARGUMENT]: $dir/pam.d/NAME, the module alone,
# so that pam_authenticate returns exactly what it said.
load_service() {
	echo "auth required $module conf=$dir/$2.conf${3:+ $3}" \
		>"$dir/pam.d/$1"
}
load_service load_dead load-dead
load_service load_dead_safe load-dead failmode=safe
load_service load_secondary load-secondary
load_service load_failover load-failover
load_service load_conc load-conc
load_service load_conc_floor load-conc-floor

load_rc=0
env BV_LOAD_MOCK_URL="$load_url" BV_LOAD_DEAD_URL="$dead_url" \
	BV_LOAD_HOLE_URL="https://127.0.0.1:$hole_port/v1/auth/sms/send" \
	BV_LOAD_CA="$dir/pki/ca.pem" BV_LOAD_USER="$user" \
	BV_LOAD_CODE="$code" BV_LOAD_TIMEOUT="$load_timeout" \
	BV_LOAD_CONNECT_TIMEOUT="$load_connect_timeout" \
	BV_LOAD_FAILOVER_TIMEOUT="$load_failover_timeout" \
	BV_LOAD_CONC_STORE="$dir/store-conc" BV_LOAD_PAM_DIR="$dir/pam.d" \
	"$load_bench" || load_rc=$?
if [ "$load_rc" -eq 99 ]; then
	for load_name in load dead; do
		echo "run-bench.sh: $load_name mock log:" >&2
		tail -n 20 "$dir/$load_name.log" >&2
	done
fi
# Both programs' verdicts: an error (99) over a failed check (1) over 0.
[ "$load_rc" -le "$rc" ] || rc=$load_rc
exit "$rc"
