// Executor state under stress: a ctx.output that re-enters the executor (as a
// patch port delivering synchronously would), frames at unaligned offsets
// (the scratch copy's word path), nesting up to the limit.
import { describe, expect, it } from 'vitest';
import { MAX_NESTING, compileActions } from '../../../../datapath/actions/compile.js';
import { ActionStats, executeActions, type ActionContext } from '../../../../datapath/actions/execute.js';
import { parseActions } from '../../../../datapath/actions/odp-actions.js';
import type { DpAction } from '../../../../datapath/actions/types.js';
import { extractFlow } from '../../../../datapath/flow/extract.js';
import { newKey, newLayout } from '../../../../datapath/flow/key.js';
import { HEADROOM, PacketBatch, SLOT_BYTES } from '../../../../datapath/packet-batch.js';
import { MAC_A, MAC_B, eth, ipv4, tcp } from '../../../helpers/frames.js';

const P = { v6: false, src: '10.0.0.1', dst: '10.0.0.2' };
const FRAME = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(P, 1, 2, [1, 2, 3, 4, 5, 6, 7])));

function load(batch: PacketBatch, i: number, frame: number[], shift = 0) {
  const off = i * SLOT_BYTES + HEADROOM + shift;
  batch.buf.set(frame, off);
  batch.off[i] = off;
  batch.len[i] = frame.length;
  if (batch.count <= i) batch.count = i + 1;
  const key = newKey();
  const layout = newLayout();
  extractFlow(batch.buf, off, frame.length, 1, key, layout);
  return { key, layout };
}

describe('executor robustness', () => {
  it('clone copies frames at every alignment exactly', () => {
    const program = compileActions(parseActions('clone(set(tcp(dst=9)),1),2'));
    for (let shift = -3; shift <= 3; shift++) {
      for (const len of [14, 15, 17, FRAME.length]) {
        const frame = FRAME.slice(0, len);
        const batch = new PacketBatch(1);
        const { key, layout } = load(batch, 0, frame, shift);
        const got: Buffer[] = [];
        const ctx: ActionContext = {
          output: (_p, b, o, n) => void got.push(Buffer.from(b.subarray(o, o + n))),
          userspace: () => undefined,
          random: () => 0,
          stats: new ActionStats(),
        };
        executeActions(batch, 0, key, layout, program, ctx);
        expect(got[1].toString('hex')).toBe(Buffer.from(frame).toString('hex'));
        if (len === FRAME.length) expect(got[0].readUInt16BE(14 + 20 + 2)).toBe(9);
        else expect(got[0].toString('hex')).toBe(Buffer.from(frame).toString('hex'));
      }
    }
  });

  it('an output that re-enters the executor does not disturb the outer packet', () => {
    const outer = new PacketBatch(1);
    const inner = new PacketBatch(1);
    const o = load(outer, 0, FRAME);
    const outerProgram = compileActions(parseActions('clone(push_vlan(vid=5,pcp=0),9),set(ipv4(ttl=3)),1'));
    const innerProgram = compileActions(parseActions('clone(set(tcp(src=7)),clone(pop_vlan,2)),3'));
    const log: string[] = [];
    const ctx: ActionContext = {
      output(port, b, off, n) {
        log.push(`${port}:${Buffer.from(b.subarray(off, off + n)).toString('hex')}`);
        if (port === 9) {
          // A patch port: the peer datapath runs its own actions right away.
          const frame = Array.from(b.subarray(off, off + n));
          const k = load(inner, 0, frame);
          executeActions(inner, 0, k.key, k.layout, innerProgram, ctx);
        }
      },
      userspace: () => undefined,
      random: () => 0,
      stats: new ActionStats(),
    };
    executeActions(outer, 0, o.key, o.layout, outerProgram, ctx);
    const tagged = eth(MAC_B, MAC_A, 0x0800, [[0x8100, 5]]).concat(FRAME.slice(14));
    const hex = (a: number[]) => Buffer.from(a).toString('hex');
    const ttl3 = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(P, 1, 2, [1, 2, 3, 4, 5, 6, 7]), { ttl: 3 }));
    const src7 = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(P, 7, 2, [1, 2, 3, 4, 5, 6, 7])));
    expect(log).toEqual([`9:${hex(tagged)}`, `2:${hex(src7)}`, `3:${hex(tagged)}`, `1:${hex(ttl3)}`]);
  });

  it('nesting at the limit runs; the scratch area is released afterwards', () => {
    let list: DpAction[] = [{ type: 'output', port: 1 }];
    for (let i = 0; i < MAX_NESTING; i++) list = [{ type: 'clone', actions: list }, { type: 'output', port: 2 }];
    const program = compileActions(list);
    for (let round = 0; round < 3; round++) {
      const batch = new PacketBatch(1);
      const { key, layout } = load(batch, 0, FRAME);
      const ports: number[] = [];
      const ctx: ActionContext = { output: (p) => void ports.push(p), userspace: () => undefined, random: () => 0, stats: new ActionStats() };
      expect(executeActions(batch, 0, key, layout, program, ctx)).toBe(true);
      expect(ports).toEqual([1, ...Array(MAX_NESTING).fill(2)]);
      expect(ctx.stats.copyDropped).toBe(0);
    }
  });
});
