// tsvs-vswitchd: parse the command line, optionally detach (re-run ourselves
// in the background and exit once the child reports ready), run the daemon
// until SIGTERM/SIGINT or `tsvs-appctl exit`, then shut down cleanly.

import { spawn } from 'node:child_process';
import { Daemon } from './daemon.js';
import { DAEMON_USAGE, parseDaemonOptions, UsageError, type DaemonOptions } from './options.js';
import { TSVS_VERSION } from './version.js';

const DETACHED_ENV = 'TSVS_VSWITCHD_DETACHED';

function fail(message: string): never {
  process.stderr.write(`tsvs-vswitchd: ${message}\n`);
  process.exit(1);
}

async function detach(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--detach');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--detach', ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  await new Promise<void>((resolve) => {
    child.once('message', (m: { ready?: boolean; error?: string }) => {
      if (m.error) fail(m.error);
      child.disconnect();
      child.unref();
      resolve();
    });
    child.once('exit', (code) => fail(`daemon exited during start-up (status ${code}); see its log file`));
  });
  process.exit(0);
}

async function run(opts: DaemonOptions): Promise<void> {
  const daemon = new Daemon(opts);
  try {
    await daemon.start();
  } catch (e) {
    const msg = (e as Error).message;
    daemon.vlog.console = false; // stderr gets the one line below; a log file gets the details
    daemon.vlog.module('vswitchd').err(`start-up failed: ${msg}`);
    await daemon.stop().catch(() => {});
    if (process.send) process.send({ error: msg });
    fail(msg);
  }
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      daemon.vlog.module('vswitchd').info(`${sig} received`);
      void daemon.stop();
    });
  }
  if (process.send) {
    process.send({ ready: true });
    process.disconnect();
  }
  await daemon.stopped;
  process.exit(0);
}

async function main(): Promise<void> {
  let opts: DaemonOptions;
  try {
    opts = parseDaemonOptions(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) fail(e.message);
    throw e;
  }
  if (opts.help) {
    process.stdout.write(DAEMON_USAGE);
    return;
  }
  if (opts.version) {
    process.stdout.write(`tsvs-vswitchd ${TSVS_VERSION}\n`);
    return;
  }
  if (opts.detach && !process.env[DETACHED_ENV]) return detach();
  return run(opts);
}

void main();
