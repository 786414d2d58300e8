// Action executor micro-benchmark: ns per frame for typical action lists over a
// full batch, and heap growth across the run (the executor must not allocate).
// Run: npx tsc -p . --outDir /tmp/tsvs-bench && node --expose-gc /tmp/tsvs-bench/bench/actions.js

import { compileActions } from '../datapath/actions/compile.js';
import { ActionStats, executeActions, type ActionContext } from '../datapath/actions/execute.js';
import { parseActions } from '../datapath/actions/odp-actions.js';
import { extractFlow } from '../datapath/flow/extract.js';
import { newKey, newLayout } from '../datapath/flow/key.js';
import { BATCH_MAX, PacketBatch } from '../datapath/packet-batch.js';

// A 64-byte IPv4/TCP frame (checksums need not be valid for timing).
const FRAME = Buffer.from(
  '020000000002020000000001080045000032123440004006000a0a0000010a00000204d20050000000010000000050020000000000000102030405060708090a',
  'hex',
);

const LISTS = [
  '1',
  'set(eth(src=02:00:00:00:00:09,dst=02:00:00:00:00:08)),1',
  'set(ipv4(src=192.168.0.1,ttl=63)),set(tcp(dst=8080)),1',
  'push_vlan(vid=10,pcp=0),1,pop_vlan,2',
  'clone(set(ipv4(dst=1.2.3.4)),1),2',
  'sample(sample=50.0%,actions(1)),trunc(60),2',
  'push_mpls(label=1000000,tc=0,ttl=64,bos=1,eth_type=0x8847),1,pop_mpls(eth_type=0x800),2',
  'set(ipv4(src=10.0.0.0/255.0.0.0,tos=0x20/0xfc)),set(tcp(src=1/0xff00)),1',
];

let sink = 0;
const ctx: ActionContext = {
  output(_port, _buf, _off, len) {
    sink += len;
  },
  userspace() {
    sink++;
  },
  random: () => Math.imul(sink, 0x9e3779b1),
  stats: new ActionStats(),
};

const batch = new PacketBatch(BATCH_MAX);
const keys = Array.from({ length: BATCH_MAX }, newKey);
const layouts = Array.from({ length: BATCH_MAX }, newLayout);
for (let i = 0; i < BATCH_MAX; i++) batch.push(FRAME);
const bases = Int32Array.from(batch.off);
const gc = (globalThis as { gc?: () => void }).gc;

for (const text of LISTS) {
  const program = compileActions(parseActions(text));
  const rounds = Number(process.env.ROUNDS ?? 20000);
  const runRound = () => {
    // Refill in place (PacketBatch.push() makes a subarray view per frame).
    for (let i = 0; i < BATCH_MAX; i++) {
      FRAME.copy(batch.buf, bases[i]);
      batch.off[i] = bases[i];
      batch.len[i] = FRAME.length;
    }
    for (let i = 0; i < BATCH_MAX; i++) {
      extractFlow(batch.buf, batch.off[i], batch.len[i], 1, keys[i], layouts[i]);
      executeActions(batch, i, keys[i], layouts[i], program, ctx);
    }
  };
  for (let r = 0; r < 2000; r++) runRound();
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) runRound();
  const ns = Number(process.hrtime.bigint() - t0) / (rounds * BATCH_MAX);
  const heapKb = (process.memoryUsage().heapUsed - heap0) / 1024;
  console.log(`${text.padEnd(58)} ${ns.toFixed(1).padStart(7)} ns/frame (copy+extract+execute)  heap ${heapKb >= 0 ? '+' : ''}${heapKb.toFixed(0)} KiB`);
}
if (sink === -1) console.log(sink);
