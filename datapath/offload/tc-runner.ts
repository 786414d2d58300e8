// Runs tc(8) commands for the offload: one at a time (tc's netlink requests
// for one device are serialized by the kernel anyway, and a flow-mod storm
// must not fork thousands of processes), through a bounded queue, at most
// `ratePerSec` commands per second. Failures come back as results, never as
// exceptions: the caller keeps the flow in user space.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TcBatch } from './tc-batch.js';

let tcBinary: string | null = null;

/** tc from PATH, else from /usr/sbin or /sbin (a daemon started without sbin in PATH); 'tc' if none (spawn reports ENOENT). */
export function findTc(path = process.env.PATH ?? ''): string {
  for (const dir of [...path.split(delimiter).filter(Boolean), '/usr/sbin', '/sbin']) {
    const p = join(dir, 'tc');
    if (existsSync(p)) return p;
  }
  return 'tc';
}

export interface TcResult {
  ok: boolean;
  stdout: string;
  /** tc's error text (or the spawn error), '' on success. */
  error: string;
  /** The tc binary is not installed (spawn ENOENT). */
  missing: boolean;
}

/** A failed command's result with no output. */
export function tcFailure(error: string, missing = false): TcResult {
  return { ok: false, stdout: '', error, missing };
}

/** Runs one tc command; injectable for tests. Resolves (never rejects). */
export type TcExec = (args: readonly string[]) => Promise<TcResult>;

export const defaultTcExec: TcExec = (args) =>
  new Promise((resolve) => {
    execFile((tcBinary ??= findTc()), args as string[], { timeout: 10_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err === null) resolve({ ok: true, stdout, error: '', missing: false });
      else {
        const code = (err as NodeJS.ErrnoException).code;
        resolve({ ok: false, stdout, error: (stderr || err.message).trim(), missing: code === 'ENOENT' });
      }
    });
  });

export interface TcRunnerOptions {
  /** Runs one command (default: execFile of tc). Given: query() uses it too (no batch child). */
  exec?: TcExec;
  /** Commands waiting at most (default 4096); beyond, run() resolves at once with an error. */
  maxQueue?: number;
  /** Commands started per second at most (default 500; 0 = unlimited). */
  ratePerSec?: number;
  /** Milliseconds clock and timer, injectable for tests. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Job {
  args: readonly string[];
  resolve: (r: TcResult) => void;
}

export class TcRunner {
  /** Commands run, failed, and refused because the queue was full. */
  runs = 0;
  failures = 0;
  queueFull = 0;
  private readonly exec: TcExec;
  private readonly maxQueue: number;
  private readonly intervalMs: number;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly queue: Job[] = [];
  private running = false;
  /** Persistent `tc -batch` child for query(); null when exec was injected. */
  private batch: TcBatch | null = null;
  private lastStartMs = -Infinity;

  constructor(opts: TcRunnerOptions = {}) {
    this.exec = opts.exec ?? defaultTcExec;
    if (opts.exec === undefined) this.batch = new TcBatch((tcBinary ??= findTc()));
    this.maxQueue = opts.maxQueue ?? 4096;
    const rate = opts.ratePerSec ?? 500;
    this.intervalMs = rate > 0 ? 1000 / rate : 0;
    this.clock = opts.clock ?? (() => performance.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * A read-only command run with `-s -j` (statistics), answered by the
   * persistent batch child: no process per call. Not queued behind run().
   */
  query(args: readonly string[]): Promise<TcResult> {
    if (this.batch === null) return this.run(['-s', '-j', ...args]);
    this.runs++;
    return this.batch.query(args).then((r) => {
      if (!r.ok) this.failures++;
      return r;
    });
  }

  /** Stop the batch child (a later query() starts another). */
  close(): void {
    this.batch?.close();
  }

  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  run(args: readonly string[]): Promise<TcResult> {
    if (this.queue.length >= this.maxQueue) {
      this.queueFull++;
      return Promise.resolve(tcFailure('tc command queue full'));
    }
    return new Promise((resolve) => {
      this.queue.push({ args, resolve });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const job = this.queue.shift()!;
      const wait = this.lastStartMs + this.intervalMs - this.clock();
      if (wait > 0) await this.sleep(wait);
      this.lastStartMs = this.clock();
      this.runs++;
      let r: TcResult;
      try {
        r = await this.exec(job.args);
      } catch (e) {
        r = tcFailure(String(e));
      }
      if (!r.ok) this.failures++;
      job.resolve(r);
    }
    this.running = false;
  }
}
