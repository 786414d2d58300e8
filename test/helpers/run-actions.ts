// Test harness: put a frame in a batch, extract its key, run an action list,
// capture what the context saw.
import { compileActions } from '../../datapath/actions/compile.js';
import { ActionStats, executeActions, type ActionContext } from '../../datapath/actions/execute.js';
import type { DpAction } from '../../datapath/actions/types.js';
import { extractFlow } from '../../datapath/flow/extract.js';
import { KEY_WORDS, newKey, newLayout } from '../../datapath/flow/key.js';
import { PacketBatch } from '../../datapath/packet-batch.js';

export interface Sent {
  port: number;
  bytes: Buffer;
}

export interface RunResult {
  ok: boolean;
  frame: Buffer;
  key: Uint32Array;
  layout: Int32Array;
  before: Uint32Array;
  outputs: Sent[];
  upcalls: { inPort: number; bytes: Buffer; cookie: Uint8Array | null; pid: number; key: Uint32Array }[];
  stats: ActionStats;
}

export function runActions(frame: number[] | Uint8Array, actions: DpAction[], randoms: number[] = [], headroom = true, extra: Pick<ActionContext, 'meter'> = {}): RunResult {
  const batch = new PacketBatch(2);
  batch.push(Uint8Array.from(frame));
  if (!headroom) {
    // Place the frame at the very start of its slot: no room in front.
    batch.buf.copy(batch.buf, 0, batch.off[0], batch.off[0] + batch.len[0]);
    batch.off[0] = 0;
  }
  const key = newKey();
  const layout = newLayout();
  extractFlow(batch.buf, batch.off[0], batch.len[0], 1, key, layout);
  const before = key.slice();
  const outputs: Sent[] = [];
  const upcalls: RunResult['upcalls'] = [];
  let r = 0;
  const ctx: ActionContext = {
    output(port, buf, off, len) {
      outputs.push({ port, bytes: Buffer.from(buf.subarray(off, off + len)) });
    },
    userspace(inPort, buf, off, len, cookie, k, pid) {
      upcalls.push({ inPort, bytes: Buffer.from(buf.subarray(off, off + len)), cookie, pid, key: k.slice() });
    },
    random: () => (r < randoms.length ? randoms[r++] : 0),
    stats: new ActionStats(),
    ...extra,
  };
  const ok = executeActions(batch, 0, key, layout, compileActions(actions), ctx);
  return { ok, frame: Buffer.from(batch.frame(0)), key, layout, before, outputs, upcalls, stats: ctx.stats };
}

/** Fresh extraction of `frame` (in_port 1), for comparing with the executor's updated key. */
export function extractFresh(frame: Uint8Array): { key: Uint32Array; layout: Int32Array } {
  const key = newKey();
  const layout = newLayout();
  extractFlow(frame, 0, frame.length, 1, key, layout);
  return { key, layout };
}

/** A key-layout value array with the given words set. */
export function words(set: Record<number, number>): Uint32Array {
  const k = new Uint32Array(KEY_WORDS);
  for (const [w, v] of Object.entries(set)) k[Number(w)] = v;
  return k;
}
