import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FramingError } from '../../../../vswitchd/rpc/framing.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../../../vswitchd/rpc/messages.js';
import { RPC_PROTO } from '../../../../vswitchd/rpc/rpc-proto.js';
import { fromRpcJson, toRpcJson } from '../../../../vswitchd/rpc/value-json.js';

describe('RPC framing', () => {
  it('rpc.proto and the embedded copy agree', () => {
    expect(RPC_PROTO).toBe(readFileSync(resolve(__dirname, '../../../../vswitchd/rpc/rpc.proto'), 'utf8'));
  });

  it('reassembles frames split at every byte and several frames in one chunk', () => {
    const frames = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from('x'.repeat(1000))];
    const wire = Buffer.concat(frames.map((f) => encodeFrame(f)));
    for (const step of [1, 2, 3, 5, 7, wire.length]) {
      const d = new FrameDecoder(2000);
      const got: Buffer[] = [];
      for (let i = 0; i < wire.length; i += step) got.push(...d.push(wire.subarray(i, i + step)));
      expect(got.map((b) => b.toString())).toEqual(frames.map((b) => b.toString()));
      expect(d.pendingBytes).toBe(0);
    }
  });

  it('refuses an oversize length before buffering it, and stays failed', () => {
    const d = new FrameDecoder(16);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(17);
    expect(() => d.push(head)).toThrow(FramingError);
    expect(() => d.push(encodeFrame(Buffer.from('ok')))).toThrow(FramingError);
    expect(() => encodeFrame(Buffer.alloc(17), 16)).toThrow(/exceeds the 16-byte limit/);
    const ok = new FrameDecoder(16);
    expect(ok.push(encodeFrame(Buffer.alloc(16), 16))).toHaveLength(1);
  });

  it('round-trips requests and responses; garbage does not decode', () => {
    const req = { id: 7, transact: { ops_json: '[]', expect_txn_id: 3, timeout_ms: 0 } };
    expect(decodeRequest(encodeRequest(req))).toMatchObject(req);
    const app = { id: 8, appctl: { command: 'vlog/list', args: ['a', 'b'] } };
    expect(decodeRequest(encodeRequest(app))).toMatchObject(app);
    const res = { id: 9, error: { code: 'timed out', message: 'm', op_index: 2 }, result_json: '', output: 'o', txn_id: 4 };
    expect(decodeResponse(encodeResponse(res))).toEqual(res);
    expect(decodeResponse(encodeResponse({ ...res, error: null })).error).toBeNull();
    expect(() => decodeRequest(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
    expect(() => decodeRequest(Buffer.from([0x08, 0x01]))).toThrow(/no known kind/);
  });

  it('carries maps in JSON as {$map}', () => {
    const v = { a: new Map([['k', 'v']]), b: [1, 2], c: { namedUuid: 'x' } };
    expect(fromRpcJson(toRpcJson(v))).toEqual(v);
  });
});
