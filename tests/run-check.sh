#!/bin/bash
# tests/run-check.sh - the stages of `./quickstart check` (and so of CI,
# .ci/run), in a configured and built tree: make check, make distcheck
# (BV_QUICK), the sanitizer build (tests/run-sanitizers.sh), the static
# analysers (tests/static/run-static.sh) and a fuzz smoke run
# (tests/fuzz/run-fuzz.sh, BV_FUZZ_SECONDS per target, default 30).
#
# Prints the logs of the tests that failed, one line per stage and a
# closing line that counts every stage ("check: N stages passed, N failed,
# N skipped, N not run (failed: ...)"); exits 1 when a stage failed or did
# not run.  A stage's exit 77 is a skip (e.g. no clang for the fuzzers).
set -eu
cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*"; }

# The .log of each test that failed after the file $1 was made, here and in
# make distcheck's copy (automake writes a .trs beside each .log).
show_failed_tests() {
	failed=$(find . -name '*.trs' -newer "$1" -exec grep -lE \
		'^:test-result: (FAIL|ERROR|XPASS)' {} + 2>/dev/null | sort || :)
	[ -n "$failed" ] ||
		printf '\nNo failed test logs: the failure is in the output above.\n'
	for trs in $failed; do
		printf '\n======== %s ========\n' "${trs%.trs}.log"
		cat "${trs%.trs}.log" 2>/dev/null || printf '(no log file)\n'
	done
}

# run_stage NAME COMMAND...: one stage, counted; exit 77 is a skip.  After
# a failed make check the other stages are counted as not run.
n_pass=0 n_fail=0 n_skip=0 n_notrun=0 failed_stages="" broken="" summary=""
run_stage() {
	name=$1
	shift
	rc=0
	if [ -n "$broken" ]; then
		rc=-1 n_notrun=$((n_notrun + 1)) result="not run (make check failed)"
	else
		say "check: $name" && "$@" || rc=$?
	fi
	case $rc in
	-1) ;;
	0) result=passed n_pass=$((n_pass + 1)) ;;
	77) result="skipped (exit 77)" n_skip=$((n_skip + 1)) ;;
	*)
		result="FAILED (exit $rc)" n_fail=$((n_fail + 1))
		failed_stages="$failed_stages, $name"
		[ "$name" != "make check" ] || broken=1
		;;
	esac
	summary="$summary$(printf '    %-17s %s' "$name:" "$result")"$'\n'
}

main() {
	marker=$(mktemp)
	trap 'rm -f "$marker"' EXIT
	# The repeats skip the slowest suites (BV_QUICK): they ran in the first.
	run_stage "format check" make format-check
	run_stage "make check" make -j2 check
	if [ -f test-suite.log ] && [ test-suite.log -nt "$marker" ]; then
		summary="$summary$(awk '/^# (PASS|XFAIL):/ { p += $3 }
			/^# (FAIL|XPASS|ERROR):/ { f += $3 } /^# SKIP:/ { s += $3 }
			END { printf "%22stests: %d passed, %d failed, %d skipped",
				"", p, f, s }' test-suite.log)"$'\n'
	fi
	run_stage "make distcheck" env BV_QUICK=1 make distcheck
	run_stage "sanitizers" tests/run-sanitizers.sh
	run_stage "static analysis" tests/static/run-static.sh
	run_stage "fuzz smoke" tests/fuzz/run-fuzz.sh "${BV_FUZZ_SECONDS:-30}"
	[ "$n_fail" -eq 0 ] || show_failed_tests "$marker"
	printf '\n==> summary\n%s' "$summary"
	printf 'check: %d stages passed, %d failed, %d skipped, %d not run%s\n' \
		"$n_pass" "$n_fail" "$n_skip" "$n_notrun" \
		"${failed_stages:+ (failed: ${failed_stages#, })}"
	[ "$n_fail" -eq 0 ] && [ "$n_notrun" -eq 0 ] || exit 1
}

main
