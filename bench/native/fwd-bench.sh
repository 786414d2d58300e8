#!/usr/bin/env bash
# Forwarding rate of a switch between two veth pairs, 64-byte frames:
#   ns A [A0] --veth-- [A1] SWITCH [B1] --veth-- [B0] ns B   (SWITCH, A1, B1 in ns S)
# tsvs-blast tx in A (CPU 0) -> switch (CPU 1) -> tsvs-blast rx in B (CPU 1).
#   sudo bench/native/fwd-bench.sh [-r ROUNDS] [-t SECS] [TEST...]
# TESTs: veth (A0 -> A1 directly: generator ceiling), js (forward.js, TPACKET_V3
# ring), js-mmsg (forward.js, recvmmsg), c (pktblast fwd -m ring, if PKTBLAST
# points at a built pktblast), js-tap (forward.js --tap between two TAPs it
# creates in ns S: tx -> TAP ta ==fd== forward ==fd== TAP tb -> rx). Prints one JSON line per measurement.
# Needs `npm install` (addon, tsvs-blast) and `npx tsc -p .` (dist/).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=1 SECS=5
while getopts "r:t:" o; do
  case $o in r) ROUNDS=$OPTARG ;; t) SECS=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
TESTS=("${@:-js}")
BLAST=$PWD/build/Release/tsvs-blast
FWD=$PWD/dist/bench/native/forward.js
T=tsn$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-5)
NA=${T}A NB=${T}B NS=${T}S
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for n in $NA $NB $NS; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

for n in $NA $NB $NS; do ip netns add "$n"; done
ip link add ${T}a0 netns $NA type veth peer name ${T}a1 netns $NS
ip link add ${T}b0 netns $NB type veth peer name ${T}b1 netns $NS
for pair in "$NA ${T}a0" "$NS ${T}a1" "$NS ${T}b1" "$NB ${T}b0"; do
  set -- $pair
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$1" link set "$2" up
done

# Busy CPU (% of one CPU, all CPUs summed) over the next second, from /proc/stat.
busy_pct() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( 100 * (total - idle) * $(nproc) / (total > 0 ? total : 1) ))
}

# The machine is shared: wait (at most QUIET_MAX_SECS, default 30) until others
# use less than QUIET_PCT (default 25) % of one CPU, like perf/run.sh does.
QUIET_PCT=${QUIET_PCT:-25} QUIET_MAX_SECS=${QUIET_MAX_SECS:-30}
wait_quiet() {
  local waited=0 b
  while b=$(busy_pct); ((b >= QUIET_PCT && waited < QUIET_MAX_SECS)); do waited=$((waited + 1)); done
  echo "\"quietWaitSecs\":$waited,\"busyPctBefore\":$b"
}

measure() { # $1 = test name
  local name=$1 rxif=${T}b0 rxns=$NB swpid=
  local rxout; rxout=$(mktemp /tmp/${T}.rx.XXXX)
  local swout; swout=$(mktemp /tmp/${T}.sw.XXXX)
  local txif=${T}a0 txns=$NA
  [[ $name == veth ]] && { rxif=${T}a1; rxns=$NS; }
  local quiet; quiet=$(wait_quiet)
  if [[ $name == js-tap ]]; then # the forwarder creates the TAPs, so it starts first
    txif=${T}ta txns=$NS rxif=${T}tb rxns=$NS
    ip netns exec $NS taskset -c 1 node "$FWD" --tap $txif $rxif >"$swout" 2>/dev/null & swpid=$!
    sleep 1
  fi
  ip netns exec $rxns taskset -c 1 "$BLAST" rx -i $rxif -t $((SECS + 5)) -w 1 >"$rxout" 2>/dev/null &
  local rxpid=$!; PIDS+=($rxpid)
  case $name in
    js) ip netns exec $NS taskset -c 1 node "$FWD" ${T}a1 ${T}b1 >"$swout" 2>/dev/null & swpid=$! ;;
    js-mmsg) ip netns exec $NS taskset -c 1 node "$FWD" --mmsg ${T}a1 ${T}b1 >"$swout" 2>/dev/null & swpid=$! ;;
    c) ip netns exec $NS taskset -c 1 "${PKTBLAST:?set PKTBLAST}" fwd -m ring -i ${T}a1 -o ${T}b1 -t 1000 -q >"$swout" 2>/dev/null & swpid=$! ;;
    veth | js-tap) ;;
    *) echo "unknown test $name" >&2; return 1 ;;
  esac
  [[ -n $swpid ]] && PIDS+=($swpid)
  sleep 1.5
  local tx; tx=$(ip netns exec $txns taskset -c 0 "$BLAST" tx -i $txif -t "$SECS")
  wait $rxpid || true
  local sw='null'
  if [[ -n $swpid ]]; then
    kill -TERM $swpid 2>/dev/null || true
    wait $swpid 2>/dev/null || true
    sw=$(tail -1 "$swout" | grep '^{' || echo '"'"$(tail -1 "$swout")"'"')
  fi
  echo "{\"test\":\"$name\",$quiet,\"tx\":$tx,\"rx\":$(cat "$rxout"),\"switch\":$sw}"
  rm -f "$rxout" "$swout"
}

for ((r = 1; r <= ROUNDS; r++)); do
  for t in "${TESTS[@]}"; do measure "$t"; done
done
