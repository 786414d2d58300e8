// Client side of the management RPC (vswitchd/rpc/): connects to the daemon's
// unix socket, sends framed Requests and matches Responses by id. Used by
// tsvs-vsctl and tsvs-appctl; imports only the RPC's codecs and schema types.

import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder } from '../vswitchd/rpc/framing.js';
import { decodeResponse, encodeRequest, type RequestBody, type Response } from '../vswitchd/rpc/messages.js';
import { fromRpcJson } from '../vswitchd/rpc/value-json.js';

/** The daemon's RPC socket name inside its run directory. */
export const RPC_SOCKET_NAME = 'tsvs-vswitchd.ctl'; // keep equal to vswitchd/daemon.ts

/** Run directory: --rundir, else TSVS_RUNDIR, else ./var/run (the `npm start` default). */
export function defaultRundir(env: NodeJS.ProcessEnv = process.env): string {
  return env['TSVS_RUNDIR'] || join('var', 'run');
}

/** An error answer from the daemon (`code` as in the RPC Error message). */
export class RpcError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly opIndex = -1,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Response) => void; reject: (e: Error) => void }>();
  private closedError: Error | null = null;

  private constructor(private readonly sock: Socket) {
    const decoder = new FrameDecoder(DEFAULT_MAX_FRAME_BYTES);
    sock.on('data', (chunk: Buffer) => {
      try {
        for (const p of decoder.push(chunk)) {
          const res = decodeResponse(p);
          const w = this.pending.get(res.id);
          if (w) {
            this.pending.delete(res.id);
            w.resolve(res);
          }
        }
      } catch (e) {
        this.fail(new Error(`bad answer from the daemon: ${(e as Error).message}`));
        sock.destroy();
      }
    });
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('the daemon closed the connection')));
  }

  static connect(path: string, timeoutMs = 5000): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(path);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`${path}: connection timed out`));
      }, timeoutMs);
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why = e.code === 'ENOENT' ? 'No such file or directory (is tsvs-vswitchd running?)' : e.code === 'ECONNREFUSED' ? 'Connection refused (is tsvs-vswitchd running?)' : e.message;
        reject(new Error(`${path}: database connection failed (${why})`));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new RpcClient(sock));
      });
    });
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    for (const w of this.pending.values()) w.reject(e);
    this.pending.clear();
  }

  /** Sends one request; resolves with the raw Response (errors included). */
  call(body: RequestBody): Promise<Response> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(encodeFrame(encodeRequest({ id, ...body })));
    });
  }

  /** Like call(), but an error answer rejects with RpcError; resolves with the decoded result_json. */
  async request(body: RequestBody): Promise<{ result: unknown; output: string; txnId: number }> {
    const r = await this.call(body);
    if (r.error) throw new RpcError(r.error.code, r.error.message, r.error.op_index);
    return { result: r.result_json ? fromRpcJson(r.result_json) : null, output: r.output, txnId: r.txn_id };
  }

  close(): void {
    this.closedError ??= new Error('client closed');
    this.sock.destroy();
  }
}
