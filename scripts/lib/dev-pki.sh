# shellcheck shell=bash
# scripts/lib/dev-pki.sh -- a DEVELOPMENT-ONLY certificate authority for the
# demo and for trying hie-node locally, built with the `openssl` command line.
#
#   ***  NEVER USE THIS FOR PRODUCTION OR WITH REAL PATIENT DATA.           ***
#   ***  The CA keys sit unencrypted next to the certificates, with no      ***
#   ***  access control, no audit and no key ceremony. Anyone who can read  ***
#   ***  DIR can mint an identity for any organization.                     ***
#
# Every key is generated at run time into DIR; none is ever committed. A real
# network uses its own CA (see docs/operations.md). A later release replaces
# this file with `hie-node pki`.
#
# Source it (do not execute it):
#
#   source scripts/lib/dev-pki.sh
#   devpki_init DIR                        # EC P-256 root -> issuing CA, in DIR
#   devpki_issue DIR lakeside --san-uri urn:oid:2.16.840.1.113883.3.7001
#   devpki_issue DIR node-a --san-dns localhost --san-ip 127.0.0.1 --eku serverAuth,clientAuth
#   devpki_crl DIR [NAME-to-revoke...]     # (re)writes DIR/network.crl
#
# Files in DIR:
#   network-ca.pem   the root "HIE Dev Root CA" (the trust bundle: tls.trustBundle)
#   issuing-ca.pem   the intermediate "HIE Dev Issuing CA" (pathlen 0)
#   NAME.crt         leaf, then the issuing CA (tls.certificate / curl --cert)
#   NAME.key         the leaf's EC P-256 key, unencrypted PEM, mode 0600
#   network.crl      the root's CRL and the issuing CA's CRL (tls.crl)
#   .devpki/         CA keys, openssl ca databases, config, logs (private)
#
# devpki_issue options (each may repeat except --eku; values must not contain
# commas or whitespace):
#   --san-uri URI    subjectAltName URI (a member's organization OID: urn:oid:...)
#   --san-dns NAME   subjectAltName DNS name
#   --san-ip IP      subjectAltName IP address
#   --eku LIST       clientAuth (default), serverAuth, clientAuth,serverAuth, or
#                    none (no extendedKeyUsage extension at all)
# Leaves are valid for 365 days, the issuing CA for 5 years, the root for 10.
#
# devpki_crl revokes the named leaves (their current DIR/NAME.crt) and writes
# both CRLs, valid for 30 days. Revocations accumulate across calls, as with
# a real CA: `devpki_crl DIR` alone re-issues the CRLs with what is already
# revoked. hie-node needs both CRLs when tls.crl is set: it checks the leaf
# against the issuing CA's CRL and the issuing CA against the root's.
#
# Functions return non-zero with a message on stderr on failure; they do not
# rely on the caller's `set -e`.

_devpki_err() { printf 'dev-pki: %s\n' "$*" >&2; }

# Absolute path of an existing directory.
_devpki_abs() { (cd -- "$1" 2>/dev/null && pwd); }

# Runs a command inside DIR/.devpki, output to its log; shows the log on failure.
_devpki_run() {
  local state="$1"
  shift
  if ! (cd -- "$state" && umask 077 && "$@") >"$state/last.log" 2>&1; then
    _devpki_err "command failed: $*"
    sed 's/^/  /' "$state/last.log" >&2
    return 1
  fi
  cat "$state/last.log" >>"$state/openssl.log"
}

_devpki_state() {
  local dir
  dir=$(_devpki_abs "${1:-}") || {
    _devpki_err "no such directory: ${1:-(none)}"
    return 1
  }
  if [[ ! -f "$dir/.devpki/openssl.cnf" ]]; then
    _devpki_err "$dir holds no development PKI; run devpki_init $dir first"
    return 1
  fi
  printf '%s\n' "$dir"
}

_devpki_newkey() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" && chmod 0600 "$1"
}

# The openssl configuration: paths relative to DIR/.devpki (commands run there).
_devpki_write_config() {
  cat >"$1" <<'CNF'
# DEVELOPMENT-ONLY PKI for hie-node (scripts/lib/dev-pki.sh). Never for production.
[ req ]
distinguished_name = req_dn
prompt             = no
string_mask        = utf8only
utf8               = yes
[ req_dn ]
CN = unused

[ root_ca ]
database         = ./root/index.txt
new_certs_dir    = ./root/issued
certificate      = ../network-ca.pem
private_key      = ./root/key.pem
crlnumber        = ./root/crlnumber
default_md       = sha256
default_days     = 1825
default_crl_days = 30
policy           = policy_any
unique_subject   = no
rand_serial      = yes
email_in_dn      = no
copy_extensions  = none
crl_extensions   = crl_ext

[ issuing_ca ]
database         = ./issuing/index.txt
new_certs_dir    = ./issuing/issued
certificate      = ../issuing-ca.pem
private_key      = ./issuing/key.pem
crlnumber        = ./issuing/crlnumber
default_md       = sha256
default_days     = 365
default_crl_days = 30
policy           = policy_any
unique_subject   = no
rand_serial      = yes
email_in_dn      = no
copy_extensions  = none
crl_extensions   = crl_ext

[ policy_any ]
commonName = supplied

[ v3_root ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ v3_issuing ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
}

# devpki_init DIR: creates DIR (if needed) with a fresh root and issuing CA.
# Refuses a DIR that already holds a development PKI.
devpki_init() {
  if [[ $# -ne 1 || -z "$1" ]]; then
    _devpki_err "usage: devpki_init DIR"
    return 2
  fi
  command -v openssl >/dev/null 2>&1 || {
    _devpki_err "openssl not found; run scripts/install-deps"
    return 1
  }
  mkdir -p -- "$1" || return 1
  local dir state
  dir=$(_devpki_abs "$1") || return 1
  state="$dir/.devpki"
  if [[ -e "$state" ]]; then
    _devpki_err "$dir already holds a development PKI"
    return 1
  fi
  mkdir -m 0700 -- "$state" "$state/root" "$state/issuing" "$state/root/issued" "$state/issuing/issued" || return 1
  : >"$state/root/index.txt"
  : >"$state/issuing/index.txt"
  echo 1000 >"$state/root/crlnumber"
  echo 1000 >"$state/issuing/crlnumber"
  _devpki_write_config "$state/openssl.cnf"

  _devpki_run "$state" _devpki_newkey root/key.pem || return 1
  _devpki_run "$state" openssl req -config openssl.cnf -new -x509 -sha256 -days 3650 \
    -key root/key.pem -subj "/CN=HIE Dev Root CA" -extensions v3_root -out ../network-ca.pem || return 1

  _devpki_run "$state" _devpki_newkey issuing/key.pem || return 1
  _devpki_run "$state" openssl req -config openssl.cnf -new -key issuing/key.pem \
    -subj "/CN=HIE Dev Issuing CA" -out issuing/csr.pem || return 1
  _devpki_run "$state" openssl ca -batch -config openssl.cnf -name root_ca -notext \
    -extensions v3_issuing -in issuing/csr.pem -out ../issuing-ca.pem || return 1
  chmod 0644 "$dir/network-ca.pem" "$dir/issuing-ca.pem"
}

# devpki_issue DIR NAME [--san-uri URI]... [--san-dns D]... [--san-ip IP]... [--eku LIST]
# Writes DIR/NAME.crt (leaf then issuing CA) and DIR/NAME.key (0600), replacing
# any earlier NAME (the earlier certificate stays valid until revoked).
devpki_issue() {
  if [[ $# -lt 2 ]]; then
    _devpki_err "usage: devpki_issue DIR NAME [--san-uri URI]... [--san-dns D]... [--san-ip IP]... [--eku clientAuth|serverAuth|clientAuth,serverAuth|none]"
    return 2
  fi
  local dir state name="$2"
  dir=$(_devpki_state "$1") || return 1
  state="$dir/.devpki"
  shift 2
  if [[ ! "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    _devpki_err "certificate name '$name' must be letters, digits, '.', '_' or '-'"
    return 2
  fi
  local eku="clientAuth" sans=() opt value
  while [[ $# -gt 0 ]]; do
    opt="$1"
    if [[ "$opt" == --*=* ]]; then
      value="${opt#*=}"
      opt="${opt%%=*}"
      shift
    elif [[ $# -ge 2 ]]; then
      value="$2"
      shift 2
    else
      _devpki_err "devpki_issue: option $opt needs a value"
      return 2
    fi
    # A comma or newline would inject another name or extension into the config.
    if [[ "$opt" != --eku && (-z "$value" || "$value" =~ [,[:space:][:cntrl:]]) ]]; then
      _devpki_err "devpki_issue: bad value '$value' for $opt"
      return 2
    fi
    case "$opt" in
      --san-uri) sans+=("URI:$value") ;;
      --san-dns) sans+=("DNS:$value") ;;
      --san-ip) sans+=("IP:$value") ;;
      --eku)
        case "$value" in
          clientAuth | serverAuth | none) eku="$value" ;;
          clientAuth,serverAuth | serverAuth,clientAuth) eku="$value" ;;
          *)
            _devpki_err "devpki_issue: --eku must be clientAuth, serverAuth, clientAuth,serverAuth or none"
            return 2
            ;;
        esac
        ;;
      *)
        _devpki_err "devpki_issue: unknown option $opt"
        return 2
        ;;
    esac
  done

  local ext="$state/leaf-$name.ext"
  {
    echo "[ leaf ]"
    echo "basicConstraints       = critical, CA:FALSE"
    echo "keyUsage               = critical, digitalSignature"
    echo "subjectKeyIdentifier   = hash"
    echo "authorityKeyIdentifier = keyid:always"
    [[ "$eku" == none ]] || echo "extendedKeyUsage       = $eku"
    if ((${#sans[@]} > 0)); then
      local IFS=,
      echo "subjectAltName         = ${sans[*]}"
    fi
  } >"$ext"

  _devpki_run "$state" _devpki_newkey "leaf-$name.key" || return 1
  _devpki_run "$state" openssl req -config openssl.cnf -new -key "leaf-$name.key" \
    -subj "/CN=$name" -out "leaf-$name.csr" || return 1
  _devpki_run "$state" openssl ca -batch -config openssl.cnf -name issuing_ca -notext \
    -extfile "leaf-$name.ext" -extensions leaf -in "leaf-$name.csr" -out "leaf-$name.crt" || return 1
  cat "$state/leaf-$name.crt" "$dir/issuing-ca.pem" >"$dir/$name.crt" && chmod 0644 "$dir/$name.crt" || return 1
  mv -f -- "$state/leaf-$name.key" "$dir/$name.key" && chmod 0600 "$dir/$name.key"
}

# devpki_crl DIR [NAME...]: revokes DIR/NAME.crt for each NAME, then writes
# DIR/network.crl with the root's and the issuing CA's current CRLs.
devpki_crl() {
  if [[ $# -lt 1 ]]; then
    _devpki_err "usage: devpki_crl DIR [NAME-to-revoke...]"
    return 2
  fi
  local dir state name serial
  dir=$(_devpki_state "$1") || return 1
  state="$dir/.devpki"
  shift
  for name in "$@"; do
    if [[ ! -f "$dir/$name.crt" ]]; then
      _devpki_err "devpki_crl: no certificate $dir/$name.crt to revoke"
      return 1
    fi
    serial=$(openssl x509 -in "$dir/$name.crt" -noout -serial) || return 1
    serial="${serial#serial=}"
    # Already revoked: nothing to do (openssl ca would fail).
    if awk -F'\t' -v s="$serial" '$1 == "R" && toupper($4) == toupper(s) { found = 1 } END { exit !found }' \
      "$state/issuing/index.txt"; then
      continue
    fi
    _devpki_run "$state" openssl ca -batch -config openssl.cnf -name issuing_ca \
      -revoke "$dir/$name.crt" -crl_reason keyCompromise || return 1
  done
  _devpki_run "$state" openssl ca -batch -config openssl.cnf -name root_ca -gencrl -out root.crl || return 1
  _devpki_run "$state" openssl ca -batch -config openssl.cnf -name issuing_ca -gencrl -out issuing.crl || return 1
  cat "$state/root.crl" "$state/issuing.crl" >"$dir/network.crl.tmp" && chmod 0644 "$dir/network.crl.tmp" &&
    mv -f -- "$dir/network.crl.tmp" "$dir/network.crl"
}
