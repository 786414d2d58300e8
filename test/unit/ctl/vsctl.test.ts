import { beforeEach, describe, expect, it } from 'vitest';
import { parseCommandLine, runCommands, WaitRetry } from '../../../ctl/vsctl-commands.js';
import { VsctlTxn } from '../../../ctl/vsctl-txn.js';
import { parseDatum, formatDatum, VsctlError } from '../../../ctl/vsctl-values.js';
import { Database, type Operation } from '../../../vswitchd/db/database.js';
import { rpcSchemaOf } from '../../../vswitchd/rpc/server.js';
import { fromRpcJson, toRpcJson } from '../../../vswitchd/rpc/value-json.js';

const schema = rpcSchemaOf(Database.inMemory().schema);

/** Runs a tsvs-vsctl command line against db as the CLI would (snapshot -> commands -> one transaction). */
function vsctl(db: Database, argv: string[]): { stdout: string; exitCode: number; ops: Record<string, unknown>[] } {
  const { global, commands } = parseCommandLine(argv);
  const snap: Record<string, Record<string, unknown>[]> = {};
  for (const t of Object.keys(schema.tables)) snap[t] = fromRpcJson(toRpcJson(db.list(t))) as Record<string, unknown>[];
  const txn = new VsctlTxn(schema, snap);
  const run = runCommands(txn, global, commands);
  const { ops, names } = txn.ops();
  let uuids = new Map<string, string>();
  if (ops.length) {
    const r = db.transact(fromRpcJson(JSON.stringify(ops)) as Operation[]);
    ops.forEach((o, i) => o['uuidName'] && uuids.set(o['uuidName'] as string, r.results[i].uuid!));
  }
  const stdout = run.outputs.map((o) => (typeof o === 'string' ? o : o((p) => uuids.get(names.get(p)!) ?? p))).join('');
  return { stdout, exitCode: run.exitCode, ops };
}

describe('tsvs-vsctl command line', () => {
  it('splits global options, per-command options and -- chains', () => {
    const { global, commands } = parseCommandLine(['--no-wait', '--timeout=5', '--format=json', '--may-exist', 'add-br', 'br0', '--', '--if-exists', 'del-port', 'p1', '--', 'list-br']);
    expect(global).toMatchObject({ noWait: true, timeoutSec: 5, format: 'json' });
    expect(commands.map((c) => [c.name, c.args, [...c.options.keys()]])).toEqual([
      ['add-br', ['br0'], ['--may-exist']],
      ['del-port', ['p1'], ['--if-exists']],
      ['list-br', [], []],
    ]);
  });

  it.each([
    [['frob'], "unknown command 'frob'; use --help for help"],
    [['add-port', 'br0'], "'add-port' command requires at least 2 arguments"],
    [['--if-exists', 'add-br', 'br0'], "'add-br' command has no '--if-exists' option"],
    [['--timeout=x', 'list-br'], 'value x on -t or --timeout is invalid'],
    [['--format=xml', 'list-br'], 'unknown output format'],
    [[], 'missing command name'],
    [['list-br', '--', '--may-exist'], 'missing command name'],
  ])('%j -> %s', (argv, msg) => {
    expect(() => parseCommandLine(argv)).toThrow(VsctlError);
    expect(() => parseCommandLine(argv)).toThrow(msg);
  });

  it('parses and prints values like ovs-vsctl', () => {
    const opts = schema.tables['Interface'].columns['options'];
    const d = parseDatum('{mac="02:00:00:00:00:01", ip=10.0.0.1/24}', opts);
    expect(formatDatum(d, opts)).toBe('{ip="10.0.0.1/24", mac="02:00:00:00:00:01"}');
    const trunks = schema.tables['Port'].columns['trunks'];
    expect(formatDatum(parseDatum('3,1,2', trunks), trunks)).toBe('[1, 2, 3]');
    expect(() => parseDatum('abc', schema.tables['Port'].columns['tag'])).toThrow('"abc" is not a valid integer or range');
    expect(formatDatum(['p1'], schema.tables['Port'].columns['name'])).toBe('p1');
    expect(formatDatum([''], schema.tables['Interface'].columns['type'])).toBe('""');
  });
});

describe('tsvs-vsctl transactions', () => {
  let db: Database;
  beforeEach(() => {
    db = Database.inMemory();
    vsctl(db, ['init']);
  });

  it('add-br and add-port with settings build one transaction of inserts', () => {
    const r = vsctl(db, ['add-br', 'br0', '--', 'add-port', 'br0', 'p1', 'tag=5', '--', 'set', 'Interface', 'p1', 'type=guest', 'options:mac=02:00:00:00:00:01', 'options:ip=10.0.0.1/24']);
    expect(r.ops.filter((o) => o['op'] === 'insert').map((o) => o['table']).sort()).toEqual(['Bridge', 'Interface', 'Interface', 'Port', 'Port']);
    expect(vsctl(db, ['list-br']).stdout).toBe('br0\n');
    expect(vsctl(db, ['list-ports', 'br0']).stdout).toBe('p1\n');
    expect(vsctl(db, ['get', 'Port', 'p1', 'tag', '--', 'get', 'Interface', 'p1', 'options:ip', 'type']).stdout).toBe('5\n"10.0.0.1/24"\nguest\n');
    expect(vsctl(db, ['iface-to-br', 'p1']).stdout).toBe('br0\n');
    expect(db.checkIntegrity()).toEqual([]);
  });

  it('--may-exist and --if-exists turn errors into no-ops; without them nothing changes', () => {
    vsctl(db, ['add-br', 'br0', '--', 'add-port', 'br0', 'p1']);
    const before = db.lastTxnId;
    expect(() => vsctl(db, ['add-port', 'br0', 'p2', '--', 'add-port', 'br0', 'p1'])).toThrow('cannot create a port named p1 because a port named p1 already exists on bridge br0');
    expect(db.lastTxnId).toBe(before);
    expect(vsctl(db, ['list-ports', 'br0']).stdout).toBe('p1\n');
    expect(vsctl(db, ['--may-exist', 'add-port', 'br0', 'p1', '--', '--may-exist', 'add-br', 'br0']).ops).toEqual([]);
    expect(() => vsctl(db, ['del-port', 'nope'])).toThrow('no port named nope');
    expect(vsctl(db, ['--if-exists', 'del-port', 'nope', '--', '--if-exists', 'del-br', 'br9']).ops).toEqual([]);
    expect(vsctl(db, ['br-exists', 'br9']).exitCode).toBe(2);
  });

  it('--id=@name references a row created in the same chain, even before it', () => {
    vsctl(db, ['add-br', 'br0']);
    const r = vsctl(db, ['add', 'Bridge', 'br0', 'mirrors', '@m', '--', '--id=@m', 'create', 'Mirror', 'name=m0']);
    const uuid = r.stdout.trim();
    expect(vsctl(db, ['get', 'Bridge', 'br0', 'mirrors']).stdout).toBe(`[${uuid}]\n`);
    expect(vsctl(db, ['get', 'Mirror', 'm0', '_uuid']).stdout).toBe(`${uuid}\n`);
    expect(() => vsctl(db, ['add', 'Bridge', 'br0', 'mirrors', '@nope'])).toThrow('row id "@nope" specified on "--id" is not defined');
  });

  it('controllers, fail mode, del-br removes ports and interfaces', () => {
    vsctl(db, ['add-br', 'br0', '--', 'add-port', 'br0', 'p1', '--', 'set-controller', 'br0', 'tcp:127.0.0.1:6653', 'unix:/x', '--', 'set-fail-mode', 'br0', 'secure']);
    expect(vsctl(db, ['get-controller', 'br0']).stdout).toBe('tcp:127.0.0.1:6653\nunix:/x\n');
    expect(vsctl(db, ['get-fail-mode', 'br0']).stdout).toBe('secure\n');
    // A bridge names its Controller row only when it has exactly one (as in ovs-vsctl).
    expect(() => vsctl(db, ['get', 'Controller', 'br0', 'target'])).toThrow('no row "br0" in table Controller');
    vsctl(db, ['set-controller', 'br0', 'tcp:127.0.0.1:6653']);
    expect(vsctl(db, ['get', 'Controller', 'br0', 'target']).stdout).toBe('"tcp:127.0.0.1:6653"\n');
    vsctl(db, ['del-controller', 'br0', '--', 'del-fail-mode', 'br0']);
    expect(db.list('Controller')).toEqual([]);
    vsctl(db, ['del-br', 'br0']);
    expect([db.list('Bridge').length, db.list('Port').length, db.list('Interface').length]).toEqual([0, 0, 0]);
  });

  it('find with conditions; list formats', () => {
    vsctl(db, ['add-br', 'br0', '--', 'add-port', 'br0', 'p1', 'tag=5', '--', 'add-port', 'br0', 'p2', 'tag=7', '--', 'add-bond', 'br0', 'b0', 'a', 'b']);
    const names = (argv: string[]): string => vsctl(db, ['--bare', '--columns=name', 'find', ...argv]).stdout.split('\n').filter(Boolean).sort().join(',');
    expect(names(['Port', 'tag=5'])).toBe('p1');
    expect(names(['Port', 'tag>=5'])).toBe('p1,p2');
    expect(names(['Port', 'tag!=5'])).toBe('b0,br0,p2');
    expect(names(['Port', 'tag<6'])).toBe('b0,br0,p1'); // empty sets sort first, as in OVSDB
    expect(names(['Port', 'trunks{in}5,7'])).toBe('b0,br0,p1,p2');
    expect(() => names(['Port', 'tag{in}5,7'])).toThrow('5,7: 2 value(s) specified but the maximum number is 1');
    expect(() => vsctl(db, ['find', 'Port', 'tag'])).toThrow('tag: argument does not end in "="');
    expect(vsctl(db, ['--format=json', '--columns=name,tag', 'find', 'Port', 'name=p2']).stdout).toBe('{"data":[["p2",7]],"headings":["name","tag"]}\n');
    expect(vsctl(db, ['--columns=name,tag', 'list', 'Port', 'p1']).stdout).toBe('name                : p1\ntag                 : 5\n');
    expect(vsctl(db, ['--format=table', '--columns=name,tag', 'list', 'Port', 'p1']).stdout).toBe('name tag\n---- ---\np1   5\n');
  });

  it('set/add/remove/clear on map and set columns', () => {
    vsctl(db, ['add-br', 'br0', '--', 'add-port', 'br0', 'p1']);
    vsctl(db, ['set', 'Interface', 'p1', 'options:a=1', 'options:b=2', '--', 'add', 'Port', 'p1', 'trunks', '1', '2,3']);
    expect(vsctl(db, ['get', 'Interface', 'p1', 'options', '--', 'get', 'Port', 'p1', 'trunks']).stdout).toBe('{a="1", b="2"}\n[1, 2, 3]\n');
    vsctl(db, ['remove', 'Interface', 'p1', 'options', 'a', '--', 'remove', 'Port', 'p1', 'trunks', '2']);
    expect(vsctl(db, ['get', 'Interface', 'p1', 'options', '--', 'get', 'Port', 'p1', 'trunks']).stdout).toBe('{b="2"}\n[1, 3]\n');
    vsctl(db, ['clear', 'Port', 'p1', 'trunks']);
    expect(vsctl(db, ['get', 'Port', 'p1', 'trunks']).stdout).toBe('[]\n');
    expect(() => vsctl(db, ['get', 'Interface', 'p1', 'options:zz'])).toThrow('no key "zz" in Interface record "p1" column options');
    expect(vsctl(db, ['--if-exists', 'get', 'Interface', 'p1', 'options:zz']).stdout).toBe('');
    expect(() => vsctl(db, ['get', 'Bridge', 'br9', 'name'])).toThrow('no row "br9" in table Bridge');
    expect(() => vsctl(db, ['get', 'Bridge', 'br0', 'nocol'])).toThrow('Bridge does not contain a column whose name matches "nocol"');
    expect(() => vsctl(db, ['set', 'Bridge', 'br0', 'fail_mode=bogus'])).toThrow('bogus is not one of the allowed values');
  });

  it('destroy: gone for later commands, kept at commit while strongly referenced (as ovs-vsctl 3.1)', () => {
    vsctl(db, ['add-br', 'br0', '--', '--id=@m', 'create', 'Mirror', 'name=m0', '--', 'add', 'Bridge', 'br0', 'mirrors', '@m']);
    expect(() => vsctl(db, ['destroy', 'Mirror', 'm0', '--', 'get', 'Mirror', 'm0', 'name'])).toThrow('no row "m0" in table Mirror');
    expect(vsctl(db, ['destroy', 'Mirror', 'm0']).ops).toEqual([]);
    expect(db.list('Mirror')).toHaveLength(1);
    vsctl(db, ['clear', 'Bridge', 'br0', 'mirrors']);
    expect(db.list('Mirror')).toHaveLength(0); // unreferenced non-root rows are collected
    vsctl(db, ['create', 'QoS', 'type=linux-htb']);
    vsctl(db, ['--all', 'destroy', 'QoS']);
    expect(db.list('QoS')).toHaveLength(0);
  });

  it('bridge external ids and managers', () => {
    vsctl(db, ['add-br', 'br0', '--', 'br-set-external-id', 'br0', 'k', 'v', '--', 'set-manager', 'ptcp:6640']);
    expect(vsctl(db, ['br-get-external-id', 'br0', '--', 'br-get-external-id', 'br0', 'k', '--', 'get-manager']).stdout).toBe('k=v\nv\nptcp:6640\n');
    vsctl(db, ['br-set-external-id', 'br0', 'k', '--', 'del-manager']);
    expect(vsctl(db, ['br-get-external-id', 'br0', '--', 'get-manager']).stdout).toBe('');
    expect(db.list('Manager')).toEqual([]);
  });

  it('wait-until holds or asks to be retried on a newer snapshot', () => {
    vsctl(db, ['add-br', 'br0']);
    expect(vsctl(db, ['wait-until', 'Bridge', 'br0', 'name=br0']).exitCode).toBe(0);
    expect(() => vsctl(db, ['wait-until', 'Bridge', 'br0', 'fail_mode=secure'])).toThrow(WaitRetry);
    expect(() => vsctl(db, ['wait-until', 'Bridge', 'br9'])).toThrow(WaitRetry);
  });
});
