// The os-ken OpenFlow switch test tool (the Ryu certification's tester) run
// against a switch under test: a private netns with three veth pairs, an
// isolated Open vSwitch tester bridge (userspace datapath, dpid 2), the
// tester app in osken-manager, and the target started inside the netns. The
// tester's output is parsed into per-file / per-category OK/ERROR counts and
// a summary file. Everything it starts or creates is removed again, also
// when a step fails.
//
//   rt-t1..3 (target ports 1..3)  <== veth ==>  rt-s1..3 (tester bridge ports 1..3)
//   both switches: controller tcp:127.0.0.1:PORT inside the netns
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';

export const SUITE_DIR = resolve(__dirname, 'of13');
const LAUNCHER = resolve(__dirname, 'tester_launch.py');
const PYTHON = '/usr/bin/python3'; // Debian's, the one with os_ken
const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const TESTER_DPID = '0000000000000002';
const TARGET_DPID = '0000000000000001';

export interface RigOptions {
  /** Files or directories relative to SUITE_DIR (e.g. 'action', 'match/00_IN_PORT.json'). */
  tests: string[];
  /** The target's argv; `{port}` is replaced by the controller port. Runs inside the netns. */
  targetCmd: string[];
  /** Seconds between a test's flow install and its packet (0 = stock tester). */
  settleSec?: number;
  /** Where <stamp>-<label>.{txt,json,log,target.log} go. */
  resultsDir: string;
  label?: string;
  /** Whole tester run limit. */
  timeoutMs?: number;
  /** Controller port inside the netns (its loopback is private, so any port works). */
  port?: number;
  /** Progress lines (setup steps, each finished case). */
  log?: (line: string) => void;
}

export interface CaseResult {
  file: string;
  category: string;
  description: string;
  result: 'OK' | 'ERROR' | 'NOT_RUN';
  detail?: string;
}

export interface CategoryCount {
  total: number;
  ok: number;
  error: number;
  notRun: number;
}

export interface RigSummary {
  cases: CaseResult[];
  categories: Record<string, CategoryCount>;
  files: Record<string, CategoryCount>;
  ok: number;
  total: number;
  wallSec: number;
  summaryPath: string;
  jsonPath: string;
  logPath: string;
}

interface SuiteFile {
  description: string;
  category: string;
  path: string;
  tests: string[];
}

/** The prerequisites a run needs; a reason string when one is missing. */
export function rigUnavailable(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (netns, veth, OVS)';
  for (const bin of ['ovsdb-tool', 'ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ip']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `missing ${bin} (openvswitch-switch / iproute2)`;
    }
  }
  if (!existsSync('/usr/bin/osken-manager') || !existsSync(SCHEMA)) return 'missing python3-os-ken or the OVS schema';
  try {
    execFileSync(PYTHON, ['-c', 'import os_ken.tests.switch.tester'], { stdio: 'ignore' });
  } catch {
    return 'os_ken.tests.switch.tester does not import';
  }
  return null;
}

/** Every JSON test file under `p` (a file or directory), walked like the tester does. */
function jsonFiles(p: string): string[] {
  if (statSync(p).isDirectory()) return readdirSync(p).sort().flatMap((n) => jsonFiles(join(p, n)));
  return p.endsWith('.json') ? [p] : [];
}

export function loadSuite(tests: string[]): SuiteFile[] {
  const out: SuiteFile[] = [];
  for (const t of tests) {
    const abs = resolve(SUITE_DIR, t);
    if (!abs.startsWith(SUITE_DIR) || !existsSync(abs)) throw new Error(`conformance: no test file or directory ${t} under ${SUITE_DIR}`);
    for (const path of jsonFiles(abs)) {
      const data = JSON.parse(readFileSync(path, 'utf8')) as unknown[];
      const description = data.find((x): x is string => typeof x === 'string') ?? basename(path);
      const tests = data.filter((x) => typeof x !== 'string').map((x) => String((x as { description?: string }).description));
      out.push({ description, category: description.split(/[:\s]/, 1)[0]!, path, tests });
    }
  }
  return out;
}

const RESULT_RE = /^ {4}(\S.*?) (OK|ERROR)\s*$/;
const DETAIL_RE = /^ {8}(\S.*?)\s*$/;

/**
 * Maps the tester's output onto the suite's cases. The tester prints a file's
 * description line before its first case, then one "    <desc> OK|ERROR"
 * line per case in JSON order, an ERROR followed by "        <reason>".
 */
export function parseTesterOutput(output: string, suite: SuiteFile[]): CaseResult[] {
  const byDesc = new Map(suite.map((f) => [f.description, f]));
  const got = new Map<string, CaseResult[]>();
  let cur: SuiteFile | undefined;
  let last: CaseResult | undefined;
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r/g, '').replace(/^\.+/, ''); // throughput cases print progress dots
    if (line.startsWith('--- Test report ---')) break;
    const f = byDesc.get(line.trim());
    if (f !== undefined) {
      cur = f;
      got.set(f.description, []);
      last = undefined;
      continue;
    }
    const m = RESULT_RE.exec(line);
    if (m !== null && cur !== undefined) {
      const list = got.get(cur.description)!;
      last = { file: relative(SUITE_DIR, cur.path), category: cur.category, description: m[1]!.trimEnd(), result: m[2] as 'OK' | 'ERROR' };
      list.push(last);
      continue;
    }
    const d = DETAIL_RE.exec(line);
    if (d !== null && last !== undefined && last.result === 'ERROR' && last.detail === undefined) last.detail = d[1];
  }
  const cases: CaseResult[] = [];
  for (const f of suite) {
    const list = got.get(f.description) ?? [];
    f.tests.forEach((description, i) => {
      cases.push(list[i] ?? { file: relative(SUITE_DIR, f.path), category: f.category, description, result: 'NOT_RUN' });
    });
  }
  return cases;
}

function count(cases: CaseResult[], key: (c: CaseResult) => string): Record<string, CategoryCount> {
  const out: Record<string, CategoryCount> = {};
  for (const c of cases) {
    const k = key(c);
    const n = (out[k] ??= { total: 0, ok: 0, error: 0, notRun: 0 });
    n.total++;
    if (c.result === 'OK') n.ok++;
    else if (c.result === 'ERROR') n.error++;
    else n.notRun++;
  }
  return out;
}

export function formatSummary(cases: CaseResult[], meta: Record<string, string>): string {
  const cats = count(cases, (c) => c.category);
  const files = count(cases, (c) => c.file);
  const ok = cases.filter((c) => c.result === 'OK').length;
  const lines = ['os-ken switch test tool (OpenFlow 1.3) against tsvs', ''];
  for (const [k, v] of Object.entries(meta)) lines.push(`${(k + ':').padEnd(16)}${v}`);
  lines.push('', 'category      total     OK  ERROR  NOT_RUN');
  for (const [k, n] of Object.entries(cats)) {
    lines.push(`${k.padEnd(12)}${String(n.total).padStart(7)}${String(n.ok).padStart(7)}${String(n.error).padStart(7)}${String(n.notRun).padStart(9)}`);
  }
  lines.push('', 'per file: OK/total');
  for (const [k, n] of Object.entries(files)) lines.push(`  ${k.padEnd(52)}${`${n.ok}/${n.total}`.padStart(7)}${n.ok < n.total ? '   <--' : ''}`);
  const bad = cases.filter((c) => c.result !== 'OK');
  lines.push('', `not OK (${bad.length})`);
  let file = '';
  for (const c of bad) {
    if (c.file !== file) lines.push(`  [${(file = c.file)}]`);
    lines.push(`    ${c.result.padEnd(8)}${c.description}`);
    if (c.detail !== undefined) lines.push(`            ${c.detail}`);
  }
  lines.push('', `PASS ${ok} / TOTAL ${cases.length}`);
  return lines.join('\n') + '\n';
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, env: env ?? process.env });
}

function killPidFile(path: string): void {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (pid > 1) process.kill(pid, 'SIGTERM');
  } catch {
    /* not started or already gone */
  }
}

/** Stops a child started with detached: true (its own process group), SIGKILL after 5 s. */
async function stopGroup(p: ChildProcess | undefined): Promise<void> {
  if (p === undefined || p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  try {
    process.kill(-p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 5000);
  await gone;
  clearTimeout(t);
}

export async function runConformance(opts: RigOptions): Promise<RigSummary> {
  const log = opts.log ?? (() => {});
  const suite = loadSuite(opts.tests);
  if (suite.length === 0) throw new Error(`conformance: no JSON test files in ${opts.tests.join(',')}`);
  const port = opts.port ?? 6653;
  const label = opts.label ?? 'tsvs';
  const tag = `tsvsconf${randomBytes(3).toString('hex')}`;
  const ns = tag;
  const work = mkdtempSync(join(tmpdir(), `${tag}-`));
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  mkdirSync(opts.resultsDir, { recursive: true });
  const base = join(opts.resultsDir, `${stamp}-${label}`);
  const ovsEnv = { ...process.env, OVS_RUNDIR: work, OVS_DBDIR: work, OVS_LOGDIR: work, OVS_SYSCONFDIR: work };
  const nsx = (cmd: string, ...args: string[]): string => run('ip', ['netns', 'exec', ns, cmd, ...args], ovsEnv);
  let tester: ChildProcess | undefined;
  let target: ChildProcess | undefined;
  let nsMade = false;
  // Interrupted (Ctrl-C, vitest killed): the finally below never runs, so tear down synchronously here.
  const onSignal = (sig: NodeJS.Signals): void => {
    for (const p of [target, tester]) {
      try {
        if (p?.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    killPidFile(join(work, 'ovs-vswitchd.pid'));
    killPidFile(join(work, 'ovsdb-server.pid'));
    try {
      if (nsMade) run('ip', ['netns', 'del', ns]);
    } catch {
      /* gone */
    }
    rmSync(work, { recursive: true, force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = Date.now();
  let output = '';
  let status = 'finished';
  try {
    // The tester takes one path: a directory of links to the selected files.
    const testsDir = join(work, 'tests');
    mkdirSync(testsDir);
    suite.forEach((f, i) => symlinkSync(f.path, join(testsDir, `${String(i).padStart(3, '0')}_${basename(f.path)}`)));

    run('ip', ['netns', 'add', ns]);
    nsMade = true;
    nsx('ip', 'link', 'set', 'lo', 'up');
    // No IPv6 on the links: router solicitations / MLD would reach the tester as unexpected packets.
    nsx('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    for (const k of [1, 2, 3]) {
      run('ip', ['-n', ns, 'link', 'add', `rt-s${k}`, 'type', 'veth', 'peer', 'name', `rt-t${k}`]);
      run('ip', ['-n', ns, 'link', 'set', `rt-s${k}`, 'up']);
      run('ip', ['-n', ns, 'link', 'set', `rt-t${k}`, 'up']);
    }
    log(`netns ${ns}: veths rt-s1..3 <-> rt-t1..3`);

    // OVS's userspace datapath owns one "ovs-netdev" tap per netns: ours lives in ours.
    run('ovsdb-tool', ['create', join(work, 'conf.db'), SCHEMA], ovsEnv);
    nsx('ovsdb-server', join(work, 'conf.db'), `--remote=punix:${join(work, 'db.sock')}`, `--unixctl=${join(work, 'ovsdb-server.ctl')}`,
      `--pidfile=${join(work, 'ovsdb-server.pid')}`, `--log-file=${join(work, 'ovsdb-server.log')}`, '--detach', '--no-chdir');
    const vsctl = (...args: string[]): string => run('ovs-vsctl', [`--db=unix:${join(work, 'db.sock')}`, '--timeout=30', ...args], ovsEnv);
    vsctl('--no-wait', 'init');
    nsx('ovs-vswitchd', `unix:${join(work, 'db.sock')}`, `--unixctl=${join(work, 'ovs-vswitchd.ctl')}`, `--pidfile=${join(work, 'ovs-vswitchd.pid')}`,
      `--log-file=${join(work, 'ovs-vswitchd.log')}`, '--detach', '--no-chdir');
    vsctl('add-br', 'rt-tester', '--', 'set', 'bridge', 'rt-tester', 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail_mode=secure',
      `other-config:datapath-id=${TESTER_DPID}`, 'other-config:disable-in-band=true',
      '--', '--id=@c', 'create', 'controller', `target="tcp:127.0.0.1:${port}"`, 'connection_mode=out-of-band', 'max_backoff=1000',
      '--', 'set', 'bridge', 'rt-tester', 'controller=@c',
      ...[1, 2, 3].flatMap((k) => ['--', 'add-port', 'rt-tester', `rt-s${k}`, '--', 'set', 'interface', `rt-s${k}`, `ofport_request=${k}`]));
    log('OVS tester bridge rt-tester (dpid 2, netdev) up');

    tester = spawn('ip', ['netns', 'exec', ns, PYTHON, LAUNCHER, '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port),
      '--test-switch-target', TARGET_DPID, '--test-switch-tester', TESTER_DPID,
      '--test-switch-target-version', 'openflow13', '--test-switch-tester-version', 'openflow13',
      '--test-switch-dir', testsDir, 'os_ken.tests.switch.tester'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', TSVS_CONF_SETTLE_SEC: String(opts.settleSec ?? 0) },
    });
    const exited = new Promise<void>((r) => tester!.once('exit', () => r()));
    const onOut = (d: Buffer): void => {
      const s = d.toString();
      output += s;
      for (const l of s.split('\n')) if (RESULT_RE.test(l.replace(/^\.+/, ''))) log(l.trim().replace(/\s+(OK|ERROR)$/, '  $1'));
    };
    tester.stdout!.on('data', onOut);
    tester.stderr!.on('data', onOut);

    const targetArgs = opts.targetCmd.map((a) => a.replaceAll('{port}', String(port)));
    const targetLog: string[] = [];
    target = spawn('ip', ['netns', 'exec', ns, ...targetArgs], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    target.stdout!.on('data', (d: Buffer) => targetLog.push(d.toString()));
    target.stderr!.on('data', (d: Buffer) => targetLog.push(d.toString()));
    log(`tester and target started (${targetArgs.join(' ')})`);

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((r) => (timer = setTimeout(r, opts.timeoutMs ?? 3_600_000)));
    await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (tester.exitCode === null && tester.signalCode === null) status = `timeout after ${opts.timeoutMs} ms`;
    writeFileSync(`${base}.target.log`, targetLog.join(''));
  } catch (e) {
    status = `setup failed: ${(e as Error).message}`;
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopGroup(target);
    await stopGroup(tester);
    killPidFile(join(work, 'ovs-vswitchd.pid'));
    killPidFile(join(work, 'ovsdb-server.pid'));
    if (nsMade) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        /* gone */
      }
    }
    writeFileSync(`${base}.log`, output);
    rmSync(work, { recursive: true, force: true });
  }
  const wallSec = Math.round((Date.now() - t0) / 1000);
  const cases = parseTesterOutput(output, suite);
  const meta = {
    label,
    'date (UTC)': stamp,
    target: opts.targetCmd.join(' '),
    tests: opts.tests.join(','),
    settle: `${opts.settleSec ?? 0} s`,
    status,
    'wall time': `${wallSec} s`,
  };
  const summaryPath = `${base}.txt`;
  const jsonPath = `${base}.json`;
  writeFileSync(summaryPath, formatSummary(cases, meta));
  writeFileSync(jsonPath, JSON.stringify({ meta, cases }, null, 1));
  return {
    cases,
    categories: count(cases, (c) => c.category),
    files: count(cases, (c) => c.file),
    ok: cases.filter((c) => c.result === 'OK').length,
    total: cases.length,
    wallSec,
    summaryPath,
    jsonPath,
    logPath: `${base}.log`,
  };
}
