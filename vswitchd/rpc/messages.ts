// RPC Request/Response <-> protobuf payloads (rpc.proto). Both the daemon and
// ctl/ use these; a payload that does not decode is a protocol error and the
// connection is closed.

import protobuf from 'protobufjs';
import { RPC_PROTO } from './rpc-proto.js';

const root = protobuf.parse(RPC_PROTO, { keepCase: true }).root;
const RequestType = root.lookupType('tsvs.rpc.Request');
const ResponseType = root.lookupType('tsvs.rpc.Response');

export type RequestBody =
  | { transact: { ops_json: string; expect_txn_id?: number; timeout_ms?: number } }
  | { get: { table: string; uuid: string } }
  | { list: { table: string } }
  | { find: { table: string; where_json: string } }
  | { wait_for_cfg: { next_cfg: number; timeout_ms?: number } }
  | { appctl: { command: string; args?: string[] } }
  | { version: Record<string, never> }
  | { schema: Record<string, never> };

export type RequestKind = 'transact' | 'get' | 'list' | 'find' | 'wait_for_cfg' | 'appctl' | 'version' | 'schema';
export type Request = { id: number } & RequestBody;

export interface RpcErrorBody {
  code: string;
  message: string;
  op_index: number;
}

export interface Response {
  id: number;
  error: RpcErrorBody | null;
  result_json: string;
  output: string;
  txn_id: number;
}

const KINDS: readonly RequestKind[] = ['transact', 'get', 'list', 'find', 'wait_for_cfg', 'appctl', 'version', 'schema'];

export function encodeRequest(req: Request): Uint8Array {
  return RequestType.encode(RequestType.fromObject(req)).finish();
}

/** Throws on bytes that are not a Request or carry no request kind. */
export function decodeRequest(payload: Uint8Array): Request {
  const m = RequestType.decode(payload);
  const o = RequestType.toObject(m, { longs: Number, arrays: true, oneofs: true, defaults: true }) as Record<string, unknown>;
  const kind = o['kind'];
  if (typeof kind !== 'string' || !KINDS.includes(kind as RequestKind)) throw new Error('request carries no known kind');
  return { id: o['id'] as number, [kind]: o[kind] } as Request;
}

export function requestKind(req: Request): RequestKind {
  for (const k of KINDS) if (k in req) return k;
  throw new Error('request carries no known kind');
}

export function encodeResponse(res: Response): Uint8Array {
  const o: Record<string, unknown> = { id: res.id, result_json: res.result_json, output: res.output, txn_id: res.txn_id };
  if (res.error) o['error'] = res.error;
  return ResponseType.encode(ResponseType.fromObject(o)).finish();
}

export function decodeResponse(payload: Uint8Array): Response {
  const m = ResponseType.decode(payload);
  const o = ResponseType.toObject(m, { longs: Number, arrays: true, defaults: true }) as Record<string, unknown>;
  const err = o['error'] as RpcErrorBody | undefined | null;
  return {
    id: o['id'] as number,
    error: err && err.code ? err : null,
    result_json: o['result_json'] as string,
    output: o['output'] as string,
    txn_id: o['txn_id'] as number,
  };
}
