#!/bin/bash
# tests/fuzz/run-fuzz.sh [SECONDS] - build the libFuzzer targets of
# tests/fuzz/ and run each for SECONDS (default 30) on a copy of its seed
# corpus (tests/fuzz/corpus/<target>/).  Exits 0 when no target found a
# crash, leak, timeout or broken invariant; 1 otherwise, printing the
# target's report and the path of the input that did it (the work
# directory is then kept); 77 when clang or its libFuzzer runtime is
# missing.
#
#   tests/fuzz/run-fuzz.sh            # CI smoke run: 30 s per target
#   tests/fuzz/run-fuzz.sh 3600       # the longer run: an hour per target
#
# Needs a configured tree (set BUILDDIR when building out of tree): the
# targets are built by automake (`make fuzz`, Makefile.am) in a build of
# their own - a copy of the distribution (`make distdir`) configured in
# the work directory with CC=clang --enable-fuzzing (-Werror for the
# targets' own files only), so the library code and the targets get
# -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
# and the targets link libcore.la and libnet.la, never the PAM module.
# On Debian 12: clang (clang-14) and
# libclang-rt-14-dev, with the project's -dev packages.  The config and
# *_response targets are linked with tests/fuzz/wrap.c: their inputs
# start with two bytes choosing an allocation to fail (fuzz.h).
#
# Environment: FUZZ_CC (clang), FUZZ_JOBS (targets run at once; default:
# the number of CPUs), FUZZ_TARGETS (a space-separated subset, e.g.
# "config text"), FUZZ_BUILDDIR (a tree already configured with
# --enable-fuzzing: built there with `make fuzz`, not configured anew;
# for repeated long runs), FUZZ_KEEP=1 (keep the work directory, with the
# corpora the run grew: merge them into the seeds with
# "BIN -merge=1 tests/fuzz/corpus/T WORK/corpus/T" when they add coverage).
set -u

seconds=${1:-30}
case $seconds in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
builddir=${BUILDDIR:-$srcdir}
cc=${FUZZ_CC:-clang}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
keep=${FUZZ_KEEP:-0}
make=${MAKE:-make}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "SKIP: $cc not found (Debian: apt-get install clang libclang-rt-14-dev)"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bv-fuzz-run.XXXXXX") || exit 1
failed=0
cleanup() {
	if [ "$failed" = 0 ] && [ "$keep" != 1 ]; then
		rm -rf "$work"
	else
		echo "work directory kept: $work"
	fi
}
trap cleanup EXIT
trap 'failed=1; exit 1' INT TERM
mkdir -p "$work/corpus" "$work/artifacts" "$work/log" "$work/tmp"

# A link of an empty target proves the libFuzzer runtime is there.
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	>"$work/probe.c"
if ! "$cc" -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" \
	>"$work/log/probe.log" 2>&1; then
	cat "$work/log/probe.log"
	echo "SKIP: $cc cannot link -fsanitize=fuzzer (Debian: apt-get install libclang-rt-14-dev)"
	exit 77
fi

# build: the fuzzing build in $fuzzdir, its log in log/build.log.
build() {
	if [ -n "${FUZZ_BUILDDIR:-}" ]; then
		fuzzdir=$FUZZ_BUILDDIR
		echo "building the fuzz targets in $fuzzdir"
	else
		if [ ! -f "$builddir/Makefile" ]; then
			echo "$builddir/Makefile not found: run ./configure first (or set BUILDDIR)" >&2
			return 1
		fi
		echo "building the fuzz targets in $work/build"
		"$make" -s -C "$builddir" distdir distdir="$work/src" ||
			return 1
		fuzzdir=$work/build
		mkdir "$fuzzdir"
		# No --enable-werror: the targets' own files get -Werror
		# (Makefile.am), the library code clang's warnings only.
		(cd "$fuzzdir" && CC=$cc CFLAGS="-g -O1" "$work/src/configure" \
			--quiet --enable-fuzzing) || return 1
	fi
	"$make" -C "$fuzzdir" -j"$jobs" fuzz || return 1
}
start=$(date +%s)
if ! build >"$work/log/build.log" 2>&1; then
	cat "$work/log/build.log"
	echo "FAIL: building the fuzz targets" >&2
	failed=1
	exit 1
fi
all=$("$make" -s -C "$fuzzdir" print-fuzz-targets | tr ' ' '\n' |
	sed -n 's,^tests/fuzz/fuzz_,,p')
targets=${FUZZ_TARGETS:-$all}
for t in $targets; do
	if [ ! -x "$fuzzdir/tests/fuzz/fuzz_$t" ]; then
		echo "FAIL: no fuzz target fuzz_$t (there are: $(echo $all))" >&2
		failed=1
		exit 1
	fi
done
echo "built in $(($(date +%s) - start)) s: $(echo $targets)"

# fuzz TARGET ARGS...: the target on its corpus copy, output to its log.
fuzz() {
	local t=$1
	shift
	# -close_fd_mask=2: the code under test logs to stderr; libFuzzer
	# and the sanitizers keep their own copy of it for their reports.
	TMPDIR="$work/tmp" \
		LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0" \
		UBSAN_OPTIONS="print_stacktrace=1" \
		"$fuzzdir/tests/fuzz/fuzz_$t" "$@" -rss_limit_mb=2048 -timeout=10 \
		-close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/$t-" \
		"$work/corpus/$t" >>"$work/log/$t.log" 2>&1
}

# run TARGET: one fuzzing session, its exit status in log/TARGET.rc.
run() {
	local t=$1 args=() rc
	cp -R "$here/corpus/$t" "$work/corpus/$t" 2>/dev/null ||
		mkdir -p "$work/corpus/$t"
	case $t in
	*_response) args+=("-dict=$here/json.dict") ;;
	*) [ -f "$here/$t.dict" ] && args+=("-dict=$here/$t.dict") ;;
	esac
	# libconfig leaks on most syntax errors (lsan.supp): suppressed, but
	# each one still costs a leak scan, six times the run itself.  So
	# the config target fuzzes without the scan after every input (the
	# scan at exit still fails the run on a leak of ours), then the
	# corpus it grew is run once with it, to name the leaking input.
	[ "$t" = config ] && args+=(-detect_leaks=0)
	fuzz "$t" "${args[@]}" -max_total_time="$seconds"
	rc=$?
	if [ "$t" = config ]; then
		echo "=== leak pass over the grown corpus" >>"$work/log/$t.log"
		if ! fuzz "$t" -runs=0 -detect_leaks=1 && [ "$rc" = 0 ]; then
			rc=1
		fi
	fi
	echo "$rc" >"$work/log/$t.rc"
}

echo "fuzzing $seconds s per target, $jobs at once"
running=0
for t in $targets; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	run "$t" &
	running=$((running + 1))
done
wait

for t in $targets; do
	rc=$(cat "$work/log/$t.rc" 2>/dev/null || echo 1)
	# The first session's numbers (config has a second, the leak pass).
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$work/log/$t.log" | head -n 1)
	cov=$(grep -E '^#[0-9]+.*DONE' "$work/log/$t.log" | head -n 1 |
		sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	if [ "$rc" = 0 ]; then
		echo "PASS fuzz_$t: ${execs:-?} runs, coverage ${cov:-?}"
		continue
	fi
	failed=1
	echo "FAIL fuzz_$t (exit $rc); the end of its log:"
	tail -n 60 "$work/log/$t.log" | sed 's/^/    /'
	for a in "$work/artifacts/$t-"*; do
		[ -e "$a" ] || continue
		echo "  crash input: $a"
		echo "  reproduce:   $fuzzdir/tests/fuzz/fuzz_$t $a"
	done
done
[ "$failed" = 0 ] || exit 1
echo "all fuzz targets passed"
exit 0
