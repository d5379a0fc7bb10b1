#!/bin/sh
# run-hardening.sh [PROGRAM] - issue 6's leak loop and allocation-failure
# injection, with tests/pam/test_loop (PROGRAM, default $BV_TEST_LOOP).
#
# `make check` starts it for tests/pam/test_loop (tests/run-test.sh,
# automake's LOG_COMPILER), with, in the environment:
#   BV_MODULE          absolute path of the built .libs/pam_baxverify.so
#   BV_SYSLOG_SHIM     absolute path of the built syslog_capture.so
#   BV_ALLOC_FAIL_SHIM absolute path of the built alloc_fail.so
#   srcdir             the source tree (tests/mock/ lives there)
# Optional:
#   BV_LOOP_AUTHS      authentications in the loop (default 1000)
#   BV_LOOP_TLS        of which at least this many over TLS (default 200)
#   BV_ALLOC_BUDGET    runs per allocation-failure scenario before sampling
#                      (default 1500; 100000 tries every N: the long run)
#   BV_ALLOCFAIL_CASES the allocation-failure scenarios (default
#                      "baxverify local nullok")
#   BV_ALLOC_STRICT    set: a crash inside libconfig or libcurl after its
#                      own allocation failed fails the run too
#   BV_HARDENING_ONLY  "loop" or "allocfail": run only that part
#   BV_LOOP_VALGRIND   "no": run the loop without valgrind (quick; fd and
#                      heap checks only)
#   BV_VALGRIND_OPTS   more valgrind options (e.g. --show-leak-kinds=all);
#                      valgrind's whole report is then printed
#   BV_QUICK           set: a smaller run under valgrind (200
#                      authentications, 40 over TLS) and an allocation
#                      budget of 400
#   BV_PRELOAD_FIRST   libasan under a sanitizer build: the loop then runs
#                      under ASan/LSan instead of valgrind, and the
#                      allocation-failure part is skipped (ASan's allocator
#                      must come first and cannot be wrapped by the shim)
#
# Like run-pam-tests.sh it takes its setup (test CA, mock, service files,
# pam_wrapper) from tests/mock/lib.sh: it works in a scratch directory,
# stops the mock by its PID and removes the directory on exit.
#
# 1. The loop: test_loop runs 1,000 complete authentications (200 over
#    TLS) in one process under valgrind memcheck; any invalid access or
#    definite or indirect leak fails it (--error-exitcode), as does a
#    wrong PAM code, a secret in syslog or a change in the number of open
#    file descriptors.  About 3.5 minutes on the project's machine.
# 2. Allocation failures: test_loop, with alloc_fail.so preloaded, fails
#    the allocations of a successful BaxVerify authentication (all of the
#    module's own, one in four of the rest), of a local one (all) and of
#    a nullok one (the module's), one forked child per allocation: no
#    crash, no success that is not genuine, no fail-open, no leak.  About
#    a minute.  See test_loop.c for the rules.
#
# Exit: 0 when both passed; 77 (skip) when valgrind is missing (the
# allocation-failure part still runs, and its failure is still a failure);
# 99 on a setup error; otherwise 1.

set -eu

: "${BV_MODULE:?BV_MODULE not set}"
: "${BV_SYSLOG_SHIM:?BV_SYSLOG_SHIM not set}"
BV_TEST_LOOP=${1:-${BV_TEST_LOOP:-}}
: "${BV_TEST_LOOP:?usage: run-hardening.sh PROGRAM (or BV_TEST_LOOP)}"
: "${BV_ALLOC_FAIL_SHIM:?BV_ALLOC_FAIL_SHIM not set}"
srcdir=${srcdir:-.}
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"
only=${BV_HARDENING_ONLY:-}

bv_find_pam_wrapper ||
	bv_skip "libpam_wrapper.so not found (install libpam-wrapper)"
[ -f "$BV_MODULE" ] || bv_fail "module $BV_MODULE not built"
[ -f "$BV_SYSLOG_SHIM" ] || bv_fail "$BV_SYSLOG_SHIM not built"
[ -x "$BV_TEST_LOOP" ] || bv_fail "$BV_TEST_LOOP not built"
[ -f "$BV_ALLOC_FAIL_SHIM" ] || bv_fail "$BV_ALLOC_FAIL_SHIM not built"
command -v openssl >/dev/null 2>&1 || bv_skip "openssl not found"

valgrind=
if [ -z "${BV_PRELOAD_FIRST:-}" ]; then
	valgrind=$(command -v valgrind 2>/dev/null || :)
fi

bv_scratch_dir hardening

# --- the test CA and the mock (tests/mock/lib.sh) -----------------------

bv_make_ca
# Send limits out of the way: the loop sends hundreds of codes to alice.
bv_start_mock --send-limit 1000000 --tryvox-start-limit 1000000 \
	--mudbase-send-limit 1000000

# --- PAM service files (tests/mock/lib.sh) ------------------------------

# pam_baxverify's own answer ends the stack; PAM_IGNORE falls through to
# pam_debug's PAM_MODULE_UNKNOWN, which the harness reads as PAM_IGNORE.
conf="$dir/baxverify.conf"
bv_service bv
bv_service bv_nullok nullok
bv_service bv_badarg frobnicate
bv_service bv_session
echo "session optional $BV_MODULE conf=$conf consume_token" \
	>>"$dir/pam.d/bv_session"
bv_write_other_service "$dir/pam.d"

# Commands run under pam_wrapper with bv_under_pam_wrapper; each part
# below sets $preload, the LD_PRELOAD list, itself.

# --- valgrind's suppressions --------------------------------------------

# Only for state that is provably not ours and never freed by design,
# each entry with a comment saying why.  None is needed on Debian 12: at
# exit all that is left (about 5 kB in 12 blocks) is the dynamic loader's
# records of libraries dlopen()ed for good, "still reachable", which
# --errors-for-leak-kinds=definite,indirect does not count; nothing else
# is reported.  The file is kept so that an entry, when a library's new
# version needs one, has its place.
cat >"$dir/valgrind.supp" <<'EOF'
# (no suppressions needed; see run-hardening.sh)
EOF

# --- 1. the loop --------------------------------------------------------

rc=0
loop_skipped=
if [ "$only" != allocfail ]; then
	if [ -n "${BV_QUICK:-}" ]; then
		auths=${BV_LOOP_AUTHS:-200}
		tls=${BV_LOOP_TLS:-40}
	else
		auths=${BV_LOOP_AUTHS:-1000}
		tls=${BV_LOOP_TLS:-200}
	fi
	start=$(date +%s)
	if [ -n "${BV_PRELOAD_FIRST:-}" ]; then
		# Quick enough under ASan to run in full.  libcrypt is
		# preloaded too: ASan's crypt_r interceptor finds the real
		# crypt_r only in libraries loaded at start-up, and calls NULL
		# when libcrypt comes later with the module.
		auths=${BV_LOOP_AUTHS:-1000}
		tls=${BV_LOOP_TLS:-200}
		echo "loop: $auths authentications under ASan/LSan" \
			"(BV_PRELOAD_FIRST), not valgrind"
		preload="$BV_PRELOAD_FIRST libcrypt.so.1 $pam_wrapper_lib"
		preload="$preload $BV_SYSLOG_SHIM"
		lrc=0
		BV_LOOP_NO_HEAP_CHECK=1 PAM_WRAPPER_DISABLE_DEEPBIND=1 \
			UID_WRAPPER_DISABLE_DEEPBIND=1 bv_under_pam_wrapper \
			"$BV_TEST_LOOP" loop "$auths" "$tls" || lrc=$?
	elif [ "${BV_LOOP_VALGRIND:-}" = no ]; then
		echo "loop: $auths authentications, without valgrind"
		preload="$pam_wrapper_lib $BV_SYSLOG_SHIM"
		lrc=0
		bv_under_pam_wrapper "$BV_TEST_LOOP" loop "$auths" "$tls" ||
			lrc=$?
	elif [ -n "$valgrind" ]; then
		echo "loop: $auths authentications under $valgrind"
		preload="$pam_wrapper_lib $BV_SYSLOG_SHIM"
		# valgrind gets the pam_wrapper environment, LD_PRELOAD
		# included, and hands it to the program it starts (its own
		# preloads go in front): that works as is.  Only test_loop is
		# checked (--trace-children=no: not a delivery command the
		# module might start).
		lrc=0
		# shellcheck disable=SC2086 # BV_VALGRIND_OPTS: options, split
		BV_LOOP_NO_HEAP_CHECK=1 bv_under_pam_wrapper "$valgrind" \
			--tool=memcheck --trace-children=no \
			--leak-check=full --show-leak-kinds=definite,indirect \
			--errors-for-leak-kinds=definite,indirect \
			--error-exitcode=1 --track-fds=no \
			--suppressions="$dir/valgrind.supp" \
			--gen-suppressions=all \
			--log-file="$dir/valgrind.log" ${BV_VALGRIND_OPTS:-} \
			"$BV_TEST_LOOP" loop "$auths" "$tls" || lrc=$?
		[ -z "${BV_VALGRIND_OPTS:-}" ] || cat "$dir/valgrind.log"
		if [ "$lrc" -ne 0 ] || grep -q 'ERROR SUMMARY: [1-9]' \
			"$dir/valgrind.log"; then
			echo "valgrind's report:" >&2
			cat "$dir/valgrind.log" >&2
			[ "$lrc" -ne 0 ] || lrc=1
		else
			grep -E 'ERROR SUMMARY|lost:|reachable:|in use at' \
				"$dir/valgrind.log" |
				sed 's/^==[0-9]*== */valgrind: /'
		fi
	else
		loop_skipped=1
		lrc=0
		echo "SKIP: valgrind not found: the leak loop did not run" \
			"(install valgrind)" >&2
	fi
	[ -n "$loop_skipped" ] ||
		echo "loop: exit $lrc after $(($(date +%s) - start)) s"
	[ "$lrc" -eq 0 ] || rc=1
fi

# --- 2. allocation failures ---------------------------------------------

if [ "$only" != loop ]; then
	if [ -n "${BV_PRELOAD_FIRST:-}" ]; then
		echo "SKIP: allocation-failure injection under a sanitizer" \
			"build (ASan owns malloc)" >&2
	else
		# As under ASan: no RTLD_DEEPBIND, so that every library binds
		# malloc through the global scope, where the shim is (on
		# Debian 12 the counts are the same either way).
		preload="$pam_wrapper_lib $BV_SYSLOG_SHIM $BV_ALLOC_FAIL_SHIM"
		if [ -n "${BV_QUICK:-}" ]; then
			BV_ALLOC_BUDGET=${BV_ALLOC_BUDGET:-400}
			export BV_ALLOC_BUDGET
		fi
		for what in ${BV_ALLOCFAIL_CASES:-baxverify local nullok}; do
			start=$(date +%s)
			arc=0
			PAM_WRAPPER_DISABLE_DEEPBIND=1 \
				bv_under_pam_wrapper "$BV_TEST_LOOP" allocfail \
				"$what" || arc=$?
			echo "allocfail $what: exit $arc after" \
				"$(($(date +%s) - start)) s"
			[ "$arc" -eq 0 ] || rc=1
		done
	fi
fi

if [ "$rc" -eq 0 ] && [ -n "$loop_skipped" ]; then
	exit 77
fi
exit "$rc"
