#!/bin/sh
# vbkpool @VBKPOOL_VERSION@: one executable file for Linux x86-64 (glibc), built by
# `deno task compile` from _tools/launcher.sh (README.md, "Single-file executable").
#
# This POSIX sh header is followed by its payload: a gzip-compressed tar of Deno @DENO_VERSION@
# (the binary of the npm package @deno/linux-x64-glibc) and the bundled program vbkpool.js
# (`deno bundle`). The first run of a build checks the payload's SHA-256, unpacks it into a
# fresh folder of a cache and links it into place (one atomic symlink, so concurrent first runs
# and interrupted ones never leave a half-unpacked copy in use). Every run checks this file's
# size and the unpacked copy, then execs Deno on the program, offline; signals, exit status,
# standard input/output/error and the terminal are the program's own from then on.
# Exit status 126 is the launcher's own failure (damaged file, nowhere to unpack).
#
# Cache: $VBKPOOL_CACHE_DIR when set (and nothing else); otherwise the first of
# ${XDG_CACHE_HOME:-$HOME/.cache}/vbkpool, .vbkpool-cache beside this file (where only this user
# or root can write) and ${TMPDIR:-/tmp}/vbkpool-cache-UID (private) that already holds this
# build, else the first one where it can be unpacked. Needs only sh, coreutils, gzip, tar and
# findutils.
set -u

VERSION='@VBKPOOL_VERSION@'
DENO_VERSION='@DENO_VERSION@'
PAYLOAD_SHA256='@PAYLOAD_SHA256@'
PAYLOAD_SIZE=@PAYLOAD_SIZE@
FILE_SIZE=@FILE_SIZE@
DENO_SIZE=@DENO_SIZE@
PROGRAM_SIZE=@PROGRAM_SIZE@
# One cache entry per build: the version and the start of the payload's hash.
KEY=$VERSION-@PAYLOAD_ID@

self=$0

fail() {
  printf 'vbkpool: %s\n' "$1" >&2
  exit 126
}

# is_unpacked DIR: true when DIR (a folder or a link to one) holds this build, complete.
is_unpacked() {
  [ -x "$1/deno" ] && [ -f "$1/vbkpool.js" ] && [ -f "$1/ok" ] || return 1
  read -r stamp <"$1/ok" || return 1
  [ "$stamp" = "$PAYLOAD_SHA256" ] &&
    [ "$(($(wc -c <"$1/deno")))" = "$DENO_SIZE" ] &&
    [ "$(($(wc -c <"$1/vbkpool.js")))" = "$PROGRAM_SIZE" ]
}

# trusted PATH...: true when every PATH exists, is owned by this user or root and is writable
# by no one else (so nobody else can have put a copy there, nor can swap one in).
trusted() {
  bad=$(find -H "$@" -maxdepth 0 \( \( ! -uid 0 ! -uid "$uid" \) -o -perm -020 -o -perm -002 \) \
    -print 2>/dev/null) && [ -z "$bad" ]
}

# verify: stop unless the payload's SHA-256 is the one this header was built with.
verified=
verify() {
  [ -n "$verified" ] && return 0
  command -v sha256sum >/dev/null 2>&1 ||
    fail "cannot check this executable before unpacking it: sha256sum (GNU coreutils) is missing"
  sum=$(tail -c "$PAYLOAD_SIZE" -- "$self" | sha256sum) || fail "cannot read $self"
  sum=${sum%% *}
  [ "$sum" = "$PAYLOAD_SHA256" ] || fail "this executable is damaged: the SHA-256 of its \
payload is $sum, expected $PAYLOAD_SHA256. Download it again and check it against vbkpool.sha256."
  verified=1
}

# unpack_into BASE: unpack the payload into a new folder of BASE and link BASE/KEY to it (or
# to the copy of a concurrent first run that got there first). Sets entry; false when BASE
# cannot take it (with a warning when it got as far as unpacking).
unpack_into() {
  base=$1
  why=
  (umask 022 && mkdir -p -- "$base") 2>/dev/null && [ -w "$base" ] || return 1
  verify
  tmp=$(mktemp -d "$base/.$KEY.XXXXXX" 2>/dev/null) || return 1
  trap 'rm -rf -- "$tmp"; exit 130' INT
  trap 'rm -rf -- "$tmp"; exit 143' TERM
  trap 'rm -rf -- "$tmp"; exit 129' HUP
  printf 'vbkpool: unpacking vbkpool %s (Deno %s) into %s (once per build)\n' \
    "$VERSION" "$DENO_VERSION" "$base" >&2
  if ! (umask 022 && tail -c "$PAYLOAD_SIZE" -- "$self" | gzip -dc | tar -xmf - -C "$tmp"); then
    rm -rf -- "$tmp"
    trap - INT TERM HUP
    printf 'vbkpool: could not unpack into %s\n' "$base" >&2
    return 1
  fi
  printf '%s\n' "$PAYLOAD_SHA256" >"$tmp/ok" && chmod 755 "$tmp"
  if ! is_unpacked "$tmp" || ! why=$("$tmp/deno" --version 2>&1 >/dev/null); then
    rm -rf -- "$tmp"
    trap - INT TERM HUP
    printf 'vbkpool: Deno cannot run from %s: %s\n' "$base" "${why:-incomplete copy}" >&2
    return 1
  fi
  name=${tmp##*/}
  # -n: an existing link to a folder is a name that is taken, not a folder to link into.
  if ln -sn -- "$name" "$base/$KEY" 2>/dev/null; then
    :
  elif is_unpacked "$base/$KEY"; then
    # A concurrent first run linked its copy first: use that one.
    rm -rf -- "$tmp"
  else
    # A damaged copy is in place (files deleted by a cleaner, say): replace the link atomically,
    # then delete the old copy if it is still damaged (a concurrent run may have replaced it).
    old=$(readlink -- "$base/$KEY" 2>/dev/null) || old=
    if [ -d "$base/$KEY" ] && [ ! -L "$base/$KEY" ]; then rm -rf -- "${base:?}/$KEY"; fi
    if ! { ln -s -- "$name" "$tmp.link" && mv -fT -- "$tmp.link" "$base/$KEY"; }; then
      rm -rf -- "$tmp" "$tmp.link"
      trap - INT TERM HUP
      return 1
    fi
    case $old in
    ".$KEY".*) is_unpacked "$base/$old" || rm -rf -- "${base:?}/$old" ;;
    esac
  fi
  trap - INT TERM HUP
  # Copies left by first runs that were killed while unpacking (never linked, never used).
  current=$(readlink -- "$base/$KEY" 2>/dev/null) || current=
  find "$base" -maxdepth 1 -name ".$KEY.*" ! -name "$current" -mmin +30 \
    -exec rm -rf -- {} + 2>/dev/null
  entry=$base/$KEY
}

if [ ! -f "$self" ] || [ ! -r "$self" ]; then fail "cannot read this executable ($self)"; fi
size=$(($(wc -c <"$self")))
[ "$size" = "$FILE_SIZE" ] || fail "this executable is damaged: it is $size bytes long, \
expected $FILE_SIZE (an incomplete download?). Download it again and check it against \
vbkpool.sha256."

entry=
if [ -n "${VBKPOOL_CACHE_DIR:-}" ]; then
  if is_unpacked "$VBKPOOL_CACHE_DIR/$KEY"; then
    entry=$VBKPOOL_CACHE_DIR/$KEY
  elif ! unpack_into "$VBKPOOL_CACHE_DIR"; then
    fail "cannot unpack into VBKPOOL_CACHE_DIR=$VBKPOOL_CACHE_DIR (not a writable folder?)"
  fi
else
  user_cache=
  case ${XDG_CACHE_HOME:-} in
  /*) user_cache=$XDG_CACHE_HOME/vbkpool ;;
  *) case ${HOME:-} in /?*) user_cache=$HOME/.cache/vbkpool ;; esac ;;
  esac
  if [ -n "$user_cache" ] && is_unpacked "$user_cache/$KEY"; then
    entry=$user_cache/$KEY
  else
    # Beside the executable only where nobody else can write (an install folder, not /tmp).
    here=$(readlink -f -- "$self" 2>/dev/null) || here=$self
    case $here in */*) here=${here%/*} ;; *) here=. ;; esac
    beside=$here/.vbkpool-cache
    uid=$(id -u)
    shared=${TMPDIR:-/tmp}/vbkpool-cache-$uid
    if is_unpacked "$beside/$KEY" && trusted "$here" "$beside"; then
      entry=$beside/$KEY
    elif is_unpacked "$shared/$KEY" && [ -O "$shared" ] && trusted "$shared"; then
      entry=$shared/$KEY
    elif [ -n "$user_cache" ] && unpack_into "$user_cache"; then
      :
    elif trusted "$here" && { [ ! -e "$beside" ] || trusted "$beside"; } &&
      unpack_into "$beside"; then
      :
    else
      # A folder of our own in a shared temporary folder: private, and refused when another
      # user made it first.
      (umask 077 && mkdir -p -- "$shared") 2>/dev/null
      if ! { [ -d "$shared" ] && [ -O "$shared" ] && [ ! -L "$shared" ] &&
        chmod 700 "$shared" && unpack_into "$shared"; }; then
        fail "found no folder to unpack into (tried ${user_cache:-no XDG_CACHE_HOME or HOME}, \
$beside and $shared); set VBKPOOL_CACHE_DIR to a writable folder"
      fi
    fi
  fi
fi

# Deno stops when HOME is not a folder (HOME=/dev/null, as some services have): it reads
# $HOME/.npmrc and tolerates only "no such file". Such a HOME holds nothing: run with it empty.
if [ -n "${HOME:-}" ] && [ ! -d "$HOME" ]; then
  up=$HOME
  while [ -n "$up" ] && [ ! -e "$up" ]; do
    case $up in */*) up=${up%/*} ;; *) up= ;; esac
  done
  [ -z "$up" ] || [ -d "$up" ] || HOME=
fi

dir=$(cd -P -- "$entry" && pwd -P) || fail "cannot enter $entry"
DENO_DIR=$dir/deno_dir
DENO_NO_UPDATE_CHECK=1
DENO_NO_PACKAGE_JSON=1
# V8 runs with its defaults: --heap-growing-percent=50 held RSS peaks lower but cost the share
# path under load (bench/RESULTS.md, "V8 settings, again"). An operator's DENO_V8_FLAGS (e.g. in
# the service's environment file) reach Deno as they are.
export DENO_DIR DENO_NO_UPDATE_CHECK DENO_NO_PACKAGE_JSON
exec "$dir/deno" run -A --unstable-net --cached-only --no-config --no-lock --no-npm --no-remote \
  "$dir/vbkpool.js" "$@"
exit 126
