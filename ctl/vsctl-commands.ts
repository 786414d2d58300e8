// tsvs-vsctl's command line and commands (ovs-vsctl syntax): splitting argv
// into global options and `--`-separated commands with their own options, and
// running each command against the invocation's VsctlTxn. Commands only read
// and change the txn; the caller commits it and prints the outputs.

import type { RpcColumn } from '../vswitchd/rpc/rpc-schema.js';
import type { CRow, VsctlTxn } from './vsctl-txn.js';
import {
  compareAtoms, datumIsEmpty, datumJson, datumsEqual, formatAtom, formatDatum, parseAtom, parseDatum,
  VsctlError, type Atom, type CDatum,
} from './vsctl-values.js';

export interface GlobalOptions {
  noWait: boolean;
  timeoutSec: number;
  format: 'list' | 'table' | 'json' | 'bare';
  /** Each command's output on one line, newlines and backslashes escaped. */
  oneline: boolean;
  rundir: string | null;
  /** --db=unix:PATH: the daemon's socket itself. */
  db: string | null;
  dryRun: boolean;
  help: boolean;
  version: boolean;
}

export interface Command {
  name: string;
  args: string[];
  options: Map<string, string | true>;
}

interface CommandSpec {
  min: number;
  max: number;
  options: string[];
  /** Only reads (no transaction needed beyond the snapshot). */
  readOnly?: boolean;
}

const SPECS: Record<string, CommandSpec> = {
  init: { min: 0, max: 0, options: [] },
  show: { min: 0, max: 0, options: [], readOnly: true },
  'add-br': { min: 1, max: 3, options: ['--may-exist'] },
  'del-br': { min: 1, max: 1, options: ['--if-exists'] },
  'list-br': { min: 0, max: 0, options: ['--real', '--fake'], readOnly: true },
  'br-exists': { min: 1, max: 1, options: [], readOnly: true },
  'list-ports': { min: 1, max: 1, options: [], readOnly: true },
  'add-port': { min: 2, max: Infinity, options: ['--may-exist'] },
  'add-bond': { min: 4, max: Infinity, options: ['--may-exist', '--fake-iface', '--lacp'] },
  'del-port': { min: 1, max: 2, options: ['--if-exists', '--with-iface'] },
  'port-to-br': { min: 1, max: 1, options: [], readOnly: true },
  'iface-to-br': { min: 1, max: 1, options: [], readOnly: true },
  'list-ifaces': { min: 1, max: 1, options: [], readOnly: true },
  'get-controller': { min: 1, max: 1, options: [], readOnly: true },
  'del-controller': { min: 1, max: 1, options: [] },
  'set-controller': { min: 1, max: Infinity, options: [] },
  'get-fail-mode': { min: 1, max: 1, options: [], readOnly: true },
  'del-fail-mode': { min: 1, max: 1, options: [] },
  'set-fail-mode': { min: 2, max: 2, options: [] },
  'br-set-external-id': { min: 2, max: 3, options: [] },
  'br-get-external-id': { min: 1, max: 2, options: [], readOnly: true },
  'get-manager': { min: 0, max: 0, options: [], readOnly: true },
  'del-manager': { min: 0, max: 0, options: [] },
  'set-manager': { min: 1, max: Infinity, options: [] },
  comment: { min: 0, max: Infinity, options: [] },
  list: { min: 1, max: Infinity, options: ['--if-exists', '--columns'], readOnly: true },
  find: { min: 1, max: Infinity, options: ['--columns'], readOnly: true },
  get: { min: 3, max: Infinity, options: ['--if-exists', '--id'], readOnly: true },
  set: { min: 3, max: Infinity, options: ['--if-exists'] },
  add: { min: 4, max: Infinity, options: ['--if-exists'] },
  remove: { min: 4, max: Infinity, options: ['--if-exists'] },
  clear: { min: 3, max: Infinity, options: ['--if-exists'] },
  create: { min: 1, max: Infinity, options: ['--id'] },
  destroy: { min: 1, max: Infinity, options: ['--if-exists', '--all'] },
  'wait-until': { min: 2, max: Infinity, options: [], readOnly: true },
};

/** wait-until's condition does not hold yet: run the whole invocation again on a newer snapshot. */
export class WaitRetry extends Error {
  constructor() {
    super('wait-until: condition does not hold yet');
  }
}

const GLOBAL_VALUE = new Set(['--timeout', '--format', '--rundir', '--db', '-t']);
const GLOBAL_FLAG = new Set(['--no-wait', '--wait', '--dry-run', '--help', '-h', '--version', '-V', '--oneline', '--bare', '--no-syslog', '-v', '--verbose']);

export function parseCommandLine(argv: readonly string[]): { global: GlobalOptions; commands: Command[] } {
  const global: GlobalOptions = { noWait: false, timeoutSec: 0, format: 'list', oneline: false, rundir: null, db: null, dryRun: false, help: false, version: false };
  const commands: Command[] = [];
  let local = new Map<string, string | true>();
  let i = 0;
  let first = true;
  while (i <= argv.length) {
    // Options, then a command name, then its args up to the next "--".
    while (i < argv.length && argv[i].startsWith('-') && argv[i] !== '--') {
      const a = argv[i++];
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      let value: string | true = eq < 0 ? true : a.slice(eq + 1);
      if (GLOBAL_VALUE.has(name)) {
        if (!first) throw new VsctlError(`${name}: option is global and must come before the first command`);
        if (value === true) {
          if (i >= argv.length) throw new VsctlError(`option '${name}' requires an argument`);
          value = argv[i++];
        }
        applyGlobal(global, name, value);
      } else if (GLOBAL_FLAG.has(name) && first) {
        applyGlobal(global, name, value);
      } else if (name.startsWith('--')) {
        if (local.has(name)) throw new VsctlError(`'${name}' option specified multiple times`);
        local.set(name, value);
      } else throw new VsctlError(`unrecognized option '${a}'`);
    }
    first = false;
    if (i >= argv.length) {
      if (local.size > 0) throw new VsctlError(`missing command name (use --help for help)`);
      break;
    }
    if (argv[i] === '--') {
      if (local.size > 0) throw new VsctlError(`missing command name (use --help for help)`);
      i++;
      continue;
    }
    const name = argv[i++];
    const args: string[] = [];
    while (i < argv.length && argv[i] !== '--') args.push(argv[i++]);
    const spec = SPECS[name];
    if (!spec) throw new VsctlError(`unknown command '${name}'; use --help for help`);
    if (args.length < spec.min) throw new VsctlError(`'${name}' command requires at least ${spec.min} arguments`);
    if (args.length > spec.max) throw new VsctlError(`'${name}' command takes at most ${spec.max} arguments`);
    for (const o of local.keys()) if (!spec.options.includes(o)) throw new VsctlError(`'${name}' command has no '${o}' option`);
    commands.push({ name, args, options: local });
    local = new Map();
    if (i < argv.length && argv[i] === '--') i++;
    else break;
  }
  if (commands.length === 0 && !global.help && !global.version) throw new VsctlError('missing command name (use --help for help)');
  return { global, commands };
}

function applyGlobal(g: GlobalOptions, name: string, value: string | true): void {
  switch (name) {
    case '--no-wait': g.noWait = true; break;
    case '--wait': g.noWait = false; break;
    case '--dry-run': g.dryRun = true; break;
    case '--help': case '-h': g.help = true; break;
    case '--version': case '-V': g.version = true; break;
    case '--bare': g.format = 'bare'; break;
    case '--oneline': g.oneline = true; break;
    case '--no-syslog': case '-v': case '--verbose': break;
    case '--db':
      if (typeof value !== 'string' || !value.startsWith('unix:') || value.length === 5) throw new VsctlError(`--db: "${String(value)}": tsvs-vsctl talks to tsvs-vswitchd over unix:PATH only`);
      g.db = value.slice(5);
      break;
    case '--timeout': case '-t': {
      if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new VsctlError(`value ${String(value)} on -t or --timeout is invalid`);
      g.timeoutSec = Number(value);
      break;
    }
    case '--format': {
      if (value !== 'table' && value !== 'json' && value !== 'list' && value !== 'bare') throw new VsctlError(`unknown output format "${String(value)}" (use list, table, json or bare)`);
      g.format = value;
      break;
    }
    case '--rundir':
      if (typeof value !== 'string' || value === '') throw new VsctlError('--rundir requires a directory');
      g.rundir = value;
      break;
  }
}

export function isReadOnly(commands: readonly Command[]): boolean {
  return commands.every((c) => SPECS[c.name].readOnly === true);
}

/** A command's output ('' for none): text now, or text once the commit's uuids are known. */
export type Output = string | ((uuidOf: (placeholder: string) => string) => string);

export interface RunResult {
  outputs: Output[];
  /** Printed to stderr, the command still runs (ovs-vsctl's WARN lines). */
  warnings: string[];
  /** br-exists on a missing bridge: exit status 2. */
  exitCode: number;
}

// --- helpers on the vswitch tables ---------------------------------------------------

function str(r: CRow, c: string): string {
  const d = r.cols.get(c) as Atom[];
  return d.length ? String(d[0]) : '';
}
function refs(r: CRow, c: string): string[] {
  return r.cols.get(c) as string[];
}

class Ctx {
  readonly symbols = new Map<string, string>();
  constructor(
    readonly txn: VsctlTxn,
    readonly global: GlobalOptions,
  ) {}

  ovs(): CRow {
    const r = this.txn.list('Open_vSwitch')[0];
    if (!r) throw new VsctlError('database has no Open_vSwitch row (run "tsvs-vsctl init")');
    return r;
  }
  bridges(): CRow[] {
    return refs(this.ovs(), 'bridges').map((u) => this.txn.get('Bridge', u)!).filter(Boolean);
  }
  findBridge(name: string, must: boolean): CRow | undefined {
    const b = this.bridges().find((r) => str(r, 'name') === name);
    if (!b && must) throw new VsctlError(`no bridge named ${name}`);
    return b;
  }
  portsOf(br: CRow): CRow[] {
    return refs(br, 'ports').map((u) => this.txn.get('Port', u)!).filter(Boolean);
  }
  ifacesOf(p: CRow): CRow[] {
    return refs(p, 'interfaces').map((u) => this.txn.get('Interface', u)!).filter(Boolean);
  }
  findPort(name: string, must: boolean): { br: CRow; port: CRow } | undefined {
    for (const br of this.bridges()) for (const port of this.portsOf(br)) if (str(port, 'name') === name) return { br, port };
    if (must) throw new VsctlError(`no port named ${name}`);
    return undefined;
  }
  findIface(name: string, must: boolean): { br: CRow; port: CRow; iface: CRow } | undefined {
    for (const br of this.bridges()) {
      for (const port of this.portsOf(br)) for (const iface of this.ifacesOf(port)) if (str(iface, 'name') === name) return { br, port, iface };
    }
    if (must) throw new VsctlError(`no interface named ${name}`);
    return undefined;
  }
  resolveSymbol = (name: string): string => {
    const u = this.symbols.get(name);
    if (!u) throw new VsctlError(`row id "${name}" specified on "--id" is not defined`);
    return u;
  };
}

// --- table and record names (ovs-vsctl's vsctl_row_ids) ----------------------------

const ROW_IDS: Record<string, Array<{ table: string; name: string | null; uuidColumn: string | null }>> = {
  Open_vSwitch: [{ table: 'Open_vSwitch', name: null, uuidColumn: null }],
  Bridge: [{ table: 'Bridge', name: 'name', uuidColumn: null }],
  Port: [{ table: 'Port', name: 'name', uuidColumn: null }],
  Interface: [{ table: 'Interface', name: 'name', uuidColumn: null }],
  Controller: [{ table: 'Bridge', name: 'name', uuidColumn: 'controller' }],
  Manager: [{ table: 'Manager', name: 'target', uuidColumn: null }],
  Mirror: [{ table: 'Mirror', name: 'name', uuidColumn: null }],
  NetFlow: [{ table: 'Bridge', name: 'name', uuidColumn: 'netflow' }],
  sFlow: [{ table: 'Bridge', name: 'name', uuidColumn: 'sflow' }],
  IPFIX: [{ table: 'Bridge', name: 'name', uuidColumn: 'ipfix' }],
  QoS: [{ table: 'Port', name: 'name', uuidColumn: 'qos' }],
  Flow_Table: [{ table: 'Flow_Table', name: 'name', uuidColumn: null }],
  SSL: [{ table: 'Open_vSwitch', name: null, uuidColumn: 'ssl' }],
  AutoAttach: [{ table: 'Bridge', name: 'name', uuidColumn: 'auto_attach' }],
  Datapath: [{ table: 'Open_vSwitch', name: null, uuidColumn: 'datapaths' }],
};

export function resolveTable(txn: VsctlTxn, name: string): string {
  const names = Object.keys(txn.schema.tables);
  const exact = names.find((t) => t.toLowerCase() === name.toLowerCase());
  if (exact) return exact;
  const pre = names.filter((t) => t.toLowerCase().startsWith(name.toLowerCase()));
  if (pre.length === 1) return pre[0];
  if (pre.length > 1) throw new VsctlError(`multiple table names match "${name}"`);
  throw new VsctlError(`unknown table "${name}"`);
}

function resolveColumn(txn: VsctlTxn, table: string, name: string, allowUuid = true): string {
  const cols = Object.keys(txn.table(table).columns);
  if (name === '_uuid' && allowUuid) return name;
  const exact = cols.find((c) => c === name) ?? cols.find((c) => c.toLowerCase() === name.toLowerCase());
  if (exact) return exact;
  const pre = cols.filter((c) => c.startsWith(name));
  if (pre.length === 1) return pre[0];
  if (pre.length > 1) throw new VsctlError(`${table} contains more than one column whose name matches "${name}"`);
  throw new VsctlError(`${table} does not contain a column whose name matches "${name}"`);
}

function findRecord(ctx: Ctx, table: string, id: string, must: boolean): CRow | undefined {
  const txn = ctx.txn;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    const r = txn.get(table, id.toLowerCase());
    if (r) return r;
  }
  for (const rid of ROW_IDS[table] ?? []) {
    let referrer: CRow | undefined;
    if (rid.name === null) {
      if (id === '.') referrer = txn.list(rid.table)[0];
    } else {
      const matches = txn.list(rid.table).filter((r) => str(r, rid.name!) === id);
      if (matches.length > 1) throw new VsctlError(`multiple rows in ${rid.table} match "${id}"`);
      referrer = matches[0];
    }
    if (!referrer) continue;
    if (rid.uuidColumn === null) return referrer;
    // As in ovs-vsctl, only a reference to exactly one row names it (a bridge with two controllers names none).
    const us = referrer.cols.get(rid.uuidColumn) as string[];
    const r = us.length === 1 ? txn.get(table, us[0]) : undefined;
    if (r) return r;
  }
  if (must) throw new VsctlError(`no row "${id}" in table ${table}`);
  return undefined;
}

/** `column[:key]` then the rest. */
function splitColumnKey(arg: string): { column: string; key: string | null; rest: string } {
  const m = /^([^:=!<>{}]+)(?::((?:"(?:[^"\\]|\\.)*"|[^=!<>{}])+))?(.*)$/.exec(arg);
  if (!m) throw new VsctlError(`${arg}: syntax error: expected column name`);
  return { column: m[1], key: m[2] ?? null, rest: m[3] };
}

function columnValue(ctx: Ctx, row: CRow, col: string, cs: RpcColumn, key: string | null, ifExists: boolean, table: string, id: string): CDatum | null {
  if (col === '_uuid') return [row.uuid];
  const d = row.cols.get(col)!;
  if (key === null) return d;
  if (!(d instanceof Map)) throw new VsctlError(`cannot specify key to get for non-map column ${col}`);
  const k = parseAtom(key, cs.key, ctx.resolveSymbol);
  if (!d.has(k)) {
    if (ifExists) return null;
    throw new VsctlError(`no key "${key}" in ${table} record "${id}" column ${col}`);
  }
  return [d.get(k)!];
}

const UUID_COLUMN: RpcColumn = { key: { type: 'uuid' }, min: 1, max: 1, kind: 'scalar', mutable: false, ephemeral: false };

// --- output of list/find -------------------------------------------------------------

function formatRows(ctx: Ctx, table: string, rows: CRow[], columnsOpt: string | true | undefined): string {
  const ts = ctx.txn.table(table);
  const cols = typeof columnsOpt === 'string'
    ? columnsOpt.split(',').map((c) => resolveColumn(ctx.txn, table, c.trim()))
    : ['_uuid', ...Object.keys(ts.columns).sort()];
  const cell = (r: CRow, c: string): { text: string; json: unknown } => {
    const cs = c === '_uuid' ? UUID_COLUMN : ts.columns[c];
    const d = c === '_uuid' ? [r.uuid] : r.cols.get(c)!;
    return { text: formatDatum(d, cs, ctx.global.format === 'bare'), json: c === '_uuid' ? ['uuid', r.uuid] : datumJson(d, cs) };
  };
  switch (ctx.global.format) {
    case 'json':
      return JSON.stringify({ data: rows.map((r) => cols.map((c) => cell(r, c).json)), headings: cols }) + '\n';
    case 'table': {
      const data = rows.map((r) => cols.map((c) => cell(r, c).text));
      const w = cols.map((c, i) => Math.max(c.length, ...data.map((d) => d[i].length)));
      const line = (cells: string[]): string => cells.map((s, i) => (i === cells.length - 1 ? s : s.padEnd(w[i]))).join(' ') + '\n';
      return line(cols) + line(w.map((n) => '-'.repeat(n))) + data.map(line).join('');
    }
    case 'bare':
      return rows.map((r) => cols.map((c) => cell(r, c).text + '\n').join('')).join('\n');
    default:
      return rows.map((r) => cols.map((c) => `${c.padEnd(20)}: ${cell(r, c).text}\n`).join('')).join('\n');
  }
}

// --- find conditions -------------------------------------------------------------------

const RELOPS = ['{not-in}', '{in}', '{!=}', '{<=}', '{>=}', '{=}', '{<}', '{>}', '!=', '<=', '>=', '=', '<', '>'];

function evalCondition(ctx: Ctx, table: string, row: CRow, arg: string): boolean {
  const { column, key, rest } = splitColumnKey(arg);
  const op = RELOPS.find((o) => rest.startsWith(o));
  if (!op) {
    throw new VsctlError(`${column}: argument does not end in "=", "!=", "<", ">", "<=", ">=", "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}", "{in}", or "{not-in}" followed by a value.`);
  }
  const col = resolveColumn(ctx.txn, table, column);
  const cs = col === '_uuid' ? UUID_COLUMN : ctx.txn.column(table, col);
  const valueText = rest.slice(op.length);
  let have: CDatum;
  let want: CDatum;
  if (key !== null) {
    if (!cs.value) throw new VsctlError(`cannot specify key to check for non-map column ${col}`);
    const k = parseAtom(key, cs.key, ctx.resolveSymbol);
    const d = row.cols.get(col) as Map<Atom, Atom>;
    have = d.has(k) ? [d.get(k)!] : [];
    const vcol: RpcColumn = { key: cs.value, min: 0, max: null, kind: 'set', mutable: true, ephemeral: false };
    want = parseDatum(valueText, vcol, ctx.resolveSymbol);
  } else {
    have = col === '_uuid' ? [row.uuid] : row.cols.get(col)!;
    want = parseDatum(valueText, { ...cs, min: 0 }, ctx.resolveSymbol);
  }
  // OVSDB's 3-way datum comparison: element by element, then the shorter first.
  const cmp = (): number => {
    const a = have instanceof Map ? [...have].flat() : have;
    const b = want instanceof Map ? [...want].flat() : want;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareAtoms(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  };
  const items = (d: CDatum): string[] => (d instanceof Map ? [...d].map(([k, v]) => `${String(k)}=${String(v)}`) : d.map(String));
  const sub = (a: CDatum, b: CDatum): boolean => { const bs = new Set(items(b)); return items(a).every((x) => bs.has(x)); };
  switch (op) {
    case '=': case '{=}': return datumsEqual(have, want);
    case '!=': case '{!=}': return !datumsEqual(have, want);
    case '<': return cmp() < 0;
    case '>': return cmp() > 0;
    case '<=': return cmp() <= 0;
    case '>=': return cmp() >= 0;
    case '{<}': return sub(have, want) && !datumsEqual(have, want);
    case '{>}': return sub(want, have) && !datumsEqual(have, want);
    case '{<=}': case '{in}': return sub(have, want);
    case '{>=}': return sub(want, have);
    case '{not-in}': { const ws = new Set(items(want)); return items(have).every((x) => !ws.has(x)); }
  }
  return false;
}

// --- set/add/remove argument parsing ------------------------------------------------

/** A column set/add/remove/clear may change: not _uuid, not an immutable column of an existing row. */
function writableColumn(ctx: Ctx, table: string, row: CRow, name: string): string {
  const col = resolveColumn(ctx.txn, table, name, false);
  if (!ctx.txn.column(table, col).mutable && !ctx.txn.isNew(row.uuid)) throw new VsctlError(`cannot modify read-only column ${col} in table ${table}`);
  return col;
}

function setColumn(ctx: Ctx, table: string, row: CRow, arg: string): void {
  const { column, key, rest } = splitColumnKey(arg);
  if (!rest.startsWith('=')) throw new VsctlError(`${arg}: missing value`);
  const col = writableColumn(ctx, table, row, column);
  const cs = ctx.txn.column(table, col);
  const text = rest.slice(1);
  if (key !== null) {
    if (!cs.value) throw new VsctlError(`cannot specify key to set for non-map column ${col}`);
    const m = new Map(row.cols.get(col) as Map<Atom, Atom>);
    m.set(parseAtom(key, cs.key, ctx.resolveSymbol), parseAtom(text, cs.value, ctx.resolveSymbol));
    ctx.txn.set(row, col, m);
  } else {
    const d = parseDatum(text, cs, ctx.resolveSymbol);
    checkSize(d, cs, col);
    ctx.txn.set(row, col, d);
  }
}

function checkSize(d: CDatum, cs: RpcColumn, col: string): void {
  const n = d instanceof Map ? d.size : d.length;
  if (n < cs.min) throw new VsctlError(`"${col}" requires at least ${cs.min} value${cs.min > 1 ? 's' : ''}`);
  if (cs.max !== null && n > cs.max) throw new VsctlError(`"${col}" accepts at most ${cs.max} value${cs.max > 1 ? 's' : ''} (got ${n})`);
}

// --- the commands ------------------------------------------------------------------

/** ovs-vsctl's check_conflicts: no bridge, port or interface may already have `name`. */
function checkConflicts(ctx: Ctx, name: string, what: string): void {
  if (ctx.findBridge(name, false)) throw new VsctlError(`${what} because a bridge named ${name} already exists`);
  const p = ctx.findPort(name, false);
  if (p) throw new VsctlError(`${what} because a port named ${name} already exists on bridge ${str(p.br, 'name')}`);
  const i = ctx.findIface(name, false);
  if (i) throw new VsctlError(`${what} because an interface named ${name} already exists on bridge ${str(i.br, 'name')}`);
}

function addInterfaces(ctx: Ctx, br: CRow, portName: string, ifaceNames: string[], settings: string[], mayExist: boolean, fakeIface: boolean): void {
  const txn = ctx.txn;
  const existing = ctx.findPort(portName, false);
  if (existing) {
    if (mayExist) {
      if (existing.br.uuid !== br.uuid) throw new VsctlError(`"--may-exist add-port ${str(br, 'name')} ${portName}" but ${portName} is actually attached to bridge ${str(existing.br, 'name')}`);
      const have = ctx.ifacesOf(existing.port).map((i) => str(i, 'name')).sort();
      const want = [...ifaceNames].sort();
      if (have.join(',') !== want.join(',')) {
        const cmd = fakeIface || ifaceNames.length > 1 || ifaceNames[0] !== portName ? `add-bond ${str(br, 'name')} ${portName} ${ifaceNames.join(' ')}` : `add-port ${str(br, 'name')} ${portName}`;
        throw new VsctlError(`"--may-exist ${cmd}" but ${portName} actually has interface(s) ${have.join(', ')}`);
      }
      return;
    }
  }
  checkConflicts(ctx, portName, `cannot create a port named ${portName}`);
  for (const n of ifaceNames) if (n !== portName) checkConflicts(ctx, n, `cannot create an interface named ${n}`);
  const ifaces = ifaceNames.map((n) => txn.insert('Interface', new Map([['name', [n]]])));
  const port = txn.insert('Port', new Map<string, CDatum>([['name', [portName]], ['interfaces', ifaces.map((i) => i.uuid)]]));
  if (fakeIface) txn.set(port, 'bond_fake_iface', [true]);
  for (const s of settings) setColumn(ctx, 'Port', port, s);
  txn.addTo(br, 'ports', [port.uuid]);
}

function deletePort(ctx: Ctx, br: CRow, port: CRow): void {
  for (const i of ctx.ifacesOf(port)) ctx.txn.delete(i);
  ctx.txn.removeFrom(br, 'ports', (u) => u === port.uuid);
  ctx.txn.delete(port);
}

/** `warnings` collects ovs-vsctl-style warnings, also when a command then fails. */
export function runCommands(txn: VsctlTxn, global: GlobalOptions, commands: readonly Command[], warnings: string[] = []): RunResult {
  const ctx = new Ctx(txn, global);
  const outputs: Output[] = [];
  let exitCode = 0;
  // --id=@name symbols are visible to every command, also ones before the defining create.
  for (const c of commands) {
    const id = c.options.get('--id');
    if (id !== undefined && c.name === 'create') {
      if (typeof id !== 'string' || !id.startsWith('@')) throw new VsctlError(`row id "${String(id)}" does not begin with "@"`);
      if (ctx.symbols.has(id)) throw new VsctlError(`row id "${id}" may only be specified on one --id option`);
      ctx.symbols.set(id, ''); // filled by create
    }
  }
  const pending = new Map<string, CRow>();
  for (const c of commands) {
    if (c.name !== 'create') continue;
    const id = c.options.get('--id');
    const table = resolveTable(txn, c.args[0]);
    if (id === undefined && !txn.table(table).isRoot) warnings.push(`applying "create" command to table ${table} without --id option will have no effect`);
    const row = txn.insert(table);
    pending.set(commandKey(c), row);
    if (typeof id === 'string') ctx.symbols.set(id, row.uuid);
  }
  for (const c of commands) {
    const out = runOne(ctx, c, pending);
    if (out === 2) exitCode = 2;
    outputs.push(out === null || out === 2 ? '' : out); // one per command, for --oneline
  }
  return { outputs, warnings, exitCode };
}

const keys = new WeakMap<Command, string>();
let keySeq = 0;
function commandKey(c: Command): string {
  let k = keys.get(c);
  if (!k) keys.set(c, (k = String(++keySeq)));
  return k;
}

function runOne(ctx: Ctx, c: Command, pending: Map<string, CRow>): Output | null | 2 {
  const txn = ctx.txn;
  const a = c.args;
  const has = (o: string): boolean => c.options.has(o);
  switch (c.name) {
    case 'init':
      if (txn.list('Open_vSwitch').length === 0) txn.insert('Open_vSwitch');
      return null;
    case 'show':
      return showText(ctx);
    case 'add-br': {
      if (a.length === 2) throw new VsctlError("'add-br' command takes exactly 1 or 3 arguments");
      if (a.length === 3) throw new VsctlError('fake bridges (add-br BRIDGE PARENT VLAN) are not supported by tsvs');
      const name = a[0];
      if (ctx.findBridge(name, false) && has('--may-exist')) return null;
      checkConflicts(ctx, name, `cannot create a bridge named ${name}`);
      const iface = txn.insert('Interface', new Map<string, CDatum>([['name', [name]], ['type', ['internal']]]));
      const port = txn.insert('Port', new Map<string, CDatum>([['name', [name]], ['interfaces', [iface.uuid]]]));
      const br = txn.insert('Bridge', new Map<string, CDatum>([['name', [name]], ['ports', [port.uuid]]]));
      txn.addTo(ctx.ovs(), 'bridges', [br.uuid]);
      return null;
    }
    case 'del-br': {
      const br = ctx.findBridge(a[0], !has('--if-exists'));
      if (!br) return null;
      for (const p of ctx.portsOf(br)) deletePort(ctx, br, p);
      txn.removeFrom(ctx.ovs(), 'bridges', (u) => u === br.uuid);
      txn.delete(br);
      return null;
    }
    case 'list-br':
      return lines(ctx.bridges().map((b) => str(b, 'name')).sort());
    case 'br-exists':
      return ctx.findBridge(a[0], false) ? null : 2;
    case 'list-ports': {
      const br = ctx.findBridge(a[0], true)!;
      return lines(ctx.portsOf(br).map((p) => str(p, 'name')).filter((n) => n !== a[0]).sort());
    }
    case 'list-ifaces': {
      const br = ctx.findBridge(a[0], true)!;
      return lines(ctx.portsOf(br).flatMap((p) => ctx.ifacesOf(p).map((i) => str(i, 'name'))).filter((n) => n !== a[0]).sort());
    }
    case 'add-port': {
      const br = ctx.findBridge(a[0], true)!;
      addInterfaces(ctx, br, a[1], [a[1]], a.slice(2), has('--may-exist'), false);
      return null;
    }
    case 'add-bond': {
      const br = ctx.findBridge(a[0], true)!;
      const rest = a.slice(2);
      const split = rest.findIndex((x) => x.includes('='));
      const ifaces = split < 0 ? rest : rest.slice(0, split);
      const settings = split < 0 ? [] : rest.slice(split);
      if (ifaces.length < 2) throw new VsctlError('add-bond requires at least 2 interfaces');
      addInterfaces(ctx, br, a[1], ifaces, settings, has('--may-exist'), has('--fake-iface'));
      return null;
    }
    case 'del-port': {
      const portName = a[a.length - 1];
      const found = has('--with-iface') ? (ctx.findPort(portName, false) ?? (() => { const i = ctx.findIface(portName, false); return i ? { br: i.br, port: i.port } : undefined; })()) : ctx.findPort(portName, false);
      if (!found) {
        if (a.length === 2) ctx.findBridge(a[0], true);
        if (has('--if-exists')) return null;
        throw new VsctlError(`no port named ${portName}`);
      }
      if (a.length === 2) {
        const br = ctx.findBridge(a[0], true)!;
        if (br.uuid !== found.br.uuid) throw new VsctlError(`bridge ${a[0]} does not have a port ${portName} (although its parent bridge ${str(found.br, 'name')} does)`.replace(/ \(although.*\)/, ''));
      }
      deletePort(ctx, found.br, found.port);
      return null;
    }
    case 'port-to-br':
      return lines([str(ctx.findPort(a[0], true)!.br, 'name')]);
    case 'iface-to-br':
      return lines([str(ctx.findIface(a[0], true)!.br, 'name')]);
    case 'get-controller': {
      const br = ctx.findBridge(a[0], true)!;
      return lines(refs(br, 'controller').map((u) => str(txn.get('Controller', u)!, 'target')).sort());
    }
    case 'del-controller': {
      const br = ctx.findBridge(a[0], true)!;
      for (const u of refs(br, 'controller')) txn.delete(txn.get('Controller', u)!);
      txn.set(br, 'controller', []);
      return null;
    }
    case 'set-controller': {
      const br = ctx.findBridge(a[0], true)!;
      for (const u of refs(br, 'controller')) txn.delete(txn.get('Controller', u)!);
      const cs = a.slice(1).map((t) => txn.insert('Controller', new Map([['target', [t]]])));
      txn.set(br, 'controller', cs.map((r) => r.uuid));
      return null;
    }
    case 'get-fail-mode': {
      const br = ctx.findBridge(a[0], true)!;
      const m = str(br, 'fail_mode');
      return m ? lines([m]) : null;
    }
    case 'del-fail-mode':
      txn.set(ctx.findBridge(a[0], true)!, 'fail_mode', []);
      return null;
    case 'set-fail-mode': {
      const br = ctx.findBridge(a[0], true)!;
      if (a[1] !== 'standalone' && a[1] !== 'secure') throw new VsctlError('fail-mode must be "standalone" or "secure"');
      txn.set(br, 'fail_mode', [a[1]]);
      return null;
    }
    case 'br-set-external-id': {
      const br = ctx.findBridge(a[0], true)!;
      const m = new Map(br.cols.get('external_ids') as Map<Atom, Atom>);
      if (a.length === 3) m.set(a[1], a[2]);
      else m.delete(a[1]);
      txn.set(br, 'external_ids', m);
      return null;
    }
    case 'br-get-external-id': {
      const m = ctx.findBridge(a[0], true)!.cols.get('external_ids') as Map<Atom, Atom>;
      if (a.length === 2) return m.has(a[1]) ? lines([String(m.get(a[1]))]) : null;
      return lines([...m].map(([k, v]) => `${String(k)}=${String(v)}`).sort());
    }
    case 'get-manager':
      return lines(refs(ctx.ovs(), 'manager_options').map((u) => str(txn.get('Manager', u)!, 'target')).sort());
    case 'del-manager':
    case 'set-manager': {
      const ovs = ctx.ovs();
      for (const u of refs(ovs, 'manager_options')) txn.delete(txn.get('Manager', u)!);
      const ms = c.name === 'set-manager' ? a.map((t) => txn.insert('Manager', new Map([['target', [t]]]))) : [];
      txn.set(ovs, 'manager_options', ms.map((r) => r.uuid));
      return null;
    }
    case 'comment':
      txn.comments.push(a.join(' '));
      return null;
    case 'list': {
      const table = resolveTable(txn, a[0]);
      const rows = a.length === 1 ? txn.list(table) : a.slice(1).map((id) => findRecord(ctx, table, id, !has('--if-exists'))).filter((r): r is CRow => r !== undefined);
      return rows.length ? formatRows(ctx, table, rows, c.options.get('--columns')) : ctx.global.format === 'json' || ctx.global.format === 'table' ? formatRows(ctx, table, [], c.options.get('--columns')) : null;
    }
    case 'find': {
      const table = resolveTable(txn, a[0]);
      const rows = txn.list(table).filter((r) => a.slice(1).every((cond) => evalCondition(ctx, table, r, cond)));
      return rows.length ? formatRows(ctx, table, rows, c.options.get('--columns')) : ctx.global.format === 'json' || ctx.global.format === 'table' ? formatRows(ctx, table, [], c.options.get('--columns')) : null;
    }
    case 'get': {
      const table = resolveTable(txn, a[0]);
      const row = findRecord(ctx, table, a[1], !has('--if-exists'));
      if (!row) return null;
      const out: string[] = [];
      for (const spec of a.slice(2)) {
        const { column, key, rest } = splitColumnKey(spec);
        if (rest !== '') throw new VsctlError(`${spec}: trailing garbage "${rest}" in argument`);
        const col = resolveColumn(txn, table, column);
        const cs = col === '_uuid' ? UUID_COLUMN : txn.column(table, col);
        const d = columnValue(ctx, row, col, cs, key, has('--if-exists'), table, a[1]);
        if (d === null) continue;
        out.push(key !== null ? formatAtom((d as Atom[])[0], cs.value!, ctx.global.format === 'bare') : formatDatum(d, cs, ctx.global.format === 'bare'));
      }
      return lines(out);
    }
    case 'set': {
      const table = resolveTable(txn, a[0]);
      const row = findRecord(ctx, table, a[1], !has('--if-exists'));
      if (!row) return null;
      for (const s of a.slice(2)) setColumn(ctx, table, row, s);
      return null;
    }
    case 'add':
    case 'remove': {
      const table = resolveTable(txn, a[0]);
      const row = findRecord(ctx, table, a[1], !has('--if-exists'));
      if (!row) return null;
      const col = writableColumn(ctx, table, row, a[2]);
      const cs = txn.column(table, col);
      for (const v of a.slice(3)) {
        if (c.name === 'add') {
          const d = parseDatum(v, { ...cs, max: null }, ctx.resolveSymbol);
          txn.addTo(row, col, d);
        } else if (cs.value) {
          // remove: KEY=VALUE pairs, or bare KEYs.
          let d: CDatum;
          try {
            d = parseDatum(v, cs, ctx.resolveSymbol);
          } catch {
            d = parseDatum(v, { ...cs, value: undefined, max: null }, ctx.resolveSymbol);
          }
          if (d instanceof Map) txn.removeFrom(row, col, (k, val) => d.has(k) && (d as Map<Atom, Atom>).get(k) === val);
          else txn.removeFrom(row, col, (k) => (d as Atom[]).includes(k));
        } else {
          const d = parseDatum(v, { ...cs, max: null }, ctx.resolveSymbol) as Atom[];
          txn.removeFrom(row, col, (k) => d.includes(k));
        }
        checkSize(row.cols.get(col)!, cs, col);
      }
      return null;
    }
    case 'clear': {
      const table = resolveTable(txn, a[0]);
      const row = findRecord(ctx, table, a[1], !has('--if-exists'));
      if (!row) return null;
      for (const cname of a.slice(2)) {
        const col = writableColumn(ctx, table, row, cname);
        const cs = txn.column(table, col);
        if (cs.min > 0) throw new VsctlError(`"clear" operation cannot be applied to column ${col} of table ${table}, which is not allowed to be empty`);
        txn.set(row, col, cs.value ? new Map() : []);
      }
      return null;
    }
    case 'create': {
      const table = resolveTable(txn, a[0]);
      const row = pending.get(commandKey(c))!;
      for (const s of a.slice(1)) setColumn(ctx, table, row, s);
      return (uuidOf) => `${uuidOf(row.uuid)}\n`;
    }
    case 'wait-until': {
      const table = resolveTable(txn, a[0]);
      const row = findRecord(ctx, table, a[1], false);
      if (!row || !a.slice(2).every((cond) => evalCondition(ctx, table, row, cond))) throw new WaitRetry();
      return null;
    }
    case 'destroy': {
      const table = resolveTable(txn, a[0]);
      if (has('--all')) {
        if (a.length > 1) throw new VsctlError('--all and records argument should not be specified together');
        for (const r of txn.list(table)) destroyRow(ctx, r);
        return null;
      }
      if (a.length === 1) throw new VsctlError('either --all or records argument should be specified');
      for (const id of a.slice(1)) {
        const r = findRecord(ctx, table, id, !has('--if-exists'));
        if (r) destroyRow(ctx, r);
      }
      return null;
    }
  }
  throw new VsctlError(`unknown command '${c.name}'`);
}

/**
 * destroy: later commands no longer see the row, but if a strong reference to
 * it remains at commit it stays, silently — what ovs-vsctl 3.1 does (observed:
 * `destroy Mirror m0` while a Bridge lists it exits 0 and changes nothing).
 */
function destroyRow(ctx: Ctx, r: CRow): void {
  ctx.txn.delete(r, true);
}

function lines(l: string[]): string | null {
  return l.length ? l.join('\n') + '\n' : null;
}

// --- show ----------------------------------------------------------------------------

function showText(ctx: Ctx): string {
  const txn = ctx.txn;
  const out: string[] = [];
  const col = (t: string, c: string): RpcColumn => txn.column(t, c);
  const put = (indent: number, name: string, row: CRow, table: string): void => {
    const d = row.cols.get(name)!;
    if (datumIsEmpty(d)) return;
    const cs = col(table, name);
    if (cs.key.type === 'string' && !cs.value && (d as Atom[]).length === 1 && d instanceof Array && d[0] === '') return;
    if (cs.key.type === 'boolean' && !cs.value && cs.max === 1 && (d as Atom[])[0] === false) return;
    out.push(`${' '.repeat(indent)}${name}: ${formatDatum(d, cs)}`);
  };
  const ovs = txn.list('Open_vSwitch')[0];
  if (!ovs) return '';
  out.push(ovs.uuid);
  for (const m of refs(ovs, 'manager_options').map((u) => txn.get('Manager', u)!).filter(Boolean)) {
    out.push(`    Manager ${formatAtom(str(m, 'target'), { type: 'string' })}`);
    put(8, 'is_connected', m, 'Manager');
  }
  const byName = (x: CRow, y: CRow): number => compareAtoms(str(x, 'name'), str(y, 'name'));
  for (const br of [...ctx.bridges()].sort(byName)) {
    out.push(`    Bridge ${formatAtom(str(br, 'name'), { type: 'string' })}`);
    for (const cu of refs(br, 'controller')) {
      const c = txn.get('Controller', cu);
      if (!c) continue;
      out.push(`        Controller ${formatAtom(str(c, 'target'), { type: 'string' })}`);
      put(12, 'is_connected', c, 'Controller');
    }
    put(8, 'fail_mode', br, 'Bridge');
    put(8, 'datapath_type', br, 'Bridge');
    for (const p of ctx.portsOf(br).sort(byName)) {
      out.push(`        Port ${formatAtom(str(p, 'name'), { type: 'string' })}`);
      put(12, 'tag', p, 'Port');
      put(12, 'trunks', p, 'Port');
      for (const i of ctx.ifacesOf(p).sort(byName)) {
        out.push(`            Interface ${formatAtom(str(i, 'name'), { type: 'string' })}`);
        put(16, 'type', i, 'Interface');
        put(16, 'options', i, 'Interface');
        put(16, 'bfd_status', i, 'Interface');
        put(16, 'error', i, 'Interface');
      }
    }
  }
  put(4, 'ovs_version', ovs, 'Open_vSwitch');
  return out.join('\n') + '\n';
}
