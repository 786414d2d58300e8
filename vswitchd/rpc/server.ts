// The management RPC server: a unix socket (mode 0600) speaking framed
// protobuf Requests (messages.ts) for any number of concurrent clients. It
// reads and writes the config DB and dispatches appctl commands; a client that
// sends garbage is disconnected, the server and the other clients carry on.

import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Database, DbError, type Condition, type Operation } from '../db/database.js';
import type { BaseType, DatabaseSchema } from '../db/schema.js';
import type { RpcBaseType, RpcSchema } from './rpc-schema.js';
import { AppctlError, type AppctlRegistry } from './appctl.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder } from './framing.js';
import { decodeRequest, encodeResponse, requestKind, type Request, type Response, type RpcErrorBody } from './messages.js';
import { fromRpcJson, toRpcJson } from './value-json.js';

export interface RpcServerOptions {
  /** Socket path. */
  path: string;
  db: Database;
  appctl: AppctlRegistry;
  version: string;
  /** Socket file mode. Default 0o600. */
  mode?: number;
  maxFrameBytes?: number;
  /** Longest wait_for_cfg / waiting transact accepted, ms. Default 10 minutes. */
  maxWaitMs?: number;
  /** Told about protocol errors (a client disconnected for garbage). */
  onProtocolError?: (message: string) => void;
}

export interface RpcServerStats {
  connections: number;
  requests: number;
  protocolErrors: number;
}

class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class RpcServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly stats_: RpcServerStats = { connections: 0, requests: 0, protocolErrors: 0 };
  private readonly cfgWaiters = new Set<() => void>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly opts: RpcServerOptions) {}

  get stats(): RpcServerStats {
    return { ...this.stats_, connections: this.sockets.size };
  }

  async start(): Promise<void> {
    const { path } = this.opts;
    // A leftover socket nobody answers on is stale (a crash); one that answers belongs to a live daemon.
    if (existsSync(path)) {
      if (await answers(path)) throw new Error(`${path}: another daemon is already listening on this socket`);
      unlinkSync(path);
    }
    const server = createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, this.opts.mode ?? 0o600);
    this.server = server;
    this.unsubscribe = this.opts.db.onCommit(() => {
      for (const w of [...this.cfgWaiters]) w();
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    try {
      unlinkSync(this.opts.path);
    } catch {
      // already gone
    }
  }

  private accept(sock: Socket): void {
    this.sockets.add(sock);
    const decoder = new FrameDecoder(this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    sock.on('data', (chunk: Buffer) => {
      let payloads: Buffer[];
      try {
        payloads = decoder.push(chunk);
      } catch (e) {
        this.protocolError(sock, (e as Error).message);
        return;
      }
      for (const p of payloads) {
        let req: Request;
        try {
          req = decodeRequest(p);
        } catch (e) {
          this.protocolError(sock, `undecodable request: ${(e as Error).message}`);
          return;
        }
        this.stats_.requests++;
        void this.handle(req).then((res) => this.send(sock, res));
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.sockets.delete(sock));
  }

  private protocolError(sock: Socket, message: string): void {
    this.stats_.protocolErrors++;
    this.opts.onProtocolError?.(message);
    sock.destroy();
  }

  private send(sock: Socket, res: Response): void {
    if (sock.destroyed) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(encodeResponse(res), this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    } catch (e) {
      frame = encodeFrame(encodeResponse(this.errorResponse(res.id, { code: 'resources exhausted', message: (e as Error).message, op_index: -1 })));
    }
    sock.write(frame);
  }

  private errorResponse(id: number, error: RpcErrorBody): Response {
    return { id, error, result_json: '', output: '', txn_id: this.opts.db.lastTxnId };
  }

  private async handle(req: Request): Promise<Response> {
    const res: Response = { id: req.id, error: null, result_json: '', output: '', txn_id: 0 };
    try {
      const kind = requestKind(req);
      const db = this.opts.db;
      switch (kind) {
        case 'transact': {
          const t = (req as Extract<Request, { transact: unknown }>).transact;
          const ops = parseJson(t.ops_json, 'ops_json');
          if (!Array.isArray(ops)) throw new RequestError('bad request', 'ops_json must be a JSON array of operations');
          if (t.expect_txn_id && db.lastTxnId !== t.expect_txn_id) {
            throw new RequestError('try again', `the database changed (transaction ${db.lastTxnId}, expected ${t.expect_txn_id})`);
          }
          const r = t.timeout_ms ? await db.transactWhen(ops as Operation[], Math.min(t.timeout_ms, this.maxWaitMs)) : db.transact(ops as Operation[]);
          res.result_json = toRpcJson(r);
          break;
        }
        case 'get': {
          const g = (req as Extract<Request, { get: unknown }>).get;
          res.result_json = toRpcJson(db.get(g.table, g.uuid) ?? null);
          break;
        }
        case 'list':
          res.result_json = toRpcJson(db.list((req as Extract<Request, { list: unknown }>).list.table));
          break;
        case 'find': {
          const f = (req as Extract<Request, { find: unknown }>).find;
          const where = f.where_json === '' ? [] : parseJson(f.where_json, 'where_json');
          if (!Array.isArray(where)) throw new RequestError('bad request', 'where_json must be a JSON array of conditions');
          res.result_json = toRpcJson(db.find(f.table, where as Condition[]));
          break;
        }
        case 'wait_for_cfg': {
          const w = (req as Extract<Request, { wait_for_cfg: unknown }>).wait_for_cfg;
          const cur = await this.waitForCfg(w.next_cfg, w.timeout_ms ? Math.min(w.timeout_ms, this.maxWaitMs) : this.maxWaitMs);
          res.result_json = JSON.stringify({ cur_cfg: cur });
          break;
        }
        case 'appctl': {
          const a = (req as Extract<Request, { appctl: unknown }>).appctl;
          res.output = await this.opts.appctl.run(a.command, a.args ?? []);
          break;
        }
        case 'version':
          res.result_json = JSON.stringify({ version: this.opts.version, txnId: db.lastTxnId });
          break;
        case 'schema':
          res.result_json = JSON.stringify(rpcSchemaOf(db.schema));
          break;
      }
    } catch (e) {
      res.error = toErrorBody(e);
    }
    res.txn_id = this.opts.db.lastTxnId;
    return res;
  }

  private get maxWaitMs(): number {
    return this.opts.maxWaitMs ?? 600_000;
  }

  /** Resolves with cur_cfg once it reaches nextCfg. */
  private waitForCfg(nextCfg: number, timeoutMs: number): Promise<number> {
    const cur = (): number => {
      const ovs = this.opts.db.list('Open_vSwitch')[0];
      return ovs ? (ovs.cur_cfg as number) : 0;
    };
    if (cur() >= nextCfg) return Promise.resolve(cur());
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (cur() >= nextCfg) {
          done();
          resolve(cur());
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new RequestError('timed out', `cur_cfg did not reach ${nextCfg} within ${timeoutMs} ms (it is ${cur()})`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.cfgWaiters.delete(check);
      };
      this.cfgWaiters.add(check);
    });
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function parseJson(text: string, what: string): unknown {
  try {
    return fromRpcJson(text);
  } catch (e) {
    throw new RequestError('bad request', `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

function toErrorBody(e: unknown): RpcErrorBody {
  if (e instanceof DbError) return { code: e.code, message: e.message, op_index: e.opIndex ?? -1 };
  if (e instanceof RequestError) return { code: e.code, message: e.message, op_index: -1 };
  if (e instanceof AppctlError) return { code: 'command failed', message: e.message, op_index: -1 };
  return { code: 'internal error', message: e instanceof Error ? e.message : String(e), op_index: -1 };
}

function rpcBase(b: BaseType): RpcBaseType {
  const o: RpcBaseType = { type: b.type };
  if (b.enum) o.enum = [...b.enum];
  if (b.minInteger !== undefined) o.minInteger = b.minInteger;
  if (b.maxInteger !== undefined) o.maxInteger = b.maxInteger;
  if (b.refTable !== undefined) o.refTable = b.refTable;
  if (b.refType !== undefined) o.refType = b.refType;
  return o;
}

/** The schema in the RPC's self-contained form (rpc-schema.ts). */
export function rpcSchemaOf(schema: DatabaseSchema): RpcSchema {
  const tables: RpcSchema['tables'] = {};
  for (const t of schema.tables.values()) {
    const columns: RpcSchema['tables'][string]['columns'] = {};
    for (const c of t.columns.values()) {
      columns[c.name] = {
        key: rpcBase(c.type.key),
        ...(c.type.value ? { value: rpcBase(c.type.value) } : {}),
        min: c.type.min,
        max: Number.isFinite(c.type.max) ? c.type.max : null,
        kind: c.kind,
        mutable: c.mutable,
        ephemeral: c.ephemeral,
      };
    }
    tables[t.name] = { isRoot: t.isRoot, columns, indexes: t.indexes.map((i) => [...i]) };
  }
  return { name: schema.name, version: schema.version, tables };
}
