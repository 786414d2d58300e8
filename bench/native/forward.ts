// A plain two-port forwarder over the tsvs_io addon: every batch received on
// one port is sent out of the other, no lookup. The baseline the datapath is
// measured against (bench/native/fwd-bench.sh).
//   node dist/bench/native/forward.js [--tap] [--mmsg] [--batch N] [--budget N] PORT_A PORT_B
// Runs until SIGTERM/SIGINT, then prints one JSON line with both ports' counters.
import { openPacketSocket, openTap, type NativePort } from '../../datapath/native/index.js';

function main(argv: string[]): void {
  let tap = false;
  let ring = true;
  let batchSize = 64;
  let wakeBudget = 256;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tap') tap = true;
    else if (a === '--mmsg') ring = false;
    else if (a === '--batch') batchSize = Number(argv[++i]);
    else if (a === '--budget') wakeBudget = Number(argv[++i]);
    else names.push(a);
  }
  if (names.length !== 2) {
    console.error('usage: forward [--tap] [--mmsg] [--batch N] [--budget N] PORT_A PORT_B');
    process.exit(2);
  }
  const open = (n: string): NativePort =>
    tap ? openTap(n, { batchSize, wakeBudget }) : openPacketSocket(n, { ring, batchSize, wakeBudget });
  const a = open(names[0]);
  const b = open(names[1]);
  a.start((batch) => b.sendBatch(batch));
  b.start((batch) => a.sendBatch(batch));
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const done = (): void => {
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    const out = { mode: 'forward', tap, ring, batchSize, wakeBudget, secs, cpuPct: (cpu.user + cpu.system) / 1e4 / secs, userSecs: cpu.user / 1e6, systemSecs: cpu.system / 1e6, a: a.stats, b: b.stats };
    a.close();
    b.close();
    console.log(JSON.stringify(out));
    process.exit(0);
  };
  process.on('SIGTERM', done);
  process.on('SIGINT', done);
  console.error(`forward: ${a.name} <-> ${b.name} (${tap ? 'tap' : ring ? 'ring' : 'mmsg'}, batch ${batchSize})`);
}

main(process.argv.slice(2));
