#!/bin/sh
# /init of tsvs's QEMU test guest (busybox sh), packed by build.sh.
# Settings come from the kernel command line (boot.sh writes them):
#   tsvs.name=NAME  tsvs.ip=A.B.C.D/NN  tsvs.life=SECS (power off after SECS, default 240)
# and the job from everything after " -- ", steps separated by " , ":
#   ping IP [COUNT [INTERVAL]]  wait up to 60 s for IP, then ping: PING-RTT min/avg/max, PING-TIMES t1 t2 ..
#                               (ms, one per reply), PING-OK or PING-FAIL r/n
#   serve                       TCP echo on port 7; a connection to port 9 ends the job (STOPPED)
#   tcpecho IP                  one line through IP's port 7: ECHO-OK or ECHO-FAIL
#   stop IP                     connect to IP's port 9
#   sleep SECS
# Markers start a console line: BOOTED, READY, the ones above, JOB-DONE rc=N; the
# guest then powers off, which ends QEMU (-no-reboot).
export PATH=/bin
mount -t proc p /proc
mount -t sysfs s /sys
mount -t devtmpfs d /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

arg() { sed 's/ -- .*//' /proc/cmdline | tr ' ' '\n' | sed -n "s/^tsvs\.$1=//p"; }
NAME=$(arg name); IP=$(arg ip); LIFE=$(arg life)
echo "BOOTED $NAME"
halt_now() { sync; poweroff -f; }
( sleep "${LIFE:-240}"; echo "LIFE-OVER $NAME"; halt_now ) &

for m in $(cat /etc/modules); do insmod "/modules/$m.ko" || echo "INSMOD-FAILED $m"; done
ip link set lo up
n=0
while [ ! -d /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
ip link set eth0 up && ip addr add "$IP" dev eth0 || echo "NO-NIC $NAME"
echo "READY $NAME ip=$IP mac=$(cat /sys/class/net/eth0/address)"

reachable() {  # reachable IP: one answered ping within 60 s
  t=0
  while [ $t -lt 60 ]; do
    ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
    t=$((t + 1))
  done
  return 1
}

job_ping() {
  reachable "$1" || { echo "PING-FAIL 0/${2:-5} (unreachable)"; return 1; }
  ping -c "${2:-5}" -i "${3:-1}" -W 2 "$1" > /tmp/ping.txt 2>&1
  got=$(sed -n 's/.*, \([0-9]*\) packets received.*/\1/p' /tmp/ping.txt)
  sed -n 's#^round-trip min/avg/max = \([^ ]*\) ms#PING-RTT \1#p' /tmp/ping.txt
  echo "PING-TIMES $(sed -n 's/.* time=\([0-9.]*\) ms/\1/p' /tmp/ping.txt | tr '\n' ' ')"
  if [ "$got" = "${2:-5}" ]; then echo "PING-OK $got/${2:-5}"; return 0; fi
  echo "PING-FAIL ${got:-0}/${2:-5}"
  return 1
}

job_serve() {
  nc -ll -p 7 -e cat &
  nc -l -p 9 > /dev/null
  echo "STOPPED $NAME"
}

job_tcpecho() {
  reachable "$1" || { echo "ECHO-FAIL unreachable"; return 1; }
  line="hello-from-$NAME"
  back=$( (echo "$line"; sleep 1) | timeout 5 nc "$1" 7 | head -n1)
  if [ "$back" = "$line" ]; then echo "ECHO-OK"; return 0; fi
  echo "ECHO-FAIL got '$back'"
  return 1
}

RC=0
JOB=$(sed -n 's/.* -- //p' /proc/cmdline)
set -f
IFS=,
for step in $JOB; do
  IFS=' '
  set -- $step
  cmd=$1
  [ $# -gt 0 ] && shift
  case "$cmd" in
    ping) job_ping "$@" || RC=1 ;;
    serve) job_serve ;;
    tcpecho) job_tcpecho "$@" || RC=1 ;;
    stop) echo bye | timeout 3 nc "$1" 9 ;;
    sleep) sleep "$1" ;;
    '') ;;
    *) echo "UNKNOWN-STEP $cmd"; RC=2 ;;
  esac
  IFS=,
done
echo "JOB-DONE $NAME rc=$RC"
halt_now
