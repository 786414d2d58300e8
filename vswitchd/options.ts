// tsvs-vswitchd command line: options in `--name=value` or `--name value`
// form, TSVS_RUNDIR/TSVS_DBDIR from the environment, defaults under ./var so
// `npm start` needs nothing else. Pure: no I/O, errors are one clear line.

import { join, resolve } from 'node:path';
import { parseLogLevel, type LogLevel } from './vlog.js';

export interface DaemonOptions {
  rundir: string;
  dbdir: string;
  /** host:port for the Prometheus endpoint, or null for none. */
  /** null: metrics off (--metrics-address=off). */
  metricsAddress: { host: string; port: number } | null;
  /** True when no --metrics-address was given: a busy default port is a warning, not an error. */
  metricsAddressIsDefault: boolean;
  logLevel: LogLevel;
  /** null: stderr only. */
  logFile: string | null;
  detach: boolean;
  pidfile: string;
  statsIntervalMs: number;
  /** false (--no-internal-devices): internal interfaces get no TAP device. */
  internalDevices: boolean;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DAEMON_USAGE = `usage: tsvs-vswitchd [OPTIONS]
Open vSwitch-style virtual switch daemon.

  --rundir=DIR           sockets and pidfile (default $TSVS_RUNDIR or ./var/run)
  --dbdir=DIR            config DB journal (default $TSVS_DBDIR or ./var/db)
  --metrics-address=HOST:PORT|off  serve Prometheus metrics at http://HOST:PORT/metrics
                         (default 127.0.0.1:9475, skipped with a warning if that
                         port is taken; port 0 = any; off = no metrics)
  --log-level=LEVEL      off|emer|err|warn|info|dbg (default info)
  --log-file[=FILE]      also log to FILE (default <rundir>/tsvs-vswitchd.log)
  --detach               run in the background once ready
  --pidfile[=FILE]       pidfile (default <rundir>/tsvs-vswitchd.pid; always written)
  --stats-interval=MS    Interface statistics update period (default 5000)
  --no-internal-devices  internal interfaces (the bridge's own port) get no TAP
                         device: a port that drops what it is sent (tests, no root)
  -h, --help             this text
  -V, --version          print the version
`;

const WITH_VALUE = new Set(['rundir', 'dbdir', 'metrics-address', 'log-level', 'stats-interval']);
const OPTIONAL_VALUE = new Set(['log-file', 'pidfile']);
const FLAGS = new Set(['detach', 'help', 'version', 'no-internal-devices']);

export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${what}: "${text}" is not HOST:PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`${what}: port ${port} is not 0..65535`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export const DEFAULT_METRICS_ADDRESS = { host: '127.0.0.1', port: 9475 } as const;

function metricsAddress(text: string | undefined): { host: string; port: number } | null {
  if (text === undefined) return { ...DEFAULT_METRICS_ADDRESS };
  if (text === 'off' || text === 'none') return null;
  return parseHostPort(text, '--metrics-address');
}

export function parseDaemonOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DaemonOptions {
  const raw = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h') { raw.set('help', true); continue; }
    if (a === '-V') { raw.set('version', true); continue; }
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}" (tsvs-vswitchd takes only options; see --help)`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    let value: string | true = eq < 0 ? true : a.slice(eq + 1);
    if (WITH_VALUE.has(name)) {
      if (value === true) {
        if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new UsageError(`option --${name} requires a value`);
        value = argv[++i];
      }
      if (value === '') throw new UsageError(`option --${name} requires a non-empty value`);
    } else if (FLAGS.has(name)) {
      if (value !== true) throw new UsageError(`option --${name} takes no value`);
    } else if (!OPTIONAL_VALUE.has(name)) {
      throw new UsageError(`unknown option "--${name}" (see --help)`);
    }
    raw.set(name, value);
  }
  const str = (k: string): string | undefined => {
    const v = raw.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const rundir = resolve(cwd, str('rundir') ?? (env['TSVS_RUNDIR'] || join('var', 'run')));
  const dbdir = resolve(cwd, str('dbdir') ?? (env['TSVS_DBDIR'] || join('var', 'db')));
  const levelText = str('log-level') ?? 'info';
  const logLevel = parseLogLevel(levelText);
  if (!logLevel) throw new UsageError(`--log-level: unknown level "${levelText}" (use off, emer, err, warn, info or dbg)`);
  const statsText = str('stats-interval') ?? '5000';
  const statsIntervalMs = Number(statsText);
  if (!/^\d+$/.test(statsText) || statsIntervalMs < 100) throw new UsageError(`--stats-interval: "${statsText}" is not a whole number of milliseconds >= 100`);
  const lf = raw.get('log-file');
  const pf = raw.get('pidfile');
  const detach = raw.has('detach');
  return {
    rundir,
    dbdir,
    metricsAddress: metricsAddress(str('metrics-address')),
    metricsAddressIsDefault: str('metrics-address') === undefined,
    logLevel,
    logFile: lf === undefined ? (detach ? join(rundir, 'tsvs-vswitchd.log') : null) : lf === true ? join(rundir, 'tsvs-vswitchd.log') : resolve(cwd, lf),
    detach,
    pidfile: typeof pf === 'string' ? resolve(cwd, pf) : join(rundir, 'tsvs-vswitchd.pid'),
    statsIntervalMs,
    internalDevices: !raw.has('no-internal-devices'),
    help: raw.has('help'),
    version: raw.has('version'),
  };
}
