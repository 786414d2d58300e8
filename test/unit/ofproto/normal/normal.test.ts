import { describe, expect, it } from 'vitest';
import { MacLearning } from '../../../../ofproto/normal/mac-learning.js';
import { inputVlan, outputVid, portIncludesVlan } from '../../../../ofproto/normal/port-vlan.js';

describe('MacLearning', () => {
  it('learns, reports moves, ages out after agingSec', () => {
    let now = 0;
    const m = new MacLearning({ agingSec: 300, clock: () => now });
    expect(m.learn(0, 0x0200, 1, 5)).toBe(true);
    expect(m.learn(0, 0x0200, 1, 5)).toBe(false);
    expect(m.lookup(0, 0x0200, 1)).toBe(5);
    expect(m.lookup(10, 0x0200, 1)).toBe(null); // per VLAN
    expect(m.learn(0, 0x0200, 1, 6)).toBe(true); // moved
    now = 299_999;
    expect(m.lookup(0, 0x0200, 1)).toBe(6);
    now = 300_000;
    expect(m.lookup(0, 0x0200, 1)).toBe(null);
    expect(m.expire()).toBe(1);
    expect(m.count).toBe(0);
  });

  it('is bounded with LRU eviction (default 2048)', () => {
    let now = 0;
    const m = new MacLearning({ clock: () => now });
    expect(m.maxEntries).toBe(2048);
    for (let i = 0; i < 2048; i++) m.learn(0, 0x0200, i, 1);
    now = 1;
    m.learn(0, 0x0200, 0, 1); // touch the oldest: it becomes the newest
    m.learn(0, 0x0200, 5000, 2); // evicts MAC 1, not MAC 0
    expect(m.count).toBe(2048);
    expect(m.evictions).toBe(1);
    expect(m.lookup(0, 0x0200, 0)).toBe(1);
    expect(m.lookup(0, 0x0200, 1)).toBe(null);
    expect(m.flushPort(2)).toBe(1);
    expect(m.entries()[0]!.mac).toBe('02:00:00:00:00:02');
  });
});

describe('port VLAN modes (OVS semantics)', () => {
  it('access', () => {
    const c = { tag: 10 };
    expect(inputVlan(c, 0)).toBe(10);
    expect(inputVlan(c, 20)).toBe(-1);
    expect(portIncludesVlan(c, 10)).toBe(true);
    expect(portIncludesVlan(c, 20)).toBe(false);
    expect(outputVid(c, 10)).toBe(0);
  });
  it('trunk (all, or a list)', () => {
    expect(inputVlan({}, 0)).toBe(0);
    expect(inputVlan({}, 33)).toBe(33);
    const c = { trunks: [10, 20] };
    expect(inputVlan(c, 0)).toBe(-1);
    expect(inputVlan(c, 20)).toBe(20);
    expect(portIncludesVlan(c, 30)).toBe(false);
    expect(outputVid(c, 20)).toBe(20);
  });
  it('native-tagged and native-untagged', () => {
    const nt = { tag: 5, trunks: [7], vlanMode: 'native-tagged' as const };
    const nu = { tag: 5, trunks: [7], vlanMode: 'native-untagged' as const };
    for (const c of [nt, nu]) {
      expect(inputVlan(c, 0)).toBe(5);
      expect(inputVlan(c, 7)).toBe(7);
      expect(inputVlan(c, 8)).toBe(-1);
      expect(portIncludesVlan(c, 5)).toBe(true);
    }
    expect(outputVid(nt, 5)).toBe(5);
    expect(outputVid(nu, 5)).toBe(0);
    expect(outputVid(nu, 7)).toBe(7);
  });
});
