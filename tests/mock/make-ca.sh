#!/bin/sh
# make-ca.sh DIR — throwaway test PKI for the mock BaxVerify server.
#
# Creates in DIR (made if missing), each NAME as NAME.pem and NAME.key:
#   ca          the test CA, the only thing a client should trust
#   server      from the CA, SAN DNS:localhost,IP:127.0.0.1
#   wronghost   from the CA, SAN DNS:wrong.example only
#   expired     from the CA, right SAN, validity ended on 2020-01-02
#   selfsigned  self-signed, right SAN, no chain to the CA
# Certificates are valid for 2 days. Keys are mode 0600, certificates 0644.
# EC P-256 keys: generating them takes milliseconds, RSA would not.
#
# OpenSSL 3.0's x509 command has no -not_before/-not_after, so the expired
# certificate is issued with a minimal `openssl ca` set-up (-startdate and
# -enddate in the past), kept in a scratch directory that is removed on exit.

set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
mkdir -p "$dir"
umask 077

work=$(mktemp -d "$dir/.make-ca.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

# Run a command quietly; show its output only when it fails.
q() {
	if ! "$@" >"$work/log" 2>&1; then
		echo "make-ca.sh: failed: $*" >&2
		cat "$work/log" >&2
		return 1
	fi
}

: >"$work/index.txt"
echo 1000 >"$work/serial"

cat >"$work/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ leaf_localhost ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1

[ leaf_wronghost ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example

[ leaf_selfsigned ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1

[ ca ]
default_ca = test_ca

[ test_ca ]
database = $work/index.txt
serial = $work/serial
new_certs_dir = $work
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no

[ policy_any ]
commonName = supplied
EOF

cnf=$work/openssl.cnf
newkey="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

# The CA.
# shellcheck disable=SC2086
q openssl req -x509 $newkey -config "$cnf" -extensions v3_ca -days 2 \
	-subj "/CN=pam_baxverify test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem"

# issue NAME CN EXTENSIONS [openssl ca validity options...]
issue() {
	name=$1 cn=$2 ext=$3
	shift 3
	# shellcheck disable=SC2086
	q openssl req -new $newkey -config "$cnf" -subj "/CN=$cn" \
		-keyout "$dir/$name.key" -out "$work/$name.csr"
	q openssl ca -batch -notext -config "$cnf" -extensions "$ext" \
		-cert "$dir/ca.pem" -keyfile "$dir/ca.key" \
		-in "$work/$name.csr" -out "$dir/$name.pem" "$@"
}

issue server localhost leaf_localhost -days 2
issue wronghost wrong.example leaf_wronghost -days 2
issue expired localhost leaf_localhost \
	-startdate 20200101000000Z -enddate 20200102000000Z

# Self-signed: the right names, but no chain to the test CA.
# shellcheck disable=SC2086
q openssl req -x509 $newkey -config "$cnf" -extensions leaf_selfsigned \
	-days 2 -subj "/CN=localhost" \
	-keyout "$dir/selfsigned.key" -out "$dir/selfsigned.pem"

for name in ca server wronghost expired selfsigned; do
	chmod 0600 "$dir/$name.key"
	chmod 0644 "$dir/$name.pem"
done
