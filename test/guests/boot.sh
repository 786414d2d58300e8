#!/usr/bin/env bash
# Boot one tsvs test guest (built by build.sh) under QEMU with one virtio-net NIC.
#
#   test/guests/boot.sh --net SPEC [--name N] [--ip A.B.C.D/NN] [--mac MAC] [--log FILE]
#                       [--life SECS] [--netns NS] [--dir DIR] [--stream-opts OPTS] [--dry-run] -- JOB
#
# --net stream:PATH          QEMU connects to PATH, where a tsvs `stream` port listens
#                            (QEMU 7.2 tries once: start the port first)
# --stream-opts OPTS         appended to a stream netdev, e.g. ,reconnect=1 (QEMU 8.0+) or
#                            ,reconnect-ms=1000 (9.2+); QEMU 7.2 has neither
# --net stream-listen:PATH   QEMU listens on PATH; a tsvs `stream` port with options:role=client connects
# --net udp:LPORT:RPORT      QEMU binds 127.0.0.1:LPORT and sends to 127.0.0.1:RPORT, a tsvs `dgram`
#                            port with options:local=127.0.0.1:RPORT options:remote=127.0.0.1:LPORT
# --net tap:IFNAME           an existing TAP device (e.g. on a Linux bridge, for comparisons)
# JOB: steps of guest-init.sh separated by ',' e.g.  -- ping 10.0.0.2 10 0.2 , tcpecho 10.0.0.2
# The serial console goes to --log FILE (default: stdout). QEMU replaces this script (exec), so
# the PID of `boot.sh ... &` is QEMU's; kill that PID to stop the guest.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="$HERE/../../var/guests" NET="" NAME=guest IP=10.0.0.1/24 MAC=52:54:00:12:34:56 LOG="" LIFE=240 NETNS="" DRY=0 STREAM_OPTS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --net) NET="$2"; shift 2 ;;
    --name) NAME="$2"; shift 2 ;;
    --ip) IP="$2"; shift 2 ;;
    --mac) MAC="$2"; shift 2 ;;
    --log) LOG="$2"; shift 2 ;;
    --life) LIFE="$2"; shift 2 ;;
    --netns) NETNS="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    --stream-opts) STREAM_OPTS="$2"; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    --) shift; break ;;
    *) echo "boot.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
JOB="${*:-sleep 3600}"
[[ -s "$DIR/vmlinuz" && -s "$DIR/initramfs.gz" ]] || { echo "boot.sh: no guest in $DIR (run test/guests/build.sh)" >&2; exit 2; }

case "$NET" in
  stream:*)        NETDEV="stream,id=net0,server=off,addr.type=unix,addr.path=${NET#stream:}$STREAM_OPTS" ;;
  stream-listen:*) P="${NET#stream-listen:}"; [[ -S "$P" ]] && rm -f "$P"   # a stale file makes QEMU's listen fail
                   NETDEV="stream,id=net0,server=on,addr.type=unix,addr.path=$P$STREAM_OPTS" ;;
  udp:*)           IFS=: read -r _ LP RP <<< "$NET"
                   NETDEV="dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=$LP,remote.type=inet,remote.host=127.0.0.1,remote.port=$RP" ;;
  tap:*)           NETDEV="tap,id=net0,ifname=${NET#tap:},script=no,downscript=no" ;;
  *) echo "boot.sh: --net stream:PATH | stream-listen:PATH | udp:LPORT:RPORT | tap:IFNAME" >&2; exit 2 ;;
esac

SERIAL=stdio; [[ -n "$LOG" ]] && SERIAL="file:$LOG"   # stdio works on pipes and sockets (file:/dev/stdout does not on sockets)
[[ -n "$LOG" ]] && : > "$LOG"
FIRMWARE=(); [[ -f /usr/share/qemu/qboot.rom ]] && FIRMWARE=(-bios /usr/share/qemu/qboot.rom)  # boots faster than SeaBIOS
ARGV=(qemu-system-x86_64 "${FIRMWARE[@]}" -accel tcg -M pc -cpu qemu64 -smp 1 -m 128M
  -nodefaults -no-user-config -nographic -no-reboot -monitor none -serial "$SERIAL"
  -kernel "$DIR/vmlinuz" -initrd "$DIR/initramfs.gz"
  -append "console=ttyS0 quiet panic=-1 ipv6.disable=1 tsvs.name=$NAME tsvs.ip=$IP tsvs.life=$LIFE -- $JOB"
  -netdev "$NETDEV" -device "virtio-net-pci,netdev=net0,mac=$MAC,romfile=")
[[ -n "$NETNS" ]] && ARGV=(ip netns exec "$NETNS" "${ARGV[@]}")
if [[ $DRY == 1 ]]; then printf '%q ' "${ARGV[@]}"; echo; exit 0; fi
exec "${ARGV[@]}"
