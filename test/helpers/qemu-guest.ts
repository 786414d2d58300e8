// Runs one tsvs test guest (test/guests/boot.sh, which execs QEMU, so the
// child's PID is QEMU's) and waits for console markers. Tests kill every
// guest they start by that PID, never by name.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const GUESTS_SRC = resolve(__dirname, '../guests');
export const GUESTS_OUT = resolve(__dirname, '../../var/guests');

/** Why QEMU guests cannot run here, or null when they can. */
export function qemuMissing(): string | null {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  }
  return null;
}

/**
 * The `-netdev stream` option that makes a QEMU client reconnect after losing its
 * server (appended to the netdev), or null when this QEMU has none: `reconnect`
 * (seconds) came in QEMU 8.0 and `reconnect-ms` in 9.2; 7.2 (Debian 12) has neither
 * and rejects them ("Parameter 'reconnect' is unexpected").
 */
export function qemuStreamReconnect(seconds: number): string | null {
  for (const opt of [`reconnect-ms=${seconds * 1000}`, `reconnect=${seconds}`]) {
    // A path that does not exist: QEMU either rejects the parameter at once or keeps trying (killed by the timeout).
    const r = spawnSync('qemu-system-x86_64', ['-M', 'none', '-nodefaults', '-display', 'none', '-netdev',
      `stream,id=n0,server=off,addr.type=unix,addr.path=/nonexistent/tsvs-probe.sock,${opt}`], { encoding: 'utf8', timeout: 3000 });
    if (!/unexpected|invalid parameter/i.test(`${r.stderr ?? ''}`)) return `,${opt}`;
  }
  return null;
}

/** Build (or find up to date) the guest kernel and initramfs; returns build.sh's last line. */
export function buildGuests(): string {
  const out = execFileSync('bash', [join(GUESTS_SRC, 'build.sh'), GUESTS_OUT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  return out.trim();
}

export interface QemuGuestOptions {
  name: string;
  /** boot.sh --net: stream:PATH, stream-listen:PATH, udp:LPORT:RPORT, tap:IFNAME. */
  net: string;
  ip: string;
  mac: string;
  /** guest-init.sh steps, e.g. "ping 10.0.0.2 10 0.2 , stop 10.0.0.2". */
  job: string;
  /** Serial console copy for post-mortems. */
  logFile: string;
  netns?: string;
  lifeSec?: number;
  /** boot.sh --stream-opts: appended to a stream netdev (e.g. qemuStreamReconnect(1)). */
  streamOpts?: string;
}

export class QemuGuest {
  output = '';
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];
  private exitCode: number | null | undefined = undefined;

  constructor(readonly opts: QemuGuestOptions) {
    const args = [join(GUESTS_SRC, 'boot.sh'), '--dir', GUESTS_OUT, '--net', opts.net, '--name', opts.name, '--ip', opts.ip, '--mac', opts.mac, '--life', String(opts.lifeSec ?? 150)];
    if (opts.netns) args.push('--netns', opts.netns);
    if (opts.streamOpts) args.push('--stream-opts', opts.streamOpts);
    args.push('--', opts.job);
    writeFileSync(opts.logFile, '');
    this.proc = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (c: Buffer): void => {
      const text = c.toString('latin1').replace(/\r/g, '');
      this.output += text;
      appendFileSync(opts.logFile, text);
      for (const w of this.waiters.splice(0)) w();
    };
    this.proc.stdout!.on('data', take);
    this.proc.stderr!.on('data', take);
    this.exited = new Promise((r) =>
      this.proc.once('exit', (code) => {
        this.exitCode = code;
        for (const w of this.waiters.splice(0)) w();
        r(code);
      }),
    );
  }

  /** Resolve with the first console line matching re; reject on timeout or when QEMU exits without it. */
  async waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    const lineRe = new RegExp(`^${re.source}`, 'm');
    for (;;) {
      const m = lineRe.exec(this.output);
      if (m) return m;
      if (this.exitCode !== undefined) throw new Error(`${this.opts.name}: QEMU exited (${this.exitCode}) before ${re}; console:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.opts.name}: no ${re} after ${timeoutMs} ms; console:\n${this.tail()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  tail(lines = 25): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /** Kill this QEMU by its own PID and wait for it to be gone. */
  async kill(): Promise<void> {
    if (this.exitCode === undefined && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await this.exited;
  }
}
