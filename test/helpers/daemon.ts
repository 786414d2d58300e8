// Runs the compiled tsvs-vswitchd and the CLIs as separate processes for
// integration and interop tests. ensureBuilt() compiles the repo into dist/
// once (a lock directory keeps parallel test files from compiling together;
// a stamp newer than every source skips the build).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '../..');
const STAMP = join(REPO, 'dist', '.tsvs-build-stamp');
const LOCK = join(REPO, 'dist.build-lock');

function newestSource(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) {
      if (name !== 'node_modules') t = Math.max(t, newestSource(p));
    } else if (name.endsWith('.ts')) t = Math.max(t, s.mtimeMs);
  }
  return t;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function ensureBuilt(): void {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${LOCK}: another build held the lock for 2 minutes`);
      sleepMs(200);
    }
  }
  try {
    const newest = Math.max(...['datapath', 'ofproto', 'vswitchd', 'ctl', 'bench'].filter((d) => existsSync(join(REPO, d))).map((d) => newestSource(join(REPO, d))));
    if (existsSync(STAMP) && statSync(STAMP).mtimeMs > newest) return;
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', REPO], { cwd: REPO, stdio: 'inherit' });
    writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  } finally {
    rmdirSync(LOCK);
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs bin/<tool>.js with args; TSVS_RUNDIR points at rundir. */
export function runTool(tool: 'tsvs-vsctl' | 'tsvs-appctl' | 'tsvs-vswitchd' | 'tsvs-ofctl', args: string[], rundir: string, timeoutMs = 20_000, stdin?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, [join(REPO, 'bin', `${tool}.js`), ...args], { env: { ...process.env, TSVS_RUNDIR: rundir } });
    p.stdin.end(stdin ?? '');
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${tool} ${args.join(' ')}: no exit within ${timeoutMs} ms`));
    }, timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ stdout, stderr, code });
    });
  });
}

export class DaemonProcess {
  proc: ChildProcess | null = null;
  log = '';
  readonly rundir: string;
  readonly dbdir: string;
  /**
   * false (default): start with --no-internal-devices, so the bridges' own
   * ports make no TAP devices in the shared network namespace (test files
   * running at once all use names like br0). Tests of real devices set true.
   */
  internalDevices = false;

  constructor(readonly dir: string = mkdtempSync(join(tmpdir(), 'tsvs-daemon-'))) {
    this.rundir = join(dir, 'run');
    this.dbdir = join(dir, 'db');
  }

  get socket(): string {
    return join(this.rundir, 'tsvs-vswitchd.ctl');
  }

  /** Starts the daemon and resolves once its RPC socket accepts connections (it logs "ready"). */
  async start(extra: string[] = []): Promise<void> {
    const p = spawn(process.execPath, [join(REPO, 'bin', 'tsvs-vswitchd.js'), `--rundir=${this.rundir}`, `--dbdir=${this.dbdir}`, ...(this.internalDevices ? [] : ['--no-internal-devices']), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = p;
    this.log = '';
    await new Promise<void>((res, rej) => {
      const onData = (d: Buffer): void => {
        this.log += d.toString();
        if (this.log.includes('|INFO|tsvs-vswitchd ') && this.log.includes(' ready: ')) res();
      };
      p.stderr!.on('data', onData);
      p.once('exit', (code) => rej(new Error(`tsvs-vswitchd exited with ${code} during start-up:\n${this.log}`)));
    });
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return Promise.resolve(p?.exitCode ?? null);
    return new Promise((res) => {
      p.once('exit', (code) => res(code));
      p.kill(signal);
    });
  }
}
