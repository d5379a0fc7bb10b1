#!/bin/sh
# The man pages: each renders without a single warning from man and groff
# and has the sections its kind of page must have; baxverify.conf(5)
# documents every key of the key tables (the core's in src/core/conf.c,
# each provider's in src/providers/NAME_info.c: every "struct cfg_key
# NAME[] = {" of src/core and src/providers) and nothing else as a key,
# and pam_baxverify(8) every module argument of them.  A new key or
# argument without documentation fails here.
#
# Exit 0 pass, 1 fail, 77 (skip) when man-db is not installed and
# everything that does not need it passed.
set -u
top=${srcdir:-.}
# The files that hold key tables.
tables_in=$(grep -lE 'struct cfg_key [a-z_]+\[\][[:space:]]*=' \
	"$top"/src/core/*.c "$top"/src/providers/*.c 2>/dev/null)
module8=$top/man/pam_baxverify.8
conf5=$top/man/baxverify.conf.5
cli8=$top/man/baxverify.8
fail=0

bad() {
	printf 'FAIL: %s\n' "$*"
	fail=1
}

# The .SH headings of a page, one a line, without quotes.
headings() {
	sed -n 's/^\.SH[[:space:]]*//p' "$1" | tr -d '"'
}

# need_sections PAGE HEADING...
need_sections() {
	page=$1
	shift
	for h in "$@"; do
		headings "$page" | grep -qxF "$h" ||
			bad "$page: no section \"$h\""
	done
}

# The tags (line after .TP) of one .SH section, as printed by the filter:
# tags SECTION PAGE
tags() {
	awk -v want="$1" '
		/^\.SH/ {
			s = $0
			sub(/^\.SH[ \t]*/, "", s)
			gsub(/"/, "", s)
			sect = s
		}
		prev == ".TP" && sect == want { print }
		{ prev = $0 }
	' "$2"
}

for page in "$module8" "$conf5" "$cli8"; do
	if [ ! -r "$page" ]; then
		bad "$page: missing"
		continue
	fi
	# man macros, not mdoc; the section in .TH is the file's.
	sect=${page##*.}
	grep -qE "^\.TH [^ ]+ $sect " "$page" ||
		bad "$page: no \".TH NAME $sect\" line"
	if grep -qE '^\.(Dd|Dt|Nm|Sh)( |$)' "$page"; then
		bad "$page: mdoc macros; write it with the man macros"
	fi
done

need_sections "$module8" NAME SYNOPSIS DESCRIPTION OPTIONS \
	"MODULE TYPES PROVIDED" "RETURN VALUES" EXAMPLES FILES "SEE ALSO"
need_sections "$conf5" NAME SYNOPSIS DESCRIPTION OPTIONS "PHONES FILE" \
	EXAMPLES FILES "SEE ALSO"
need_sections "$cli8" NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS \
	"EXIT STATUS" FILES EXAMPLES "SEE ALSO"

# Every PAM return code the module can give has its entry.
for code in PAM_SUCCESS PAM_IGNORE PAM_AUTH_ERR PAM_MAXTRIES \
	PAM_AUTHINFO_UNAVAIL PAM_SERVICE_ERR PAM_BUF_ERR PAM_CONV_ERR \
	PAM_INCOMPLETE PAM_SESSION_ERR PAM_USER_UNKNOWN; do
	tags "RETURN VALUES" "$module8" | grep -q "$code" ||
		bad "$module8: RETURN VALUES has no entry for $code"
done

# The key tables: from "struct cfg_key NAME[] = {" to "};".  Every entry
# starts its line with { "name", or { NULL, (module argument only); the
# second field is the module argument's name or NULL.
keys=
args=
nkeys=0
for file in $tables_in; do
	table=$(sed -n '/struct cfg_key [a-z_]*\[\][[:space:]]*=[[:space:]]*{/,/^};/p' \
		"$file")
	entries=$(printf '%s\n' "$table" | grep -vE 'struct cfg_key' |
		grep -cE '^[[:space:]]*\{')
	these=$(printf '%s\n' "$table" |
		sed -nE 's/^[[:space:]]*\{[[:space:]]*"([^"]+)".*/\1/p')
	nulls=$(printf '%s\n' "$table" |
		grep -cE '^[[:space:]]*\{[[:space:]]*NULL[[:space:]]*,')
	n=$(printf '%s\n' "$these" | grep -c .)
	if [ "$n" -eq 0 ]; then
		bad "$file: no key names read from its key table"
	elif [ "$entries" -ne $((n + nulls)) ]; then
		bad "$file: $entries table entries but $n key names and" \
			"$nulls NULL names read; keep each entry's name on its" \
			"first line"
	fi
	keys="$keys
$these"
	args="$args
$(printf '%s\n' "$table" |
		sed -nE 's/^[[:space:]]*\{[[:space:]]*(NULL|"[^"]*")[[:space:]]*,[[:space:]]*"([^"]+)".*/\2/p')"
	nkeys=$((nkeys + n))
done
keys=$(printf '%s\n' "$keys" | grep .)
args=$(printf '%s\n' "$args" | grep .)
if [ -z "$tables_in" ] || [ "$nkeys" -eq 0 ]; then
	bad "src/core, src/providers: no key table found"
fi
dups=$(printf '%s\n' "$keys" | sort | uniq -d)
[ -z "$dups" ] || bad "keys in more than one table:" $dups

# The keys baxverify.conf(5) documents: tags of OPTIONS starting \fBname\fR.
doc_keys=$(tags OPTIONS "$conf5" | sed -n 's/^\\fB\([^\\]*\)\\fR.*/\1/p')
for k in $keys; do
	printf '%s\n' "$doc_keys" | grep -qxF "$k" ||
		bad "$conf5: key \"$k\" is not documented" \
			"(a .TP entry \\fB$k\\fR under OPTIONS)"
done
for k in $doc_keys; do
	printf '%s\n' "$keys" | grep -qxF "$k" ||
		bad "$conf5: documents \"$k\", which is not a key of any table"
done

# The module arguments pam_baxverify(8) documents: tags of OPTIONS such as
# ".B debug", ".BI conf= path", ".BR failmode=secure ...".
doc_args=$(tags OPTIONS "$module8" |
	sed -nE 's/^\.B[IR]?[[:space:]]+"?([a-z_]+).*/\1/p')
for a in conf $args; do
	printf '%s\n' "$doc_args" | grep -qxF "$a" ||
		bad "$module8: module argument \"$a\" is not documented" \
			"(a .TP entry under OPTIONS)"
done
for a in $doc_args; do
	printf '%s\n' conf "$args" | grep -qxF "$a" ||
		bad "$module8: documents argument \"$a\", which no table has"
done

# Rendering, with every warning man and groff give.
if ! command -v man >/dev/null 2>&1; then
	echo "man is not installed: rendering not checked"
	[ "$fail" -eq 0 ] && exit 77
	exit 1
fi
case $(man --version 2>/dev/null) in
"man "[0-9]*) ;;
*)
	echo "man is not man-db: rendering not checked"
	[ "$fail" -eq 0 ] && exit 77
	exit 1
	;;
esac
for page in "$module8" "$conf5" "$cli8"; do
	[ -r "$page" ] || continue
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		bad "$page: man --warnings (exit $rc):"
		printf '%s\n' "$out"
	fi
done

if [ "$fail" -eq 0 ]; then
	echo "man pages: $nkeys keys and $(printf '%s\n' conf "$args" | grep -c .)" \
		"module arguments documented; all render cleanly"
fi
exit "$fail"
