// What idling costs a frame through tsvs: one Datapath with two `stream` ports
// and two fake QEMU connections in this process; A's connection sends one
// ICMP-sized frame, B's receives it, and the next frame follows after a gap.
// Prints, per gap, the time from the port's socket read to the datapath and to
// the socket write (the JavaScript path), and the one-way time seen by the
// fake QEMUs (two event-loop wake-ups). No root, no QEMU.
//
//   npx vite-node test/interop/tools/stream-idle.ts
//
// The same warm JIT code runs at every gap; only the idle time before each
// frame differs (docs/qemu.md, Latency, has the figures of this machine).
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { Datapath } from '../../../datapath/dpif.js';
import { StreamPort } from '../../../datapath/ports/stream.js';
import { learningSwitch } from '../../helpers/learning-switch.js';

const dir = mkdtempSync('/tmp/tsvs-idle-');
const toDatapath: number[] = [];
const toWrite: number[] = [];
let t0 = 0n;
const us = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1000;
type Hooked = Record<string, (...a: unknown[]) => void>;
const sp = StreamPort.prototype as unknown as Hooked;
const dpp = Datapath.prototype as unknown as Hooked;
const [onData, receive, write] = [sp.onData, dpp.receive, sp.write];
sp.onData = function (this: unknown, ...a: unknown[]): void {
  t0 = process.hrtime.bigint();
  onData.apply(this, a);
};
dpp.receive = function (this: unknown, ...a: unknown[]): void {
  toDatapath.push(us(t0));
  receive.apply(this, a);
};
sp.write = function (this: unknown, ...a: unknown[]): void {
  toWrite.push(us(t0));
  write.apply(this, a);
};

function frame(src: number, dst: number): Buffer {
  const f = Buffer.alloc(4 + 98);
  f.writeUInt32BE(98, 0);
  Buffer.from([0x52, 0x54, 0, 0x0a, 0, dst, 0x52, 0x54, 0, 0x0a, 0, src, 0x08, 0x00, 0x45]).copy(f, 4);
  return f;
}

function q(x: number[]): string {
  const s = x.slice(10).sort((p, r) => p - r);
  const at = (f: number): string => s[Math.floor(s.length * f)].toFixed(1);
  return `median ${at(0.5)} (p10 ${at(0.1)}, p90 ${at(0.9)})`;
}

async function main(): Promise<void> {
  const dp = new Datapath({ name: 'idle' });
  dp.setUpcallHandler(learningSwitch(dp));
  const a = new StreamPort('a', { path: join(dir, 'a'), log: () => undefined });
  const b = new StreamPort('b', { path: join(dir, 'b'), log: () => undefined });
  await dp.addPort(a);
  await dp.addPort(b);
  await dp.start();
  const [ca, cb] = await Promise.all([a.path, b.path].map((p) => new Promise<net.Socket>((r) => { const c = net.createConnection(p, () => r(c)); })));
  ca.on('data', () => undefined);
  cb.write(frame(2, 1)); // B's MAC is learned: A's frames go to B only
  let onB = (): void => undefined;
  cb.on('data', () => onB());
  console.log(`stream-idle ${new Date().toISOString()}: one frame A -> B per gap, times in us`);
  // Warm up at 1 ms first, so that every later row runs optimized code.
  for (const [gap, n] of [[1, 3000], [0, 300], [1, 300], [5, 200], [20, 100], [200, 30]] as const) {
    toDatapath.length = 0;
    toWrite.length = 0;
    const oneWay: number[] = [];
    let sent = 0n;
    const send = (): void => {
      sent = process.hrtime.bigint();
      ca.write(frame(1, 2));
    };
    await new Promise<void>((done) => {
      onB = (): void => {
        oneWay.push(us(sent));
        if (oneWay.length >= n) done();
        else if (gap > 0) setTimeout(send, gap);
        else setImmediate(send);
      };
      setTimeout(send, 50);
    });
    console.log(`  gap ${String(gap).padStart(3)} ms: read->datapath ${q(toDatapath)}; read->write ${q(toWrite)}; one-way ${q(oneWay)}`);
  }
  ca.destroy();
  cb.destroy();
  await dp.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
