// Spawned interop peers (ovs-testcontroller, osken-manager): collect their
// output, wait for a line (event-driven, bounded), and always stop them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A loopback TCP port that was free a moment ago (for tools that cannot bind port 0 and report it). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export class PeerProcess {
  readonly proc: ChildProcess;
  output = '';
  private waiters: (() => void)[] = [];
  exited = false;

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const add = (d: Buffer): void => {
      this.output += d.toString();
      this.wake();
    };
    this.proc.stdout!.on('data', add);
    this.proc.stderr!.on('data', add);
    this.proc.on('error', (e) => add(Buffer.from(`spawn error: ${e.message}\n`)));
    this.proc.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** Resolves with the match once the output matches `re`; rejects on timeout or exit. */
  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      if (this.exited) throw new Error(`process exited before ${re}; output:\n${this.output}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; output:\n${this.output}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    if (this.exited || this.proc.exitCode !== null) return;
    const gone = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
}
