# shellcheck shell=sh
# shellcheck disable=SC2154 # srcdir, conf: set by the sourcing runner
# lib.sh - the one mock starter and the one config writer of the project,
# with the setup around them: used by the test runners that drive the
# loopback mock (tests/pam/run-*.sh, tests/cli/run-cli-tests.sh), the
# end-to-end tests (tests/e2e/lib.sh), the C harness (its config writer is
# bv_conf_text, through tests/mock/write-conf.sh), bench/run-bench.sh and
# ./quickstart's demos.  Sourced, not run.  POSIX sh.
#
#   srcdir=${srcdir:-.}
#   # shellcheck source=tests/mock/lib.sh
#   . "$srcdir/tests/mock/lib.sh"
#
# Reads srcdir (the source tree: this directory is $srcdir/tests/mock).
# Sourcing it defines only bv_* names; the functions below set the
# globals they document (dir, pam_wrapper_lib, mock_pid, mock_port,
# mock_url, preload).  A runner typically does
#
#   bv_find_pam_wrapper || bv_skip "libpam_wrapper.so not found (...)"
#   bv_scratch_dir NAME          # $dir, removed (mocks stopped) on exit
#   bv_make_ca                   # $dir/pki
#   bv_start_mock [ARGS...]      # $mock_pid, $mock_port, $mock_url
#   conf=$dir/baxverify.conf
#   bv_write_conf "$conf" [SETTING...]   # pointing at the mock
#   bv_service bv [ARGS...]      # $dir/pam.d/bv
#   bv_write_other_service "$dir/pam.d"   # $dir/pam.d/other
#   bv_set_preload
#   bv_under_pam_wrapper PROGRAM [ARGS...]
#
# Errors: bv_skip exits 77 (automake's skip), bv_fail 99 (a hard error);
# every helper that cannot do its job calls bv_fail.

# --- settings -------------------------------------------------------------

# The python that runs the mock: /usr/bin/python3, else python3 on PATH;
# empty when there is none (bv_start_mock then tries "python3" anyway, and
# reports the mock as exited).
bv_python=/usr/bin/python3
[ -x "$bv_python" ] || bv_python=$(command -v python3 || :)

# The mock's credentials.  Must match API_KEY, PROJECT_ID, TRYVOX_KEY,
# TENANT_ID and MUDBASE_PROJECT in tests/pam/harness.h; a runner that does
# not use the harness may set others after sourcing this file.
bv_api_key=sk_test_SECRET_9f8e7d
bv_project_id=proj_test
bv_tryvox_key=tvx_sk_test_K3y9Qz7Wm4
bv_tenant_id=acc_test
bv_mudbase_project=proj_mud

# The word bv_fail puts before its message ("FAIL: ..."); a runner may
# set another (run-cli-tests.sh: ERROR).
bv_fail_word=FAIL

bv_pids=     # the mocks bv_cleanup stops
bv_deepbind= # set by bv_set_preload under BV_PRELOAD_FIRST

# --- exits ----------------------------------------------------------------

# bv_skip MESSAGE...: "SKIP: MESSAGE" on stderr, exit 77.
bv_skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# bv_fail MESSAGE...: "$bv_fail_word: MESSAGE" on stderr, exit 99.
bv_fail() {
	echo "$bv_fail_word: $*" >&2
	exit 99
}

# --- pam_wrapper ----------------------------------------------------------

# bv_find_pam_wrapper: sets pam_wrapper_lib to libpam_wrapper.so, where
# pkg-config says, else in the usual places; returns 1 (pam_wrapper_lib
# empty) when there is none.
bv_find_pam_wrapper() {
	pam_wrapper_lib=
	bv_pw_libdir=$(pkg-config --variable=libdir pam_wrapper 2>/dev/null ||
		:)
	for bv_lib in ${bv_pw_libdir:+"$bv_pw_libdir/libpam_wrapper.so"} \
		/usr/lib/x86_64-linux-gnu/libpam_wrapper.so \
		/usr/lib64/libpam_wrapper.so /usr/lib/libpam_wrapper.so \
		/usr/local/lib/libpam_wrapper.so; do
		if [ -f "$bv_lib" ]; then
			pam_wrapper_lib=$bv_lib
			return 0
		fi
	done
	return 1
}

# bv_set_preload: sets preload, the LD_PRELOAD list of
# bv_under_pam_wrapper, to pam_wrapper and $BV_SYSLOG_SHIM, after
# $BV_PRELOAD_FIRST when that is set (libasan under a sanitizer build,
# which must come first; pam_wrapper's and uid_wrapper's deep binding is
# then disabled).  A runner may set preload itself instead.
bv_set_preload() {
	preload="$pam_wrapper_lib $BV_SYSLOG_SHIM"
	bv_deepbind=
	if [ -n "${BV_PRELOAD_FIRST:-}" ]; then
		preload="$BV_PRELOAD_FIRST $preload"
		bv_deepbind=1
	fi
}

# bv_under_pam_wrapper [NAME=VALUE...] COMMAND [ARGS...]: COMMAND under
# pam_wrapper with $preload, the service files of $dir/pam.d, and the
# harness's variables (BV_TESTDIR, BV_MOCK_URL, BV_CA_FILE,
# BV_SYSLOG_FILE, BV_WRITE_CONF: the config writer, tests/mock/
# write-conf.sh) plus the NAME=VALUE pairs; they reach only COMMAND.
bv_under_pam_wrapper() {
	env BV_TESTDIR="$dir" BV_MOCK_URL="$mock_url" \
		BV_CA_FILE="$dir/pki/ca.pem" BV_SYSLOG_FILE="$dir/syslog" \
		BV_WRITE_CONF="$(cd "$srcdir/tests/mock" && pwd)/write-conf.sh" \
		${bv_deepbind:+PAM_WRAPPER_DISABLE_DEEPBIND=1} \
		${bv_deepbind:+UID_WRAPPER_DISABLE_DEEPBIND=1} \
		LD_PRELOAD="$preload" PAM_WRAPPER=1 PAM_WRAPPER_USE_SYSLOG=1 \
		PAM_WRAPPER_SERVICE_DIR="$dir/pam.d" "$@"
}

# --- the scratch directory ------------------------------------------------

# bv_scratch_dir NAME: sets dir to a new directory
# ${TMPDIR:-/tmp}/bv-NAME.XXXXXX (mode 700) and the umask to 077, and
# traps EXIT (bv_cleanup), INT (exit 130) and TERM (exit 143).  Not in a
# subshell: the traps and the umask are the caller's.
bv_scratch_dir() {
	dir=
	trap bv_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	dir=$(mktemp -d "${TMPDIR:-/tmp}/bv-$1.XXXXXX") || bv_fail "mktemp"
	chmod 700 "$dir"
	umask 077
}

# bv_cleanup: stops every mock still running (by PID) and removes $dir.
# shellcheck disable=SC2317 # called by the EXIT trap
bv_cleanup() {
	for bv_pid in $bv_pids; do
		kill "$bv_pid" 2>/dev/null || :
	done
	for bv_pid in $bv_pids; do
		wait "$bv_pid" 2>/dev/null || :
	done
	bv_pids=
	[ -z "${dir:-}" ] || [ -n "${BV_KEEP:-}" ] || rm -rf "$dir"
}

# --- the test CA and the mock ---------------------------------------------

# bv_make_ca: the test PKI of tests/mock/make-ca.sh in $dir/pki (ca.pem,
# server.pem/.key, and the bad certificates run-faults.sh uses); its
# output in $dir/make-ca.log, shown on failure.
bv_make_ca() {
	sh "$srcdir/tests/mock/make-ca.sh" "$dir/pki" >"$dir/make-ca.log" \
		2>&1 || {
		cat "$dir/make-ca.log" >&2
		bv_fail "make-ca.sh"
	}
}

# bv_spawn_mock NAME [ARGS...]: starts one instance of the mock in the
# background, on a free port written to $dir/NAME.port, with the
# bv_* credentials and ARGS (--cert/--key, --plain, limits...); its output
# in $dir/NAME.log.  Sets mock_pid (also kept as bv_pid_NAME, for
# bv_wait_mock; NAME must be a valid shell name) and records it for
# bv_cleanup.  Does not wait: several instances start in parallel.
bv_spawn_mock() {
	bv_name=$1
	shift
	"${bv_python:-python3}" "$srcdir/tests/mock/mock_baxverify.py" \
		--port 0 --port-file "$dir/$bv_name.port" \
		--project-id "$bv_project_id" --api-key "$bv_api_key" \
		--tryvox-key "$bv_tryvox_key" --tenant-id "$bv_tenant_id" \
		--mudbase-project "$bv_mudbase_project" "$@" \
		>"$dir/$bv_name.log" 2>&1 &
	mock_pid=$!
	bv_pids="$bv_pids $mock_pid"
	eval "bv_pid_$bv_name=\$mock_pid"
}

# bv_wait_mock NAME [LABEL]: waits up to 10 s for the instance NAME of
# bv_spawn_mock to write its port; sets mock_port and mock_url
# (https://127.0.0.1:PORT).  Fails with "the LABEL exited" (its log shown)
# or "the LABEL did not start within 10 s"; LABEL defaults to
# "mock server".
bv_wait_mock() {
	eval "bv_pid=\$bv_pid_$1"
	bv_label=${2:-mock server}
	bv_i=0
	while [ ! -s "$dir/$1.port" ]; do
		if ! kill -0 "$bv_pid" 2>/dev/null; then
			cat "$dir/$1.log" >&2
			bv_fail "the $bv_label exited"
		fi
		bv_i=$((bv_i + 1))
		[ "$bv_i" -le 100 ] ||
			bv_fail "the $bv_label did not start within 10 s"
		sleep 0.1
	done
	mock_port=$(cat "$dir/$1.port")
	mock_url="https://127.0.0.1:$mock_port"
}

# bv_start_mock [ARGS...]: the usual single mock - BaxVerify, Tryvox and
# Mudbase over HTTPS with $dir/pki/server.pem (so after bv_make_ca),
# named "mock" - started and waited for.  Sets mock_pid, mock_port and
# mock_url.
bv_start_mock() {
	bv_spawn_mock mock --cert "$dir/pki/server.pem" \
		--key "$dir/pki/server.key" "$@"
	bv_wait_mock mock
}

# bv_stop_mock [PID]: stops one mock (default $mock_pid) by its PID and
# waits for it; bv_cleanup no longer does.
bv_stop_mock() {
	bv_pid=${1:-${mock_pid:-}}
	kill "$bv_pid" 2>/dev/null || :
	wait "$bv_pid" 2>/dev/null || :
	bv_rest=
	for bv_p in $bv_pids; do
		[ "$bv_p" = "$bv_pid" ] || bv_rest="$bv_rest $bv_p"
	done
	bv_pids=$bv_rest
}

# --- the module's configuration -------------------------------------------

# bv_write_conf [--mode MODE] FILE [SETTING...]: the module's configuration
# at FILE, mode MODE (default 0600: it may hold an API key), from
# bv_conf_text.  The one writer of baxverify.conf for the tests, the C
# harness (through tests/mock/write-conf.sh), the e2e tests, the
# benchmark and ./quickstart's demos.
bv_write_conf() {
	bv_mode=0600
	if [ "$1" = --mode ]; then
		bv_mode=$2
		shift 2
	fi
	bv_file=$1
	shift
	rm -f "$bv_file"
	(umask 077 && bv_conf_text "$@" >"$bv_file") ||
		bv_fail "cannot write $bv_file"
	chmod "$bv_mode" "$bv_file"
}

# bv_conf_text [--bare] [SETTING...]: the configuration on stdout.  Unless
# --bare, it starts from these defaults (the variables may be set before):
#   with a mock ($mock_url set):
#     provider = "baxverify";
#     baxverify = { api_url = "$mock_url/v1"; project_id = "$bv_project_id";
#                   api_key = "$bv_api_key"; };
#     http = { ca_file = "$bv_ca_file" ($dir/pki/ca.pem);
#              connect_timeout = 5; timeout = 10; };
#   without: provider = "local";
#   phones = { file = "$bv_phones_file" ($dir/baxverify.phones); };
#   store = { dir = "$bv_store_dir" ($dir/store); };
#   helper = "$BV_HELPER";   (when BV_HELPER is set)
# Each SETTING changes them, in order:
#   NAME=VALUE, GROUP.NAME=VALUE   set a top-level setting or one of GROUP
#       (a new group is written after those already there); VALUE is
#       libconfig text when it is a number, true or false or starts with
#       " [ ( or {, else a string (quoted here): provider=local,
#       http.timeout=5, groups='["wheel"]', project_id='"123"';
#   NAME=, GROUP.NAME=      (no value) drops the setting; a group left
#       with nothing in it is not written;
#   GROUP{TEXT              TEXT (libconfig) at the end of GROUP;
#   +TEXT                   TEXT at the end of the file, after everything.
bv_conf_text() {
	bv_bare=
	if [ "${1:-}" = --bare ]; then
		bv_bare=1
		shift
	fi
	{
		[ -n "$bv_bare" ] || bv_conf_defaults
		for bv_s in "$@"; do
			bv_conf_op "$bv_s"
		done
	} | awk "$bv_conf_awk"
}

bv_conf_defaults() {
	if [ -n "${mock_url:-}" ]; then
		bv_conf_op provider=baxverify
		bv_conf_op "baxverify.api_url=\"$mock_url/v1\""
		bv_conf_op "baxverify.project_id=\"$bv_project_id\""
		bv_conf_op "baxverify.api_key=\"$bv_api_key\""
		bv_conf_op "http.ca_file=\"${bv_ca_file:-$dir/pki/ca.pem}\""
		bv_conf_op http.connect_timeout=5
		bv_conf_op http.timeout=10
	else
		bv_conf_op provider=local
	fi
	bv_conf_op "phones.file=\"${bv_phones_file:-$dir/baxverify.phones}\""
	bv_conf_op "store.dir=\"${bv_store_dir:-$dir/store}\""
	[ -z "${BV_HELPER:-}" ] || bv_conf_op "helper=\"$BV_HELPER\""
}

# One SETTING as a record for bv_conf_awk: OP, KEY, VALUE separated by
# \037, ended by \036 (values may hold newlines).
bv_conf_op() {
	case $1 in
	+*)
		printf 'R\037\037%s\036' "${1#+}"
		return
		;;
	esac
	bv_k=${1%%[={]*}
	case ${1#"$bv_k"} in
	=)
		printf 'U\037%s\037\036' "$bv_k"
		;;
	=*)
		printf 'S\037%s\037%s\036' "$bv_k" "${1#*=}"
		;;
	"{"*)
		printf 'T\037%s\037%s\036' "$bv_k" "${1#*\{}"
		;;
	*)
		bv_fail "bv_conf_text: not a setting: $1"
		;;
	esac
}

# shellcheck disable=SC2016 # awk's $, not the shell's
bv_conf_awk='
function lit(v,    out, i, c) {
	if (v ~ /^-?[0-9]+$/ || v == "true" || v == "false" || v ~ /^["[({]/)
		return v
	out = ""
	for (i = 1; i <= length(v); i++) {
		c = substr(v, i, 1)
		if (c == "\\" || c == "\"")
			out = out "\\"
		out = out c
	}
	return "\"" out "\""
}
# items: top-level settings ("s" NAME) and groups ("g" NAME), in order.
function item(kind, name) {
	if (!((kind, name) in at)) {
		at[kind, name] = ++n
		kinds[n] = kind
		names[n] = name
	}
}
BEGIN { RS = "\036"; FS = "\037" }
$1 == "R" { raw[++nraw] = $3; next }
$1 == "T" { item("g", $2); text[$2] = text[$2] $3 "\n"; next }
$1 == "S" || $1 == "U" {
	key = $2
	dot = index(key, ".")
	if (dot == 0) {
		item("s", key)
		val[key] = $1 == "S" ? lit($3) : ""
		next
	}
	g = substr(key, 1, dot - 1)
	k = substr(key, dot + 1)
	item("g", g)
	if (!((g, k) in gat)) {
		gat[g, k] = ++nk[g]
		gkeys[g, nk[g]] = k
	}
	gval[g, k] = $1 == "S" ? lit($3) : ""
}
END {
	print "# baxverify.conf written by tests/mock/lib.sh (bv_conf_text)"
	for (i = 1; i <= n; i++) {
		name = names[i]
		if (kinds[i] == "s") {
			if (val[name] != "")
				print name " = " val[name] ";"
			continue
		}
		body = ""
		for (j = 1; j <= nk[name]; j++) {
			k = gkeys[name, j]
			if (gval[name, k] != "")
				body = body "  " k " = " gval[name, k] ";\n"
		}
		body = body text[name]
		if (body != "")
			printf "%s = {\n%s};\n", name, body
	}
	for (i = 1; i <= nraw; i++)
		print raw[i]
}'

# --- PAM service files ----------------------------------------------------

# bv_service NAME [MODULE ARGUMENTS...]: $dir/pam.d/NAME (the directory
# made when missing), a stack whose result is exactly what pam_baxverify
# ($BV_MODULE, with conf=$conf and the arguments) returned.  libpam turns
# a stack in which every module said PAM_IGNORE into PAM_PERM_DENIED, so
# "ignore" falls through to pam_debug, which answers PAM_MODULE_UNKNOWN,
# a code no module returns; the harness reads that as PAM_IGNORE.  Any
# other answer ends the stack with pam_baxverify's own return code
# ("done").  Account: pam_permit.  A runner may append lines (a session
# stack) to the file.
bv_service() {
	[ -d "$dir/pam.d" ] || mkdir "$dir/pam.d"
	bv_name=$1
	shift
	{
		printf 'auth [ignore=ignore default=done] %s conf=%s%s\n' \
			"$BV_MODULE" "$conf" "${*:+ $*}"
		echo "auth required pam_debug.so auth=module_unknown"
		echo "account required pam_permit.so"
	} >"$dir/pam.d/$bv_name"
}

# bv_write_other_service DIR: DIR/other, a service that denies everything
# (pam_wrapper otherwise logs a missing default for each pam_start).
bv_write_other_service() {
	cat >"$1/other" <<EOF
auth required pam_deny.so
account required pam_deny.so
password required pam_deny.so
session required pam_deny.so
EOF
}
