#!/bin/sh
# Installs vbkpool as a systemd service: the single-file executable built by
# `deno task compile` (dist/vbkpool, checked against dist/vbkpool.sha256), the hardened unit
# (ops/systemd/vbkpool.service) and a production configuration (ops/vbkpool.toml). An existing
# configuration or environment file is kept; the new one is written beside it with ".new".
#
#   sudo ops/install.sh                      # install into /
#   DESTDIR=/tmp/root ops/install.sh         # stage into a folder (packaging, tests)
#   ops/install.sh --prefix /opt/vbkpool --binary path/to/vbkpool
#
# Installs: PREFIX/bin/vbkpool (0755), /etc/systemd/system/vbkpool.service (0644),
# /etc/vbkpool/vbkpool.toml (0644: no secrets, and the service's dynamic user must read it) and
# /etc/vbkpool/vbkpool.env (0600: secrets, read by systemd as root).
# Without DESTDIR and as root it then runs `systemctl daemon-reload`; it never starts or
# enables the service (docs/operations.md says when to).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
DESTDIR=${DESTDIR:-}
prefix=/usr/local
binary=$root/dist/vbkpool
config=$here/vbkpool.toml
unit=$here/systemd/vbkpool.service

usage() {
  echo "usage: [DESTDIR=DIR] $0 [--prefix DIR] [--binary FILE] [--config FILE]" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
  --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
  --binary) [ $# -ge 2 ] || usage; binary=$2; shift 2 ;;
  --config) [ $# -ge 2 ] || usage; config=$2; shift 2 ;;
  -h | --help) usage ;;
  *) echo "install.sh: unknown option $1" >&2; usage ;;
  esac
done

case $prefix in
/*) ;;
*) echo "install.sh: --prefix must be an absolute path, got $prefix" >&2; exit 2 ;;
esac
case $prefix in
*[!A-Za-z0-9/._-]*) echo "install.sh: --prefix may hold only letters, digits and / . _ -" >&2; exit 2 ;;
esac

if [ ! -f "$binary" ]; then
  echo "install.sh: $binary not found: build it first with 'deno task compile'" >&2
  exit 1
fi
if [ -f "$binary.sha256" ]; then
  expected=$(cut -d ' ' -f 1 <"$binary.sha256")
  actual=$(sha256sum <"$binary" | cut -d ' ' -f 1)
  if [ "$expected" != "$actual" ]; then
    echo "install.sh: $binary does not match $binary.sha256" >&2
    exit 1
  fi
fi
for f in "$config" "$unit"; do
  [ -f "$f" ] || { echo "install.sh: $f not found" >&2; exit 1; }
done

# put SRC DEST MODE: copy through a temporary file and rename, so a running copy is never
# half-written.
put() {
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.tmp.$$"
  chmod "$3" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
  echo "installed $2"
}

# keep SRC DEST MODE: like put, but an existing DEST is kept and SRC goes to DEST.new.
keep() {
  if [ -e "$2" ]; then
    put "$1" "$2.new" "$3"
    echo "kept $2 (compare it with $2.new)"
  else
    put "$1" "$2" "$3"
  fi
}

put "$binary" "$DESTDIR$prefix/bin/vbkpool" 0755
tmp_unit=$(mktemp)
trap 'rm -f "$tmp_unit"' EXIT
sed "s|/usr/local/bin/vbkpool|$prefix/bin/vbkpool|g" "$unit" >"$tmp_unit"
put "$tmp_unit" "$DESTDIR/etc/systemd/system/vbkpool.service" 0644
keep "$config" "$DESTDIR/etc/vbkpool/vbkpool.toml" 0644
env_template=$(mktemp)
trap 'rm -f "$tmp_unit" "$env_template"' EXIT
cat >"$env_template" <<'ENV'
# Secrets for vbkpool (read by systemd as root; keep mode 0600). One VAR=value per line.
# VBKPOOL_ALERTS_SECRET=change-me
# VBKPOOL_NODECORE_PASSWORD=
# VBKPOOL_WALLET_PASSWORD=
# VBKPOOL_STORE_URL=postgres://vbkpool:password@127.0.0.1:5432/vbkpool
ENV
keep "$env_template" "$DESTDIR/etc/vbkpool/vbkpool.env" 0600

if [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || echo "install.sh: systemctl daemon-reload failed (no systemd running?)" >&2
fi
cat <<NEXT
Next: set [nodecore] endpoints and address in /etc/vbkpool/vbkpool.toml, secrets in
/etc/vbkpool/vbkpool.env, then: systemctl enable --now vbkpool; journalctl -u vbkpool -f
NEXT
