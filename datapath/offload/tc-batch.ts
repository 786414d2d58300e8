// One long-lived `tc -s -j -force -batch -` child for the offload's periodic
// statistics reads, so reading tc's counters every second forks nothing.
// tc answers each command with one JSON line on stdout (nothing when it
// fails: the error goes to stderr and -force carries on), so every query is
// followed by a sentinel command, `qdisc show dev lo`, whose answer (a qdisc
// list: it has a `"root":true` entry; filter lists never do) closes the
// query's output. Read-only `filter show` commands only (a qdisc list would
// pass for the sentinel): adds and deletes go through TcRunner, one process
// each, with their exit status.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { tcFailure, type TcResult } from './tc-runner.js';

const SENTINEL = 'qdisc show dev lo\n';
const isSentinel = (line: string): boolean => line.startsWith('[') && line.includes('"root":true');

interface Pending {
  lines: string[];
  resolve: (r: TcResult) => void;
  timer: NodeJS.Timeout;
}

export class TcBatch {
  private child: ChildProcessWithoutNullStreams | null = null;
  private buf = '';
  private readonly queue: Pending[] = [];
  private missing = false;
  /** Children started (1 unless one died or hung). */
  spawns = 0;

  constructor(
    private readonly binary: string,
    private readonly timeoutMs = 5000,
  ) {}

  /** Run one read-only command (argv without the binary and global options). */
  query(args: readonly string[]): Promise<TcResult> {
    if (this.missing) return Promise.resolve(tcFailure('tc not found', true));
    if (args[0] === 'qdisc') {
      // Its answer would look like the sentinel's and shift every later answer by one.
      return Promise.resolve(tcFailure('tc batch: qdisc queries are not supported'));
    }
    if (args.some((a) => /[\s"'\\]/.test(a) || a === '')) {
      return Promise.resolve(tcFailure(`tc batch: argument needs quoting: ${args.join(' ')}`));
    }
    const c = this.ensure();
    return new Promise((resolve) => {
      const p: Pending = {
        lines: [],
        resolve,
        timer: setTimeout(() => this.fail('tc batch: no answer'), this.timeoutMs),
      };
      p.timer.unref();
      this.queue.push(p);
      c.stdin.write(`${args.join(' ')}\n${SENTINEL}`);
    });
  }

  close(): void {
    const c = this.child;
    this.child = null;
    if (c !== null) {
      c.stdin.end();
      c.kill();
    }
    this.fail('tc batch closed');
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child !== null) return this.child;
    const c = spawn(this.binary, ['-s', '-j', '-force', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.spawns++;
    this.child = c;
    this.buf = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d: string) => {
      if (this.child === c) this.onData(d); // a closed child's last output is nobody's answer
    });
    c.stderr.on('data', () => undefined); // errors of failed commands: the missing line says it
    c.stdin.on('error', () => undefined); // EPIPE after the child died: 'exit' handles it
    c.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') this.missing = true;
      this.dead(c, String(e.message));
    });
    c.on('exit', () => this.dead(c, 'tc batch exited'));
    c.unref();
    (c.stdout as unknown as { unref?: () => void }).unref?.();
    (c.stderr as unknown as { unref?: () => void }).unref?.();
    (c.stdin as unknown as { unref?: () => void }).unref?.();
    return c;
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const p = this.queue[0];
      if (p === undefined) continue;
      if (isSentinel(line)) {
        this.queue.shift();
        clearTimeout(p.timer);
        const out = p.lines.join('\n');
        p.resolve(out === '' ? tcFailure('tc command failed') : { ok: true, stdout: out, error: '', missing: false });
      } else if (line !== '') {
        p.lines.push(line);
      }
    }
  }

  private dead(c: ChildProcessWithoutNullStreams, why: string): void {
    if (this.child !== c) return; // an old child (closed or replaced) going away
    this.child = null;
    this.fail(why);
  }

  /** Fail every waiting query and drop the child (the next query starts a fresh one). */
  private fail(why: string): void {
    const c = this.child;
    if (c !== null && this.queue.length > 0) {
      this.child = null;
      c.kill();
    }
    for (const p of this.queue.splice(0)) {
      clearTimeout(p.timer);
      p.resolve(tcFailure(why, this.missing));
    }
  }
}
