// Install-time validation of action lists and the shape of the compiled program.
import { describe, expect, it } from 'vitest';
import { ActionError } from '../../../../datapath/actions/action-error.js';
import { MAX_NESTING, OP_CLONE, OP_OUTPUT, OP_SAMPLE, OP_SET_IPV4, OP_USERSPACE, compileActions } from '../../../../datapath/actions/compile.js';
import { probabilityFromPercent, type DpAction } from '../../../../datapath/actions/types.js';
import * as K from '../../../../datapath/flow/key.js';
import { words } from '../../../helpers/run-actions.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ActionError);
    return (e as ActionError).code + ' @' + (e as ActionError).path;
  }
  return 'no error';
}

describe('compileActions', () => {
  it('flattens nested lists behind their length', () => {
    const p = compileActions([
      { type: 'output', port: 1 },
      { type: 'sample', probability: 7, actions: [{ type: 'clone', actions: [{ type: 'output', port: 2 }] }] },
      { type: 'userspace', pid: 3, cookie: Uint8Array.of(9) },
    ]);
    expect(Array.from(p.code)).toEqual([OP_OUTPUT, 1, OP_SAMPLE, 7, 4, OP_CLONE, 2, OP_OUTPUT, 2, OP_USERSPACE, 3, 0]);
    expect(p.cookies).toEqual([Uint8Array.of(9)]);
    expect(p.depth).toBe(2);
  });
  it('exact set takes every writable field, masked set only the mask', () => {
    const key = words({ [K.W_NW_SRC]: 0x0a000001, [K.W_NW_DST]: 0x0a000002, [K.W_NW_PROTO_TOS_TTL_FRAG]: (6 << 24) | (4 << 16) | (9 << 8) | 1 });
    expect(Array.from(compileActions([{ type: 'set', attr: 'ipv4', key }]).code)).toEqual([OP_SET_IPV4, 0x0a000001, 0xffffffff, 0x0a000002, 0xffffffff, 4, 0xff, 9, 0xff, 0, 0]);
    const mask = words({ [K.W_NW_SRC]: 0xffffff00 });
    expect(Array.from(compileActions([{ type: 'set_masked', attr: 'ipv4', key, mask }]).code)).toEqual([OP_SET_IPV4, 0x0a000000, 0xffffff00, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('rejects bad actions with stable codes and a path', () => {
    const k = words({});
    expect(codeOf(() => compileActions([{ type: 'output', port: 0xffffffff }]))).toBe('DP_ACTION_BAD_PORT @0');
    expect(codeOf(() => compileActions([{ type: 'output', port: 5 }], { isValidPort: (p) => p < 4 }))).toBe('DP_ACTION_BAD_PORT @0');
    expect(codeOf(() => compileActions([{ type: 'output', port: -1 }]))).toBe('DP_ACTION_BAD_PORT @0');
    expect(codeOf(() => compileActions([{ type: 'set', attr: 'tunnel' as never, key: k }]))).toBe('DP_ACTION_BAD_FIELD @0');
    expect(codeOf(() => compileActions([{ type: 'set', attr: 'eth', key: new Uint32Array(3) }]))).toBe('DP_ACTION_BAD_KEY @0');
    expect(codeOf(() => compileActions([{ type: 'set_masked', attr: 'ipv4', key: k, mask: words({ [K.W_NW_PROTO_TOS_TTL_FRAG]: 0x000000ff }) }]))).toBe('DP_ACTION_BAD_MASK @0');
    // ip_proto is writable by set_masked only (OpenFlow set_field ip_proto; OVS has no such set), never by an exact set.
    expect(codeOf(() => compileActions([{ type: 'set_masked', attr: 'ipv4', key: k, mask: words({ [K.W_NW_PROTO_TOS_TTL_FRAG]: 0xff000000 }) }]))).toBe('no error');
    expect(codeOf(() => compileActions([{ type: 'set_masked', attr: 'tcp', key: k, mask: words({ [K.W_NW_SRC]: 1 }) }]))).toBe('DP_ACTION_BAD_MASK @0');
    expect(codeOf(() => compileActions([{ type: 'push_vlan', tpid: 0x8100, tci: 10 }]))).toBe('DP_ACTION_BAD_VLAN @0');
    expect(codeOf(() => compileActions([{ type: 'push_vlan', tpid: 0x0800, tci: 0x1000 }]))).toBe('DP_ACTION_BAD_VLAN @0');
    expect(codeOf(() => compileActions([{ type: 'push_mpls', lse: 1, ethertype: 0x0800 }]))).toBe('DP_ACTION_BAD_ETHERTYPE @0');
    expect(codeOf(() => compileActions([{ type: 'truncate', maxLen: 13 }]))).toBe('DP_ACTION_BAD_ARGUMENT @0');
    expect(codeOf(() => compileActions([{ type: 'sample', probability: 1.5, actions: [] }]))).toBe('DP_ACTION_BAD_ARGUMENT @0');
    expect(codeOf(() => compileActions([{ type: 'frobnicate' } as unknown as DpAction]))).toBe('DP_ACTION_BAD_TYPE @0');
    expect(codeOf(() => compileActions([{ type: 'clone', actions: [{ type: 'pop_vlan' }, { type: 'output', port: 0xffffffff }] }]))).toBe('DP_ACTION_BAD_PORT @0.actions.1');
    let deep: DpAction[] = [];
    for (let i = 0; i <= MAX_NESTING; i++) deep = [{ type: 'clone', actions: deep }];
    expect(codeOf(() => compileActions(deep))).toMatch(/^DP_ACTION_TOO_DEEP/);
  });
  it('probabilityFromPercent', () => {
    expect(probabilityFromPercent(100)).toBe(0xffffffff);
    expect(probabilityFromPercent(0)).toBe(0);
    expect(probabilityFromPercent(50)).toBe(0x80000000);
  });
});
