#!/bin/sh
# caller.sh - the local caller against the module, through the real setuid
# sudo and su.
#
# Started by `make check` (automake TESTS) with BV_MODULE, BV_HELPER and
# srcdir in the environment (see lib.sh).  Needs root, sudo, su, unshare,
# setpriv, an overlay mount and cc; skips (77) otherwise.
#
# Under sudo and su the module runs in a setuid process whose real uid,
# environment, signal state and resource limits belong to the caller.  The
# module hands every provider call to baxverify-helper, started as full
# root with nothing of the caller's (STYLE.md 1b).  A throwaway user (the
# caller) attacks that through the real programs.  Each check would have
# failed with libcurl in sudo's own process and the delivery command run
# with the caller's real uid (no helper process; the caller's variables,
# signals and limits in libcurl, OpenSSL and the delivery command), and
# controls show that the traps work.
#
# How.  Every run is one private mount namespace (unshare --mount
# --propagation private) in which
#   - /etc/pam.d/sudo is pam.d-examples/sudo (lib.sh: e2e_pam_from_example)
#     with the consume_token session line made "required" and pam_unix
#     given "nodelay"; /etc/pam.d/su is minimal: pam_exec (a probe of su's
#     signal state), the module in auth, consume_token in session;
#     /etc/sudoers.d is a test sudoers;
#   - /dev is an overlay of the real /dev (its pts and shm mounts bound
#     back) with the test's own datagram socket bound over /dev/log: there
#     is no syslog daemon here (TESTING.md), and an empty /dev/log made in
#     the real devtmpfs would be seen by every other test on the machine.
#     A python3 receiver writes what arrives to syslog.txt; each run's
#     lines are cut out after a flush marker came through.
# There the caller runs callerctl (written below; runs as the caller only):
#   - sudo -A, SUDO_ASKPASS answering the password and the code prompts;
#   - su root -c, with no terminal.  util-linux su reads the answers from
#     its standard input, and a pipe works (no `script` needed): PAM's
#     misc_conv reads a non-terminal byte by byte up to a newline (the
#     answer must end with one), and there is no echo to switch off and
#     no typeahead to flush.  A feeder process watches su's output for
#     the prompt and writes each answer into a fifo.
# The command under sudo/su creates ran/NAME in a directory only root can
# write: it exists if and only if the command ran.  All runs use
# failmode = "safe" (config file) and nothing in this test is a real
# outage (except the control that says so), so "ALLOWED WITHOUT A CODE" in
# any run's log is a failure.  max_tries = 1 and max_sends = 1: one answer
# per run is all the attacks need.
#
# Checks (each output line names its attack):
#   ids/PROG         at the code prompt the helper (a child of sudo/su,
#                    found by its command line) has real, effective, saved
#                    (and fs) uid and gid 0, seen by the caller and by root;
#                    the caller cannot open its /proc/PID/mem or environ,
#                    and kill -0 / kill -STOP on it fail with EPERM (the
#                    same probes on the caller's own process work);
#   ids/PROG/local   the local provider's delivery command (a root-owned
#                    script) records its ids (all 0, no groups), its
#                    environment (empty but for what sh sets) and umask
#                    (0077), with the caller's hostile environment and
#                    umask 000;
#   env/PROG[/local] with umask 000 and SSLKEYLOGFILE, CURL_HOME,
#                    CURL_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR,
#                    OPENSSL_CONF, OPENSSL_MODULES, the proxy variables,
#                    LD_PRELOAD, LD_LIBRARY_PATH, MALLOC_CHECK_,
#                    GLIBC_TUNABLES, TZ, HOME, TMPDIR, LANG, LC_ALL set to
#                    dead or booby-trapped places: they reached sudo's/su's
#                    own environment (control; ld.so drops LD_*, TMPDIR and
#                    the like from set-id programs itself), the right code
#                    works, the helper's environment is empty (root reads
#                    it), no file appears (the key log above all), and the
#                    marker library is loaded by no root process;
#                    env/control: the same traps fire in an ordinary process;
#                    env/umask: the store stays 0600 after umask 000 runs;
#   signals/PROG/STEP/MODE  the caller signals every process it can reach
#                    (the kernel decides; its own sudo/su included) when
#                    STEP comes: send, verify (the mock delays those
#                    requests), prompt, delivery (a delivery script that
#                    blocks until the caller releases it) and consume
#                    (consume_token's validate-token, delayed too).  MODE
#                    stopcont stops them all for longer than the timeouts,
#                    then continues them; killall sends SIGKILL to all;
#                    killothers to all but the set-id sudo/su (a delivery
#                    command with the caller's uid would die, sudo would
#                    see a failed delivery).  With a wrong code (no code
#                    at the prompt step) the command never runs and nothing
#                    is allowed without a code; at the consume step (the
#                    right code) the command runs only after the token was
#                    consumed, and "proof NOT consumed" is never logged.
#                    signals/PROG/control: a real outage (the mock answers
#                    500) is allowed and logged as such;
#   sigchld/PROG/PROVIDER/sigign|sigblock  SIGCHLD ignored, or blocked,
#                    when sudo/su is exec'd: the right code works, a wrong
#                    one is refused.  A NOTE says whether the state reached
#                    PAM (sudo resets an ignored SIGCHLD itself; su keeps it);
#   rlimit/sudo/ulimit OPT VALUE  limits set by the shell that runs sudo
#                    (see section 5): a wrong code is never admitted, a
#                    right one never "without a code"; whether a right
#                    code still works is reported (NOTE).
#
# About 70 runs of sudo or su, three minutes in all, most of it the
# stopcont holds.  BV_CALLER_ONLY=WORD runs only the sections whose name
# contains WORD (ids, env, signals, sigchld, rlimit), for debugging.

set -u

e2e_here=$(cd "$(dirname "$0")" && pwd)
srcdir=${srcdir:-$e2e_here/../..}
# shellcheck source=tests/e2e/lib.sh
. "$e2e_here/lib.sh"

for c in sudo su; do
	command -v "$c" >/dev/null 2>&1 || e2e_skip "$c not found"
	[ -u "$(command -v "$c")" ] || e2e_skip "$c is not setuid"
done
e2e_require unshare setpriv setsid timeout mount mountpoint mkfifo cc ps \
	awk stat
[ -f /etc/pam.d/sudo ] || e2e_skip "/etc/pam.d/sudo missing"
[ -f /etc/pam.d/su ] || e2e_skip "/etc/pam.d/su missing"
[ -n "${BV_HELPER:-}" ] && [ -x "$BV_HELPER" ] ||
	e2e_hard "BV_HELPER not set or not built"
unshare --mount --propagation private true 2>/dev/null ||
	e2e_skip "unshare --mount is not permitted here"

e2e_init caller
D=$e2e_dir
e2e_undo_if_new /run/sudo/ts
e2e_undo_if_new /run/sudo

only=${BV_CALLER_ONLY:-}
section() { # NAME: run this section?
	case $1 in *"$only"*) return 0 ;; esac
	return 1
}

# An overlay on /dev in a namespace (see the header); skip where refused.
mkdir "$D/probe-up" "$D/probe-work"
unshare --mount --propagation private sh -c 'mount -t overlay overlay \
	-o "lowerdir=/dev,upperdir=$1/probe-up,workdir=$1/probe-work" /dev' \
	x "$D" 2>/dev/null || e2e_skip "no overlay mount on /dev in a namespace"
rm -rf "$D/probe-up" "$D/probe-work"

# Timeouts long enough for a loopback mock on a loaded machine (a request
# takes milliseconds; the delayed ones 0.7 s): a request that must be
# answered never races them.  The caller holds its processes stopped for
# HOLD seconds, past both timeouts: a client clock in a stopped sudo would
# call that an outage.  (The delay only gives the caller time to strike
# while the request is in flight; striking later changes where the attack
# lands, not what the checks require.)
http_timeout=5
local_timeout=5
hold=6
delay=0.7

e2e_start_mock
e2e_add_user bve2ecall
uid=$(id -u "$e2e_user")
gid=$(id -g "$e2e_user")
phone=+14155550188
phone_q=%2B14155550188

mkdir "$D/bin" "$D/pam" "$D/runs" "$D/view" "$D/ns" "$D/ran" "$D/deliv" \
	"$D/gate" "$D/markers" "$D/envdir" "$D/sudoers.d" "$D/control"
chmod 755 "$D/bin" "$D/pam" "$D/runs" "$D/view" "$D/ran" "$D/deliv"
chmod 1777 "$D/markers"
chown "$e2e_user:" "$D/gate" "$D/control"

# --- the syslog receiver ----------------------------------------------------

cat >"$D/bin/syslogd.py" <<'EOF'
# A datagram /dev/log of the test's own: one line per message.
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as f:
    open(sys.argv[3], "w").close()
    while True:
        d = s.recv(65536)
        f.write(d.rstrip(b"\n").replace(b"\n", b" ") + b"\n")
EOF
: >"$D/syslog.txt"
"$e2e_python" "$D/bin/syslogd.py" "$D/log.sock" "$D/syslog.txt" \
	"$D/syslog.ready" 2>"$D/syslogd.err" &
e2e_pids="$e2e_pids $!"
i=0
while [ ! -e "$D/syslog.ready" ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || e2e_hard "the syslog receiver did not start"
	sleep 0.1
done

log_n=0
# Everything logged before this call is in syslog.txt when it returns.
log_flush() {
	log_n=$((log_n + 1))
	"$e2e_python" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(sys.argv[2].encode(), sys.argv[1])' "$D/log.sock" "bv-flush-$log_n"
	i=0
	while ! grep -q "bv-flush-$log_n\$" "$D/syslog.txt"; do
		i=$((i + 1))
		[ "$i" -le 100 ] || e2e_hard "syslog flush $log_n lost"
		sleep 0.05
	done
}

# --- the marker library (LD_PRELOAD, OPENSSL_MODULES, LD_LIBRARY_PATH) -------

# Loaded into any process, it appends "ruid= euid= cmd=" to markers/PID.
cat >"$D/bin/marker.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void
bv_marker(void)
{
	char cmd[256] = "", line[512], path[256];
	ssize_t n = 0, i;
	int fd;

	fd = open("/proc/self/cmdline", O_RDONLY);
	if (fd >= 0) {
		n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
	}
	for (i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[n > 0 ? n : 0] = '\0';
	snprintf(path, sizeof(path), "%s/%ld", MARKER_DIR, (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "ruid=%ld euid=%ld cmd=%s\n",
		     (long)getuid(), (long)geteuid(), cmd);
	if (write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}
EOF
cc -shared -fPIC -DMARKER_DIR="\"$D/markers\"" -o "$D/bin/marker.so" \
	"$D/bin/marker.c" 2>"$D/cc.log" || {
	cat "$D/cc.log" >&2
	e2e_hard "cannot build the marker library"
}
chmod 755 "$D/bin/marker.so"

# --- the caller's hostile environment -----------------------------------------

E=$D/envdir
mkdir "$E/certs" "$E/modules" "$E/lib" "$E/curlhome" "$E/home" "$E/tmp"
echo "not a certificate" >"$E/bogus-ca.pem"
echo "not a certificate" >"$E/certs/deadbeef.0"
echo "not a zone file" >"$E/zoneinfo"
printf 'proxy = "http://127.0.0.1:1"\n' >"$E/curlhome/.curlrc"
cp "$E/curlhome/.curlrc" "$E/home/.curlrc"
# OPENSSL_CONF: a provider module from OPENSSL_MODULES, which is the
# marker library: whoever honours the two variables leaves a marker.
cat >"$E/openssl.cnf" <<'EOF'
openssl_conf = bv_init
[bv_init]
providers = bv_providers
[bv_providers]
bvmarker = bv_marker
default = bv_default
[bv_marker]
module = bvmarker.so
activate = 1
[bv_default]
activate = 1
EOF
cp "$D/bin/marker.so" "$E/modules/bvmarker.so"
# LD_LIBRARY_PATH: libraries the helper needs (and the caller's own tools
# do not), replaced by the marker: a helper that honoured the variable
# would not even start.
cp "$D/bin/marker.so" "$E/lib/libcjson.so.1"
cp "$D/bin/marker.so" "$E/lib/libconfig.so.9"
chown -R "$e2e_user:" "$E"
chmod -R a+rX "$E"
chmod 777 "$E" "$E/tmp" "$E/home"

# Port 1 of 127.0.0.1: nothing listens there (checked below).
dead=http://127.0.0.1:1
hostile_env="SSLKEYLOGFILE=$E/keylog.txt
CURL_HOME=$E/curlhome
CURL_CA_BUNDLE=$E/bogus-ca.pem
SSL_CERT_FILE=$E/bogus-ca.pem
SSL_CERT_DIR=$E/certs
OPENSSL_CONF=$E/openssl.cnf
OPENSSL_MODULES=$E/modules
http_proxy=$dead
https_proxy=$dead
HTTPS_PROXY=$dead
ALL_PROXY=socks5h://127.0.0.1:1
NO_PROXY=example.invalid
LD_PRELOAD=$D/bin/marker.so
LD_LIBRARY_PATH=$E/lib
MALLOC_CHECK_=3
GLIBC_TUNABLES=glibc.malloc.perturb=165:glibc.malloc.tcache_count=0
TZ=:$E/zoneinfo
HOME=$E/home
TMPDIR=$E/tmp
LANG=tr_TR.UTF-8
LC_ALL=tr_TR.UTF-8"
printf '%s\n' "$hostile_env" | sed 's/^/export /' >"$D/bin/hostile.env"
if curl -s --max-time 3 "$dead" >/dev/null 2>&1; then
	e2e_hard "something listens on 127.0.0.1:1 (the dead proxy)"
fi

# --- configuration, PAM stacks, sudoers -----------------------------------------

printf '%s %s\nroot %s\n' "$e2e_user" "$phone" "$phone" >"$D/etc/phones"
chmod 644 "$D/etc/phones"
write_conf() { # PROVIDER
	bv_write_conf "$D/etc/$1.conf" "provider=$1" local.delivery=command \
		"local.command=$D/bin/deliver" "local.timeout=$local_timeout" \
		"http.connect_timeout=$http_timeout" "http.timeout=$http_timeout" \
		"phones.file=$D/etc/phones" limits.max_sends_per_hour=0 \
		limits.deny=1000 max_tries=1 max_sends=1 failmode=safe
}
write_conf baxverify
write_conf local

e2e_conf=$D/etc/active.conf
e2e_pam_from_example sudo "$D/pam/sudo.example"
# consume_token "required": a session whose token was not spent must not
# run the command (the example has "optional").  pam_unix "nodelay": its
# two seconds after every failure, in some twenty failing runs, are not
# what this test is about.
sed -e 's/^session\([ \t]*\)optional\([ \t]*.*pam_baxverify\.so.*consume_token\)/session\1required\2/' \
	-e 's/^\(auth[ \t].*pam_unix\.so.*\)$/\1 nodelay/' \
	"$D/pam/sudo.example" >"$D/pam/sudo"
grep -q '^session[ \t]*required[ \t].*pam_baxverify\.so.*consume_token' \
	"$D/pam/sudo" || e2e_hard "no required consume_token line in $D/pam/sudo"
# su, and sudo in the resource-limit runs ("sudo-min"): the module alone.
# pam_unix's yescrypt maps 16 MB in sudo's own process, more than the
# helper ever needs: behind it, no address-space or data limit could be
# low enough for the helper and still let sudo reach the module.  Before
# it, bin/sigprobe (pam_exec, a child of su) records su's signal state as
# PAM found it (the sigchld checks' control).
cat >"$D/pam/su" <<EOF
auth     optional  pam_exec.so quiet seteuid $D/bin/sigprobe
auth     required  $BV_MODULE conf=$e2e_conf
account  required  pam_permit.so
session  required  $BV_MODULE conf=$e2e_conf consume_token
session  required  pam_permit.so
EOF
cp "$D/pam/su" "$D/pam/sudo-min"
cat >"$D/sudoers.d/e2e" <<EOF
Defaults:$e2e_user timestamp_timeout=0, passwd_tries=1, lecture=never
$e2e_user ALL=(root) ALL
EOF
chmod 440 "$D/sudoers.d/e2e"
visudo -c -f "$D/sudoers.d/e2e" >/dev/null 2>&1 ||
	e2e_hard "the test sudoers does not parse"

# --- root's scripts: the delivery command, the exec wrapper ----------------------

# The local provider's delivery command (root's, 0755, in a root-owned
# directory).  It records what it runs with, leaves the code where the
# caller's answering side can read it, and, when deliv/block exists, says
# it started and waits for the caller's release (bounded; the helper's
# local.timeout ends it sooner).
cat >"$D/bin/deliver" <<EOF
#!/bin/sh
d=$D/deliv
EOF
cat >>"$D/bin/deliver" <<'EOF'
msg=$(/bin/cat)
code=${msg%% *}
{
	/bin/grep -E '^(Uid|Gid|Groups):' /proc/self/status
	echo "umask=$(umask)"
	echo "--- env"
	/usr/bin/env
} >"$d/ids.tmp" && /bin/mv "$d/ids.tmp" "$d/ids"
printf '%s\n' "$code" >"$d/code.tmp" && /bin/chmod 644 "$d/code.tmp" &&
	/bin/mv "$d/code.tmp" "$d/code"
if [ -e "$d/block" ]; then
	: >"$d/started"
	/bin/chmod 644 "$d/started"
	i=0
	while [ ! -e "$d/../gate/release" ] && [ "$i" -lt 400 ]; do
		/bin/sleep 0.05
		i=$((i + 1))
	done
fi
exit 0
EOF
chmod 755 "$D/bin/deliver"

cat >"$D/bin/sigprobe" <<EOF
#!/bin/sh
grep -E '^Sig(Blk|Ign):' "/proc/\$PPID/status" >"$D/deliv/sig"
exit 0
EOF
chmod 755 "$D/bin/sigprobe"

# wrap MODE COMMAND...: COMMAND with SIGCHLD ignored or blocked, or with a
# resource limit ("ulimit-OPT:VALUE"), or as it is ("none").
cat >"$D/bin/wrap" <<'EOF'
#!/bin/sh
mode=$1
shift
case $mode in
none)
	exec "$@" ;;
sigign)
	exec /usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])' "$@" ;;
sigblock)
	exec /usr/bin/python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
os.execvp(sys.argv[1], sys.argv[1:])' "$@" ;;
ulimit*)
	opt=${mode#ulimit}
	ulimit "${opt%%:*}" "${opt#*:}" || exit 97
	exec "$@" ;;
esac
exit 96
EOF
chmod 755 "$D/bin/wrap"

# The counter lib.sh uses, where the caller can read it.
cp "$e2e_here/count-requests.py" "$D/bin/reqcount.py"

# --- the caller's side -----------------------------------------------------------

{
	echo '#!/bin/sh'
	echo "D=$D"
	echo "CA=$e2e_ca"
	echo "MOCK=$e2e_mock_url"
	echo "PHONE_Q=$phone_q"
	cat <<'EOF'
# callerctl - the local caller's side of caller.sh.  Runs as the throwaway
# user only.
#   callerctl drive RUN     run sudo or su as RUN/params says
#   callerctl feed RUN      su's keyboard: answers each code prompt on stdout
#   callerctl attack RUN    wait for the step RUN/params names, then signal
#   callerctl askpass TEXT  SUDO_ASKPASS (through bin/askpass)
set -u

# The caller's own tools run with none of its hostile variables.
clean() { env -i PATH=/usr/bin:/bin "$@"; }
note() { printf '%s\n' "$*" >>"$RUN/caller.log"; }
mockget() { clean curl -fsS --max-time 5 --cacert "$CA" "$MOCK$1"; }
reqcount() {
	mockget /_mock/requests | clean python3 "$D/bin/reqcount.py" "$@"
}

code_now() {
	if [ "$PROVIDER" = local ]; then
		cat "$D/deliv/code" 2>/dev/null
	else
		mockget "/_mock/outbox/last?phone=$PHONE_Q" |
			sed -n 's/.*"code":"\([0-9]*\)".*/\1/p'
	fi
}

# One line (su reads up to the newline; the mock's JSON has none).
answer() {
	case $ANSWER in
	right) printf '%s\n' "$(code_now)" ;;
	wrong) printf '%s\n' "$(code_now | tr 0-9 1-90)" ;;
	*) echo ;;
	esac
}

# try NAME COMMAND...: record whether COMMAND was allowed, and its error.
try() {
	t_name=$1
	shift
	if t_err=$("$@" 2>&1 >/dev/null); then
		echo "$t_name=allowed"
	else
		echo "$t_name=refused: $t_err" | tr '\n' ' '
		echo
	fi >>"$RUN/probe"
	t_err=
}

# What the caller can do to the helper, and (control) to itself.
probe() { # HELPER
	grep -E '^(Name|Uid|Gid):' "/proc/$1/status" >"$RUN/probe.status" 2>&1
	tr '\0' ' ' <"/proc/$1/cmdline" >"$RUN/probe.cmdline" 2>&1
	try mem dd if="/proc/$1/mem" of=/dev/null bs=1 count=0
	try environ cat "/proc/$1/environ"
	try kill0 kill -0 "$1"
	try stop kill -s STOP "$1"
	# (were it allowed, the helper would stay stopped: undo that)
	grep -q '^stop=allowed' "$RUN/probe" && kill -s CONT "$1"
	try self-mem dd if="/proc/$$/mem" of=/dev/null bs=1 count=0
	try self-environ cat "/proc/$$/environ"
	try self-kill0 kill -0 "$$"
}

# Is PID set-id (real uid != effective uid: sudo, su)?
setid() {
	{
		while read -r k r e rest; do
			[ "$k" = Uid: ] || continue
			[ "$r" != "$e" ]
			return
		done <"/proc/$1/status"
	} 2>/dev/null
	return 1
}

# Signal every process the caller can reach (the kernel decides), but
# this one; then release a blocked delivery; for stopcont, continue them
# after the hold.
attack_now() {
	sig=KILL
	[ "$MODE" = stopcont ] && sig=STOP
	list=
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = "$$" ] && continue
		if [ "$MODE" = killothers ] && setid "$p"; then
			continue
		fi
		comm=?
		read -r comm 2>/dev/null <"/proc/$p/comm"
		kill -s "$sig" "$p" 2>/dev/null && list="$list $p:$comm"
	done
	note "attack: $MODE at $STEP: SIG$sig to$list"
	[ -e "$D/deliv/block" ] && : >"$D/gate/release"
	if [ "$MODE" = stopcont ]; then
		sleep "$HOLD"
		for p in $list; do
			kill -s CONT "${p%%:*}" 2>/dev/null
		done
		note "attack: SIGCONT sent"
	fi
}

# The first code prompt, with sudo or su (TARGET) waiting for the answer
# and the helper alive.
on_code_prompt() { # TARGET
	[ -e "$RUN/hooked" ] && return 0
	: >"$RUN/hooked"
	grep -E '^Sig(Blk|Ign):' "/proc/$1/status" >"$RUN/sig.code" 2>&1
	h=$(ps -o pid=,args= --ppid "$1" 2>/dev/null |
		awk '$2 == "baxverify-helper" { print $1; exit }')
	note "prompt: target $1, helper ${h:-none}"
	if [ "$PROBE" = 1 ] && [ -n "$h" ]; then
		echo "$1" >"$RUN/prompt.target"
		echo "$h" >"$RUN/helper.pid"
		# root's snapshot of the helper comes first
		i=0
		while [ ! -e "$RUN/snap.done" ] && [ "$i" -lt 200 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		probe "$h"
	fi
	if [ "$STEP" = prompt ]; then
		attack_now
	fi
}

wait_step() {
	i=0
	while [ "$i" -lt 300 ]; do
		n=0
		case $STEP in
		send) n=$(reqcount /v1/auth/sms/send) ;;
		verify) n=$(reqcount /v1/auth/sms/verify) ;;
		consume) n=$(reqcount /v1/auth/sms/validate-token consume true) ;;
		delivery) [ -e "$D/deliv/started" ] && n=1 ;;
		esac
		[ "${n:-0}" -ge 1 ] 2>/dev/null && return 0
		[ -e "$RUN/finished" ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

cmd=$1
shift
case $cmd in
askpass)
	RUN=${BV_RUN:?}
	. "$RUN/params"
	# Under the caller's own "ulimit -f 0" (inherited through sudo) a
	# write to a file would kill this process: answer, record nothing.
	if [ "$(ulimit -f)" = 0 ]; then
		case $1 in
		*"Verification code:"*) answer ;;
		*) exit 1 ;;
		esac
		exit 0
	fi
	printf '%s\n' "$1" | tr '\n' '|' >>"$RUN/prompts"
	echo >>"$RUN/prompts"
	case $1 in
	*"Verification code:"*)
		on_code_prompt "$PPID" >/dev/null 2>&1
		answer
		;;
	*[Pp]assword*)
		grep -E '^Sig(Blk|Ign):' "/proc/$PPID/status" \
			>"$RUN/sig.password" 2>&1
		printf '%s\n' "$PASSWORD"
		;;
	*) exit 1 ;;
	esac
	;;
feed)
	RUN=$1
	. "$RUN/params"
	n=0
	i=0
	t=$(cat "$RUN/target.pid")
	# Until su is gone (its parent, the caller's shell, may be killed).
	while [ ! -e "$RUN/finished" ] && [ -e "/proc/$t" ] &&
		[ "$i" -lt 1200 ]; do
		c=$(grep -o 'Verification code:' "$RUN/out" 2>/dev/null | wc -l)
		if [ "$c" -gt "$n" ]; then
			n=$c
			echo "Verification code:" >>"$RUN/prompts"
			on_code_prompt "$t" >/dev/null 2>&1
			answer
		fi
		sleep 0.05
		i=$((i + 1))
	done
	;;
attack)
	RUN=$1
	. "$RUN/params"
	if wait_step; then
		attack_now
	else
		note "attack: $STEP never came"
	fi
	;;
drive)
	RUN=$1
	. "$RUN/params"
	cd "$RUN" || exit 1
	if [ "$HOSTILE" = 1 ]; then
		umask 000
		. "$D/bin/hostile.env"
	fi
	case $STEP in
	send | verify | delivery | consume)
		/bin/sh "$D/bin/callerctl" attack "$RUN" &
		;;
	esac
	run="echo ran >$D/ran/$NAME"
	# sudo's and su's output goes through a pipe: under ulimit -f 0 a
	# write to a file would kill them with SIGXFSZ.
	mkfifo "$RUN/out.pipe"
	cat "$RUN/out.pipe" >"$RUN/out" &
	if [ "$PROG" = sudo ]; then
		BV_RUN=$RUN SUDO_ASKPASS=$D/bin/askpass \
			"$D/bin/wrap" "$WRAP" sudo -A -- /bin/sh -c "$run" \
			</dev/null >"$RUN/out.pipe" 2>&1 &
		t=$!
		echo "$t" >"$RUN/target.pid"
	else
		mkfifo "$RUN/su.in"
		"$D/bin/wrap" "$WRAP" su root -c "$run" \
			<"$RUN/su.in" >"$RUN/out.pipe" 2>&1 &
		t=$!
		echo "$t" >"$RUN/target.pid"
		/bin/sh "$D/bin/callerctl" feed "$RUN" >"$RUN/su.in" &
	fi
	wait "$t"
	echo "$?" >"$RUN/rc"
	: >"$RUN/finished"
	wait
	;;
esac
EOF
} >"$D/bin/callerctl"
printf '#!/bin/sh\nexec /bin/sh %s/bin/callerctl askpass "$@"\n' "$D" \
	>"$D/bin/askpass"
chmod 755 "$D/bin/callerctl" "$D/bin/askpass"
chmod 644 "$D/bin/reqcount.py" "$D/bin/hostile.env"

# --- one run ---------------------------------------------------------------------

mock_post() { # PATH JSON
	e2e_mock "$1" "$2" >/dev/null || e2e_hard "mock $1 $2 failed"
}

# Root's view of the helper at the first code prompt (the caller's side
# waits for it): its command line, ids and environment, and the
# environment of the sudo or su it belongs to.
watch_run() { # RUN VIEW
	w_i=0
	while [ ! -e "$2/stop" ] && [ "$w_i" -lt 2400 ]; do
		if [ -s "$1/helper.pid" ] && [ -s "$1/prompt.target" ]; then
			w_h=$(cat "$1/helper.pid")
			w_t=$(cat "$1/prompt.target")
			case $w_h$w_t in *[!0-9]*) break ;; esac
			tr '\0' ' ' <"/proc/$w_h/cmdline" >"$2/helper.cmdline"
			grep -E '^(Uid|Gid):' "/proc/$w_h/status" >"$2/helper.ids"
			grep -E '^Vm(Peak|Size|Data):' "/proc/$w_h/status" \
				>"$2/helper.vm"
			grep -E '^Vm(Peak|Size|Data):' "/proc/$w_t/status" \
				>"$2/target.vm"
			cat "/proc/$w_h/environ" >"$2/helper.environ"
			tr '\0' '\n' <"/proc/$w_t/environ" >"$2/target.environ"
			: >"$1/snap.done"
			break
		fi
		sleep 0.05
		w_i=$((w_i + 1))
	done
}

# ns_pids VIEW: the processes in a run's namespace but its holder (a
# root "sleep" started in there first: while it lives, the namespace and
# its inode number, which the kernel reuses, stay ours).
ns_pids() {
	n_ns=$(cat "$1/ns" 2>/dev/null) n_h=$(cat "$1/holder" 2>/dev/null)
	[ -n "$n_ns" ] && [ -n "$n_h" ] || return 0
	ps -e -o pid=,mntns= |
		awk -v ns="$n_ns" -v h="$n_h" '$2 == ns && $1 != h { print $1 }'
}

# ns_end VIEW: kill what is left in the namespace, then its holder.
ns_end() {
	n_pids=$(ns_pids "$1")
	# shellcheck disable=SC2086
	[ -z "$n_pids" ] || kill -9 $n_pids 2>/dev/null
	n_h=$(cat "$1/holder" 2>/dev/null) || return 0
	[ -n "$n_h" ] && [ "$(ps -o mntns= -p "$n_h" 2>/dev/null | tr -d ' ')" = \
		"$(cat "$1/ns")" ] && kill -9 "$n_h" 2>/dev/null
	rm -f "$1/holder"
}

# Wait for the processes of a run's namespace to end (a helper finishing
# a request after its sudo was killed), then kill what is left: ours by
# construction.
reap_ns() { # VIEW
	r_i=0
	while [ -n "$(ns_pids "$1")" ]; do
		r_i=$((r_i + 1))
		if [ "$r_i" -gt 200 ]; then
			echo "NOTE: killing leftovers of $1: $(ns_pids "$1")"
			break
		fi
		sleep 0.1
	done
	ns_end "$1"
}

# The namespace (see the header); runs "$@" as the caller.
ns_script='
d=$1 n=$2
shift 2
stat -L -c %i /proc/self/ns/mnt >"$d/view/$n/ns" || exit 98
sleep 600 </dev/null >/dev/null 2>&1 &
echo "$!" >"$d/view/$n/holder"
sub=
for m in pts shm mqueue hugepages; do
	mountpoint -q "/dev/$m" && sub="$sub $m"
done
mount --rbind /dev "$d/ns/$n/old" &&
mount -t overlay overlay \
	-o "lowerdir=/dev,upperdir=$d/ns/$n/up,workdir=$d/ns/$n/work" /dev ||
	exit 98
for m in $sub; do
	mount --rbind "$d/ns/$n/old/$m" "/dev/$m" || exit 98
done
: >/dev/log && mount --bind "$d/log.sock" /dev/log &&
mount --bind "$d/pam/$SUDO_STACK" /etc/pam.d/sudo &&
mount --bind "$d/pam/su" /etc/pam.d/su &&
mount --bind "$d/sudoers.d" /etc/sudoers.d || exit 98
exec "$@"'

# run_case NAME PROG PROVIDER ANSWER [step=S] [mode=M] [wrap=W] [hostile=1]
# [fault=JSON] [stack=sudo-min] [probe=1]: one run of sudo or su by the caller.
# Leaves rc (the namespace's exit status), $D/runs/NAME (the caller's
# side: out, prompts, caller.log, probe*) and $D/view/NAME (root's: log,
# helper.*).
run_case() {
	name=$1 prog=$2 provider=$3 ans=$4
	shift 4
	step=none mode=none wrap=none hostile=0 fault='' stack=sudo probe=0
	for kv in "$@"; do
		case $kv in
		stack=*) stack=${kv#*=} ;;
		probe=*) probe=${kv#*=} ;;
		step=*) step=${kv#*=} ;;
		mode=*) mode=${kv#*=} ;;
		wrap=*) wrap=${kv#*=} ;;
		hostile=*) hostile=${kv#*=} ;;
		fault=*) fault=${kv#*=} ;;
		*) e2e_hard "run_case: $kv" ;;
		esac
	done
	r=$D/runs/$name v=$D/view/$name
	mkdir "$r" "$v" "$D/ns/$name" "$D/ns/$name/old" "$D/ns/$name/up" \
		"$D/ns/$name/work" || e2e_hard "run_case: $name twice?"
	chown "$e2e_user:" "$r"
	cat >"$r/params" <<EOF
NAME=$name
PROG=$prog
PROVIDER=$provider
ANSWER=$ans
STEP=$step
MODE=$mode
WRAP=$wrap
HOSTILE=$hostile
PROBE=$probe
HOLD=$hold
PASSWORD=$e2e_password
EOF
	chmod 644 "$r/params"
	cp "$D/etc/$provider.conf" "$e2e_conf"
	mock_post /_mock/reset '{}'
	case $step in
	send | verify)
		mock_post /_mock/fault "{\"endpoint\":\"$step\",\"kind\":\"delay\",\"seconds\":$delay,\"count\":1}"
		;;
	consume)
		mock_post /_mock/fault "{\"endpoint\":\"validate-token\",\"kind\":\"delay\",\"seconds\":$delay,\"count\":2}"
		;;
	esac
	[ -n "$fault" ] && mock_post /_mock/fault "$fault"
	rm -f "$D/deliv/"* "$D/gate/release"
	[ "$step" = delivery ] && : >"$D/deliv/block"
	log_flush
	log_start=$(wc -l <"$D/syslog.txt")
	watch_pid=
	if [ "$probe" = 1 ]; then
		watch_run "$r" "$v" &
		watch_pid=$!
	fi
	rc=0
	SUDO_STACK=$stack timeout 120 unshare --mount --propagation private \
		sh -c "$ns_script" x "$D" "$name" \
		setpriv --reuid="$uid" --regid="$gid" --init-groups \
		setsid -w env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$D/home" USER="$e2e_user" LOGNAME="$e2e_user" \
		LANG=C.UTF-8 /bin/sh "$D/bin/callerctl" drive "$r" \
		</dev/null >"$v/drive.out" 2>&1 || rc=$?
	# sudo may outlive the caller's shell (killed by the caller): the
	# watcher serves its askpass until the namespace is empty.
	reap_ns "$v"
	: >"$v/stop"
	[ -z "$watch_pid" ] || wait "$watch_pid"
	watch_pid=
	log_flush
	sed -n "$((log_start + 1)),\$p" "$D/syslog.txt" | grep -v '^bv-flush-' \
		>"$v/log"
	[ -f "$D/deliv/sig" ] && cp "$D/deliv/sig" "$v/sig.pam"
	rm -f "$D/deliv/block"
	[ "$rc" -ne 98 ] || e2e_hard "$name: the namespace set-up failed" \
		"$(cat "$v/drive.out")"
}

watch_pid=
caller_cleanup() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	for v in "$D"/view/*; do
		[ -f "$v/holder" ] && ns_end "$v"
	done
}
trap 'caller_cleanup; e2e_cleanup' EXIT

# --- what a run did ----------------------------------------------------------------

ran() { [ -e "$D/ran/$1" ]; }
allowed() { grep -q 'ALLOWED WITHOUT A CODE' "$D/view/$1/log"; }
logged() { grep -q "$2" "$D/view/$1/log"; }

# The files to show when a check of run NAME fails.
files_of() {
	for f in out prompts caller.log probe; do
		echo "$D/runs/$1/$f"
	done
	echo "$D/view/$1/log" "$D/view/$1/drive.out"
}

check() { # NAME DESCRIPTION COMMAND...: PASS or FAIL (with the run's files)
	c_run=$1 c_what=$2
	shift 2
	if "$@"; then
		e2e_pass "$c_what"
	else
		# shellcheck disable=SC2046
		e2e_fail "$c_what" $(files_of "$c_run")
	fi
}

not_admitted() { ! ran "$1" && ! allowed "$1"; }
never_allowed() { ! allowed "$1"; }
ran_allowed() { ran "$1" && allowed "$1"; }
# The consume step: never "NOT consumed"; the command only after a consume.
consume_clean() { ! allowed "$1" && ! logged "$1" "NOT consumed"; }
ran_consumed() { ! ran "$1" || logged "$1" "session: proof consumed"; }
right_worked() { ran "$1" && logged "$1" 'verified' && ! allowed "$1"; }

started=$(date +%s)

# --- 1. ids, 2. environment ----------------------------------------------------------

# env_controls: the traps work on an ordinary process of the caller.
env_controls() {
	setpriv --reuid="$uid" --regid="$gid" --init-groups \
		env -i PATH=/usr/bin:/bin LD_PRELOAD="$D/bin/marker.so" \
		/bin/true
	if grep -qs "ruid=$uid euid=$uid cmd=/bin/true" "$D"/markers/*; then
		e2e_pass "env/control: LD_PRELOAD of the marker library leaves a marker"
	else
		e2e_fail "env/control: LD_PRELOAD of the marker library leaves a marker"
	fi
	setpriv --reuid="$uid" --regid="$gid" --init-groups \
		env -i PATH=/usr/bin:/bin OPENSSL_CONF="$E/openssl.cnf" \
		OPENSSL_MODULES="$E/modules" openssl list -providers \
		>/dev/null 2>&1
	if grep -qs "ruid=$uid euid=$uid cmd=openssl list" "$D"/markers/*; then
		e2e_pass "env/control: OPENSSL_CONF + OPENSSL_MODULES load the marker"
	else
		e2e_fail "env/control: OPENSSL_CONF + OPENSSL_MODULES load the marker"
	fi
	setpriv --reuid="$uid" --regid="$gid" --init-groups \
		env -i PATH=/usr/bin:/bin SSLKEYLOGFILE="$D/control/keylog" \
		curl -s --cacert "$e2e_ca" "$e2e_mock_url/_mock/config" \
		>/dev/null 2>&1
	if [ -s "$D/control/keylog" ]; then
		e2e_pass "env/control: libcurl writes SSLKEYLOGFILE"
	else
		e2e_fail "env/control: libcurl writes SSLKEYLOGFILE"
	fi
	rm -f "$D"/markers/*
}

# ids_checks RUN PROG: the caller's probes and root's view of the helper.
ids_checks() {
	p=$D/runs/$1/probe v=$D/view/$1
	if grep -qx 'baxverify-helper ' "$v/helper.cmdline" 2>/dev/null &&
		[ "$(grep -c '^[UG]id:[[:space:]]*0[[:space:]]*0[[:space:]]*0[[:space:]]*0$' \
			"$p.status" 2>/dev/null)" -eq 2 ] &&
		[ "$(grep -c '^[UG]id:[[:space:]]*0[[:space:]]*0[[:space:]]*0[[:space:]]*0$' \
			"$v/helper.ids" 2>/dev/null)" -eq 2 ]; then
		e2e_pass "ids/$2: at the code prompt the helper has uid and gid 0 (real, effective, saved, fs)"
	else
		e2e_fail "ids/$2: at the code prompt the helper has uid and gid 0 (real, effective, saved, fs)" \
			"$p.status" "$p.cmdline" "$v/helper.ids" \
			"$D/runs/$1/caller.log"
	fi
	for probe in "mem:open /proc/PID/mem" "environ:read /proc/PID/environ" \
		"kill0:kill -0" "stop:kill -STOP"; do
		key=${probe%%:*} what=${probe#*:}
		if grep -q "^$key=refused: .*\(Permission denied\|Operation not permitted\)" \
			"$p" 2>/dev/null; then
			e2e_pass "ids/$2: the caller cannot $what on the helper"
		else
			e2e_fail "ids/$2: the caller cannot $what on the helper" "$p"
		fi
	done
	if [ "$(grep -c '^self-[a-z0-9]*=allowed$' "$p" 2>/dev/null)" -eq 3 ]; then
		e2e_pass "ids/$2: (control) the same probes work on the caller's own process"
	else
		e2e_fail "ids/$2: (control) the same probes work on the caller's own process" "$p"
	fi
}

# env_checks RUN PROG: the hostile environment reached sudo/su and nothing
# of it reached the helper.
env_checks() {
	v=$D/view/$1
	missing=
	for var in SSLKEYLOGFILE https_proxy OPENSSL_CONF HOME; do
		grep -q "^$var=" "$v/target.environ" 2>/dev/null ||
			missing="$missing $var"
	done
	if [ -z "$missing" ]; then
		e2e_pass "env/$2: (control) the caller's variables are in ${2%%/*}'s own environment"
	else
		e2e_fail "env/$2: (control) the caller's variables are in ${2%%/*}'s own environment (missing:$missing)" \
			"$v/target.environ"
	fi
	if [ -f "$v/helper.environ" ] && [ ! -s "$v/helper.environ" ]; then
		e2e_pass "env/$2: the helper's environment is empty"
	else
		e2e_fail "env/$2: the helper's environment is empty" \
			"$v/helper.environ"
	fi
	check "$1" "env/$2: the right code works with the caller's variables set (proxies, CA, OpenSSL, LD_*, malloc, TZ, locale)" \
		right_worked "$1"
	if [ ! -e "$E/keylog.txt" ]; then
		e2e_pass "env/$2: SSLKEYLOGFILE's file was not created"
	else
		e2e_fail "env/$2: SSLKEYLOGFILE's file was not created"
		ls -l "$E/keylog.txt" >&2
	fi
	new=$(find "$E" -newer "$D/envdir.stamp" 2>/dev/null)
	if [ -z "$new" ]; then
		e2e_pass "env/$2: nothing created or changed under the caller's CURL_HOME, HOME, TMPDIR, SSL_CERT_DIR, ..."
	else
		e2e_fail "env/$2: nothing created or changed under the caller's CURL_HOME, HOME, TMPDIR, SSL_CERT_DIR, ..."
		printf '  %s\n' "$new" >&2
	fi
	bad=$(grep -ls -e 'euid=0 ' -e 'cmd=baxverify-helper' "$D"/markers/* || :)
	if [ -z "$bad" ]; then
		e2e_pass "env/$2: the marker library (LD_PRELOAD, OPENSSL_MODULES, LD_LIBRARY_PATH) was loaded by no root process"
	else
		# shellcheck disable=SC2086
		e2e_fail "env/$2: the marker library (LD_PRELOAD, OPENSSL_MODULES, LD_LIBRARY_PATH) was loaded by no root process" $bad
	fi
	rm -f "$D"/markers/*
}

# delivery_checks RUN PROG: what the delivery command ran with.
delivery_checks() {
	f=$D/deliv/ids.$1
	ok=true
	[ "$(grep -c '^[UG]id:[[:space:]]*0[[:space:]]*0[[:space:]]*0[[:space:]]*0$' \
		"$f" 2>/dev/null)" -eq 2 ] || ok=false
	grep -q '^Groups:[[:space:]]*$' "$f" || ok=false
	if $ok; then
		e2e_pass "ids/$2/local: the delivery command runs with uid and gid 0, no groups"
	else
		e2e_fail "ids/$2/local: the delivery command runs with uid and gid 0, no groups" "$f"
	fi
	extra=$(sed -n '/^--- env$/,$p' "$f" | sed 1d |
		grep -v -e '^PWD=' -e '^OLDPWD=' -e '^SHLVL=' -e '^_=')
	if grep -q '^--- env$' "$f" && [ -z "$extra" ]; then
		e2e_pass "ids/$2/local: the delivery command's environment is empty (but for sh's PWD)"
	else
		e2e_fail "ids/$2/local: the delivery command's environment is empty (but for sh's PWD)" "$f"
	fi
	if grep -qx 'umask=0077' "$f"; then
		e2e_pass "ids/$2/local: the delivery command's umask is 0077 (the caller's was 000)"
	else
		e2e_fail "ids/$2/local: the delivery command's umask is 0077 (the caller's was 000)" "$f"
	fi
}

if section ids || section env; then
	env_controls
	touch "$D/envdir.stamp"
	for prog in sudo su; do
		n=idenv-$prog
		run_case "$n" "$prog" baxverify right hostile=1 probe=1
		ids_checks "$n" "$prog"
		env_checks "$n" "$prog"
		check "$n" "env/$prog: no \"ALLOWED WITHOUT A CODE\"" \
			never_allowed "$n"

		n=idenv-$prog-local
		run_case "$n" "$prog" local right hostile=1 probe=1
		cp "$D/deliv/ids" "$D/deliv/ids.$n" 2>/dev/null
		delivery_checks "$n" "$prog"
		env_checks "$n" "$prog/local"
	done
	# The caller's umask was 000 in all of those.
	loose=$(find "$D/store" -perm /077 2>/dev/null)
	if [ -d "$D/store" ] && [ -z "$loose" ]; then
		e2e_pass "env/umask: the store has no group or other access after umask 000 runs"
	else
		e2e_fail "env/umask: the store has no group or other access after umask 000 runs"
		ls -la "$D/store" >&2
	fi
fi

# --- 3. signals --------------------------------------------------------------------

# What an attack did, from the caller's log.
attack_line() { grep '^attack: [a-z]* at ' "$D/runs/$1/caller.log" 2>/dev/null; }
# The attack signalled sudo/su itself (stopcont and killall must).
hit_target() {
	t=$(cat "$D/runs/$1/target.pid" 2>/dev/null)
	[ -n "$t" ] && attack_line "$1" | grep -q " $t:"
}
attacked() { attack_line "$1" | grep -q 'SIG[A-Z]* to .'; }

signal_checks() { # RUN LABEL MODE
	if [ "$3" = killothers ]; then
		check "$1" "$2: the attack came and signalled the caller's other processes" \
			attacked "$1"
	else
		check "$1" "$2: the attack came and signalled $prog itself" \
			hit_target "$1"
	fi
}

if section signals; then
	# Control: a real outage (the mock answers 500) is allowed without a
	# code, and says so: the log capture and failmode = "safe" work.
	for prog in sudo su; do
		n=outage-$prog
		run_case "$n" "$prog" baxverify wrong \
			fault='{"endpoint":"send","kind":"http500"}'
		check "$n" "signals/$prog/control: a real outage under failmode=safe runs the command and logs \"ALLOWED WITHOUT A CODE\"" \
			ran_allowed "$n"
	done
	for prog in sudo su; do
		for step in send prompt verify delivery consume; do
			provider=baxverify
			[ "$step" = delivery ] && provider=local
			# A wrong code, but at the prompt no code at all (the
			# answer is empty), and a right one for the consume step.
			ans=wrong what="a wrong code"
			[ "$step" = prompt ] && ans=none what="no code"
			[ "$step" = consume ] && ans=right what="the right code"
			for mode in stopcont killall killothers; do
				n=sig-$prog-$step-$mode
				l="signals/$prog/$step/$mode ($what)"
				run_case "$n" "$prog" "$provider" "$ans" \
					step="$step" mode="$mode"
				signal_checks "$n" "$l" "$mode"
				if [ "$step" != consume ]; then
					check "$n" "$l: the command never ran, never \"ALLOWED WITHOUT A CODE\"" \
						not_admitted "$n"
					continue
				fi
				check "$n" "$l: no \"ALLOWED WITHOUT A CODE\", no \"proof NOT consumed\"" \
					consume_clean "$n"
				check "$n" "$l: the command ran only after the token was consumed" \
					ran_consumed "$n"
				if ran "$n"; then
					echo "NOTE: $l: the command ran (the token was consumed)"
				else
					echo "NOTE: $l: the command did not run"
				fi
			done
		done
	done
fi

# --- 4. SIGCHLD ignored or blocked at exec ---------------------------------------------

# sig_has FILE FIELD: does FIELD (SigBlk, SigIgn) in FILE, a copy of
# /proc/PID/status lines, include SIGCHLD (17: bit 16)?
sig_has() {
	sh_mask=$(sed -n "s/^$2:[[:space:]]*//p" "$1" 2>/dev/null)
	[ -n "$sh_mask" ] && [ $((0x$sh_mask >> 16 & 1)) -eq 1 ]
}

# Whether the caller's SIGCHLD state was still there when sudo or su ran
# PAM: SigBlk at the code prompt (the module leaves the mask alone), SigIgn
# at sudo's password prompt or, for su, from bin/sigprobe (the module sets
# SIGCHLD to SIG_DFL around the helper's life, so at the code prompt it
# shows the module's own action).
sig_note() { # RUN LABEL WRAP
	case $3:$prog in
	sigblock:*) f=$D/runs/$1/sig.code field=SigBlk where="code prompt" ;;
	*:sudo) f=$D/runs/$1/sig.password field=SigIgn where="password prompt" ;;
	*) f=$D/view/$1/sig.pam field=SigIgn where="start of PAM" ;;
	esac
	if [ ! -s "$f" ]; then
		echo "NOTE: $2: no $where to look at $prog's SIGCHLD"
	elif sig_has "$f" "$field"; then
		echo "NOTE: $2: SIGCHLD was in $prog's $field at the $where"
	else
		echo "NOTE: $2: SIGCHLD was NOT in $prog's $field at the $where"
	fi
}

if section sigchld; then
	for prog in sudo su; do
		for provider in baxverify local; do
			for w in sigign sigblock; do
				l=sigchld/$prog/$provider/$w
				n=chld-$prog-$provider-$w-right
				run_case "$n" "$prog" "$provider" right wrap="$w"
				check "$n" "$l: the right code works" right_worked "$n"
				[ "$provider" = local ] || sig_note "$n" "$l" "$w"
				n=chld-$prog-$provider-$w-wrong
				run_case "$n" "$prog" "$provider" wrong wrap="$w"
				check "$n" "$l: a wrong code: the command never ran, never \"ALLOWED WITHOUT A CODE\"" \
					not_admitted "$n"
			done
		done
	done
fi

# --- 5. resource limits -----------------------------------------------------------------

# Set by the shell that runs sudo (wrap: "ulimit OPT VALUE", soft and hard,
# then exec), with the minimal stack (see pam/su).  The helper's child
# raises every limit back (child.c), but only as far as the hard limit
# allows without CAP_SYS_RESOURCE, which root lacks on some machines
# (containers; this one, when the NOTE below says so); there the helper
# lives under the caller's hard limits, and what must hold is that
# whatever breaks in it breaks closed.  (With libcurl in sudo's own
# process, the -n, -v and -d values that still let sudo run would have
# broken TLS there, an "outage".)  Values (sudo itself runs and reaches
# the module with each):
#   -n 12       descriptors: the helper's child needs 14 (its pipes are
#               moved above 10 before exec): it cannot start;
#   -n 16       enough for the helper;
#   -v 16000    KB of address space: sudo needs about 10 MB, the helper
#               about 22 MB just to load libcurl, OpenSSL, GnuTLS, LDAP...:
#               it cannot start;
#   -v PEAK-256 the helper's own VmPeak (root reads it at the prompt of the
#               ids/sudo run) less 256 KB: it starts and fails inside TLS,
#               where an allocation failure must not read as an outage;
#   -v 40000    enough for the helper;
#   -d 1000     KB of data (heap, private writable mappings): the helper
#               cannot start; -d 2500 is enough for it;
#   -f 0        no file may grow: the module's store write, in sudo's own
#               process, raises SIGXFSZ, which kills sudo (the caller's
#               askpass answers without writing a file);
#   -t 1        one second of CPU: the helper needs milliseconds, so this
#               cannot bite; it is there to show it does no harm.
if section rlimit; then
	capbnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
	if [ $((0x$capbnd >> 24 & 1)) -eq 0 ]; then # CAP_SYS_RESOURCE
		echo "NOTE: root here lacks CAP_SYS_RESOURCE: the helper cannot" \
			"raise the caller's hard limits"
	fi
	peak=$(sed -n 's/^VmPeak:[[:space:]]*\([0-9]*\) kB$/\1/p' \
		"$D/view/idenv-sudo/helper.vm" 2>/dev/null)
	mid=$((${peak:-22456} - 256))
	echo "NOTE: VmPeak at the code prompt: the helper ${peak:-?} kB," \
		"sudo (with pam_unix) $(sed -n 's/^VmPeak:[[:space:]]*//p' \
			"$D/view/idenv-sudo/target.vm" 2>/dev/null)"
	for lim in -n:12 -n:16 -v:16000 -v:$mid -v:40000 -d:1000 -d:2500 \
		-f:0 -t:1; do
		l="rlimit/sudo/ulimit ${lim%%:*} ${lim#*:}"
		n=rlim${lim%%:*}${lim#*:}
		run_case "$n-wrong" sudo baxverify wrong wrap="ulimit$lim" \
			stack=sudo-min
		check "$n-wrong" "$l: a wrong code: the command never ran, never \"ALLOWED WITHOUT A CODE\"" \
			not_admitted "$n-wrong"
		run_case "$n-right" sudo baxverify right wrap="ulimit$lim" \
			stack=sudo-min
		check "$n-right" "$l: a right code: never \"ALLOWED WITHOUT A CODE\"" \
			never_allowed "$n-right"
		if right_worked "$n-right"; then
			echo "NOTE: $l: a right code still works"
		else
			st=$(cat "$D/runs/$n-right/rc" 2>/dev/null)
			[ "${st:-0}" -gt 128 ] && st="$st, killed by signal $((st - 128))"
			echo "NOTE: $l: a right code does NOT work (exit $st):" \
				"$(grep -h 'pam_baxverify' "$D/view/$n-right/log" |
					sed 's/.*rhost=-: //' | tail -n 2 | tr '\n' ' ')"
		fi
	done
fi

echo "caller.sh: $(($(date +%s) - started)) s for the runs"
e2e_finish
