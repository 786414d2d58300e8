#!/usr/bin/env bash
# Build tsvs's tiny QEMU test guest: a Debian cloud kernel and a busybox
# initramfs whose /init is guest-init.sh. Only Debian packages are used, fetched
# with `apt-get download` into a cache (never installed on the host).
#
#   test/guests/build.sh [OUTDIR]        default: <repo>/var/guests
#
# Output: OUTDIR/vmlinuz, OUTDIR/initramfs.gz, OUTDIR/versions.txt; the .debs
# stay in OUTDIR/debs. Re-running with unchanged inputs does nothing.
# TSVS_GUEST_REFRESH=1 asks apt for the newest kernel again.
# Needs apt-get, apt-cache, dpkg-deb, gzip, xz/zstd (for compressed modules).
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$SRC/../../var/guests}"
mkdir -p "$OUT/debs"
OUT="$(cd "$OUT" && pwd)"
DEBS="$OUT/debs"
say() { echo "guests/build: $*" >&2; }

# virtio-net on the PCI bus; dependencies (failover, net_failover...) are found from each module's depends=.
MODULES="virtio_pci virtio_net"

# --- 1. packages --------------------------------------------------------------
have_lists() { apt-cache policy busybox-static 2>/dev/null | grep -q 'Candidate: [0-9]'; }
have_lists || { say "no apt lists yet: apt-get update"; apt-get update -qq >&2; }
chmod 0777 "$DEBS" 2>/dev/null || true   # apt-get download may run as _apt

newest() { ls -1 "$DEBS"/$1 2>/dev/null | sort -V | tail -n1; }
download() {  # download PKG -> path of its .deb in the cache
  local f; f="$(newest "${1}_*.deb")"
  if [[ -z "$f" ]]; then
    (cd "$DEBS" && apt-get download -qq "$1" >&2 2>/dev/null) || { say "apt-get download $1 failed"; exit 1; }
    f="$(newest "${1}_*.deb")"
  fi
  echo "$f"
}

kpkg="$(basename "$(newest 'linux-image-[0-9]*-cloud-amd64_*.deb')" 2>/dev/null || true)"
kpkg="${kpkg%%_*}"
if [[ -z "$kpkg" || "${TSVS_GUEST_REFRESH:-0}" == 1 ]]; then
  kpkg="$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)"
  [[ -n "$kpkg" ]] || { say "apt does not know linux-image-cloud-amd64"; exit 1; }
fi
KDEB="$(download "$kpkg")"
BDEB="$(download busybox-static)"

# --- 2. anything to do? -------------------------------------------------------
stamp="$( (basename "$KDEB"; basename "$BDEB"; echo "$MODULES"; cat "$SRC/guest-init.sh" "${BASH_SOURCE[0]}") | sha256sum | cut -c1-16)"
if [[ -s "$OUT/vmlinuz" && -s "$OUT/initramfs.gz" && "$(cat "$OUT/stamp" 2>/dev/null)" == "$stamp" ]]; then
  say "up to date ($OUT)"
  exit 0
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/tsvs-guest.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/k" "$TMP/b" "$TMP/root"
dpkg-deb -x "$KDEB" "$TMP/k"
dpkg-deb -x "$BDEB" "$TMP/b"
MOD="$(ls -d "$TMP"/k/lib/modules/* | head -n1)"
KVER="$(basename "$MOD")"

# --- 3. modules, dependencies first ---------------------------------------------
unpack_ko() {  # unpack_ko FILE -> plain .ko on stdout (busybox insmod takes no compressed modules)
  case "$1" in
    *.ko.xz) xz -dc "$1" ;; *.ko.zst) zstd -dcq "$1" ;; *.ko.gz) gzip -dc "$1" ;; *) cat "$1" ;;
  esac
}
find_ko() { find "$MOD/kernel" -regextype posix-extended -regex ".*/${1//_/[-_]}\.ko(\.(xz|zst|gz))?" | head -n1; }
builtin() { grep -qE "/${1//_/[-_]}\.ko$" "$MOD/modules.builtin"; }
declare -A DONE=()
LOAD=()
add_module() {
  local m="${1//-/_}" ko deps d
  [[ -n "${DONE[$m]:-}" ]] && return 0
  DONE[$m]=1
  builtin "$m" && return 0
  ko="$(find_ko "$m")"
  [[ -n "$ko" ]] || { say "module $m not in $kpkg"; exit 1; }
  deps="$(unpack_ko "$ko" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1)"
  for d in ${deps//,/ }; do add_module "$d"; done
  mkdir -p "$TMP/root/modules"
  unpack_ko "$ko" > "$TMP/root/modules/$m.ko"
  LOAD+=("$m")
}
for m in $MODULES; do add_module "$m"; done

# --- 4. initramfs -----------------------------------------------------------------
R="$TMP/root"
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/tmp" "$R/etc" "$R/modules"
cp "$TMP/b/bin/busybox" "$R/bin/busybox"
for applet in $("$R/bin/busybox" --list); do [[ "$applet" == busybox ]] || ln -s busybox "$R/bin/$applet"; done
printf '%s\n' "${LOAD[@]}" > "$R/etc/modules"
install -m 0755 "$SRC/guest-init.sh" "$R/init"
echo 'root:x:0:0:root:/:/bin/sh' > "$R/etc/passwd"
(cd "$R" && find . | LC_ALL=C sort | "$R/bin/busybox" cpio -o -H newc 2>/dev/null) | gzip -6n > "$TMP/initramfs.gz"
install -m 0644 "$TMP/k/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
install -m 0644 "$TMP/initramfs.gz" "$OUT/initramfs.gz"
printf 'kernel %s\nbusybox %s\nmodules %s\n' "$(basename "$KDEB")" "$(basename "$BDEB")" "${LOAD[*]}" > "$OUT/versions.txt"
echo "$stamp" > "$OUT/stamp"
say "built $OUT (kernel $KVER, modules: ${LOAD[*]:-none})"
