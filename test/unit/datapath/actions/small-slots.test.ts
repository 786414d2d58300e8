// The executor in a batch whose slots are sized for MTU 1500 (1,600 bytes): a frame grows into its
// headroom, then into the tail of its own slot, and fails (pushFailed) rather than write into the next slot.
import { describe, expect, it } from 'vitest';
import { compileActions } from '../../../../datapath/actions/compile.js';
import { ActionStats, executeActions, type ActionContext } from '../../../../datapath/actions/execute.js';
import type { DpAction } from '../../../../datapath/actions/types.js';
import { extractFlow } from '../../../../datapath/flow/extract.js';
import { newKey, newLayout } from '../../../../datapath/flow/key.js';
import { HEADROOM, PacketBatch } from '../../../../datapath/packet-batch.js';

const SLOT = 1600;

/** A 0x0800 frame of `len` bytes (payload zeros) at `off` in slot 0 of a 2-slot MTU-1500 batch; slot 1 filled with 0xee. */
function setup(len: number, off: number) {
  const b = new PacketBatch(2, 1522);
  expect(b.slotBytes).toBe(SLOT);
  b.buf.fill(0xee, SLOT);
  const f = Buffer.alloc(len);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  b.buf.set(f, off);
  b.off[0] = off;
  b.len[0] = len;
  b.count = 1;
  const key = newKey();
  const layout = newLayout();
  extractFlow(b.buf, off, len, 1, key, layout);
  const outs: number[] = [];
  const ctx: ActionContext = {
    output: (_p, _buf, _o, l) => outs.push(l),
    userspace: () => {},
    random: () => 0,
    stats: new ActionStats(),
  };
  const run = (actions: DpAction[]) => executeActions(b, 0, key, layout, compileActions(actions), ctx);
  return { b, run, outs, ctx };
}

const push: DpAction = { type: 'push_vlan', tpid: 0x8100, tci: 0x1001 };

describe('actions in MTU-sized slots', () => {
  it('a full-MTU frame takes two tags from its headroom', () => {
    const { b, run, outs } = setup(1514, HEADROOM);
    run([push, { type: 'push_vlan', tpid: 0x88a8, tci: 0x1002 }, { type: 'output', port: 2 }]);
    expect(outs).toEqual([1522]);
    expect(b.off[0]).toBe(HEADROOM - 8);
    expect(b.buf.subarray(SLOT).every((x) => x === 0xee)).toBe(true);
  });

  it('without headroom the frame moves up inside its own slot', () => {
    const { b, run, outs } = setup(1514, 0);
    run([push, { type: 'output', port: 2 }]);
    expect(outs).toEqual([1518]);
    expect(b.off[0]).toBe(0);
    expect(b.buf.subarray(SLOT).every((x) => x === 0xee)).toBe(true);
  });

  it('a frame filling its slot cannot grow: pushFailed, the next slot untouched', () => {
    const { b, run, ctx } = setup(SLOT - 2, 0);
    run([push, { type: 'output', port: 2 }]);
    expect(ctx.stats.pushFailed).toBe(1);
    expect(b.len[0]).toBe(SLOT - 2);
    expect(b.buf.subarray(SLOT).every((x) => x === 0xee)).toBe(true);
  });
});
