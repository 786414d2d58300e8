// tsvs-appctl: run an appctl command in tsvs-vswitchd (like ovs-appctl).
//   tsvs-appctl [--rundir=DIR] [-t TARGET] [--timeout=SECS] COMMAND [ARG...]
// TARGET is the daemon's socket path, or a name looked up as
// <rundir>/<name>.ctl (default tsvs-vswitchd).

import { isAbsolute, join } from 'node:path';
import { defaultRundir, RpcClient, RpcError } from './rpc-client.js';

const PROGRAM = 'tsvs-appctl';

export const APPCTL_USAGE = `usage: ${PROGRAM} [--rundir=DIR] [-t TARGET] [--timeout=SECS] COMMAND [ARG...]
Run COMMAND in tsvs-vswitchd; "list-commands" shows them all.
`;

export interface AppctlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function appctl(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<AppctlResult> {
  let rundir: string | null = null;
  let target = 'tsvs-vswitchd';
  let timeoutSec = 0;
  let i = 0;
  const err = (m: string, code = 2): AppctlResult => ({ stdout: '', stderr: `${PROGRAM}: ${m}\n`, exitCode: code });
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const val = (): string | null => (eq >= 0 ? a.slice(eq + 1) : i + 1 < argv.length ? argv[++i] : null);
    if (name === '-h' || name === '--help') return { stdout: APPCTL_USAGE, stderr: '', exitCode: 0 };
    else if (name === '-t' || name === '--target') target = val() ?? '';
    else if (name === '--rundir') rundir = val();
    else if (name === '-T' || name === '--timeout') {
      const v = val();
      if (v === null || !/^\d+$/.test(v)) return err(`--timeout requires a whole number of seconds`);
      timeoutSec = Number(v);
    } else return err(`unrecognized option '${a}' (see --help)`);
    if (target === '' || rundir === '') return err(`option ${name} requires a value`);
  }
  if (i >= argv.length) return err('at least one non-option argument is required (see --help)');
  const command = argv[i];
  const args = argv.slice(i + 1);
  const dir = rundir ?? defaultRundir(env);
  const path = target.includes('/') ? (isAbsolute(target) ? target : join(process.cwd(), target)) : join(dir, `${target}.ctl`);
  let client: RpcClient | null = null;
  let timer: NodeJS.Timeout | null = null;
  try {
    client = await RpcClient.connect(path);
    const call = client.request({ appctl: { command, args } });
    call.catch(() => {}); // after a timeout the rejection (client closed) is expected
    const r = timeoutSec > 0
      ? await Promise.race([call, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timeout after ${timeoutSec} seconds`)), timeoutSec * 1000)))])
      : await call;
    return { stdout: r.output, stderr: '', exitCode: 0 };
  } catch (e) {
    if (e instanceof RpcError) return { stdout: '', stderr: `${e.message}\n${PROGRAM}: tsvs-vswitchd: server returned an error\n`, exitCode: 2 };
    return err((e as Error).message, 1);
  } finally {
    if (timer) clearTimeout(timer);
    client?.close();
  }
}

export async function main(): Promise<void> {
  const r = await appctl(process.argv.slice(2));
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.exitCode;
}
