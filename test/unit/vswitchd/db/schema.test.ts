import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DbError } from '../../../../vswitchd/db/errors.js';
import { parseSchema, vswitchSchema, VSWITCH_SCHEMA_JSON } from '../../../../vswitchd/db/schema.js';
import { defaultDatum, toDatum } from '../../../../vswitchd/db/datum.js';

const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

function col(table: string, column: string) {
  const c = vswitchSchema.tables.get(table)?.columns.get(column);
  if (!c) throw new Error(`no ${table}.${column}`);
  return c;
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DbError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('vswitch schema', () => {
  it('has the Open vSwitch tables with their root/non-root roles', () => {
    for (const t of ['Open_vSwitch', 'Bridge', 'Port', 'Interface', 'Controller', 'Mirror', 'NetFlow', 'sFlow', 'IPFIX', 'Flow_Sample_Collector_Set']) {
      expect(vswitchSchema.tables.has(t), t).toBe(true);
    }
    const root = [...vswitchSchema.tables.values()].filter((t) => t.isRoot).map((t) => t.name).sort();
    expect(root).toEqual(['Flow_Sample_Collector_Set', 'Open_vSwitch', 'QoS', 'Queue']);
    expect(vswitchSchema.tables.get('Open_vSwitch')!.maxRows).toBe(1);
    expect(vswitchSchema.tables.get('Bridge')!.indexes).toEqual([['name']]);
  });

  it('types columns like OVSDB', () => {
    expect(col('Bridge', 'fail_mode')).toMatchObject({ kind: 'optional', type: { key: { type: 'string', enum: ['secure', 'standalone'] }, min: 0, max: 1 } });
    expect(col('Bridge', 'name')).toMatchObject({ kind: 'scalar', mutable: false });
    expect(col('Bridge', 'ports')).toMatchObject({ kind: 'set', type: { key: { refTable: 'Port', refType: 'strong' }, max: Infinity } });
    expect(col('Port', 'tag').type.key).toMatchObject({ type: 'integer', minInteger: 0, maxInteger: 4095 });
    expect(col('Port', 'interfaces').type.min).toBe(1);
    expect(col('Mirror', 'select_src_port').type.key.refType).toBe('weak');
    expect(col('Interface', 'statistics')).toMatchObject({ kind: 'map', ephemeral: true, type: { value: { type: 'integer' } } });
    expect(col('Open_vSwitch', 'next_cfg')).toMatchObject({ kind: 'scalar', type: { key: { type: 'integer' } } });
  });

  it.skipIf(!existsSync(OVS_SCHEMA))('matches the vswitch.ovsschema Open vSwitch ships', () => {
    const ovs = parseSchema(JSON.parse(readFileSync(OVS_SCHEMA, 'utf8')));
    expect(ovs.version).toBe(vswitchSchema.version);
    expect(ovs.tables).toEqual(vswitchSchema.tables);
  });

  it('rejects malformed schemas with a path to the problem', () => {
    const base = () => JSON.parse(JSON.stringify(VSWITCH_SCHEMA_JSON));
    const s1 = base();
    s1.tables.Bridge.columns.ports.type.key.refTable = 'Nope';
    expect(() => parseSchema(s1)).toThrow(/tables\.Bridge\.columns\.ports: refTable 'Nope'/);
    const s2 = base();
    s2.tables.Port.columns.tag.type = 'int';
    expect(() => parseSchema(s2)).toThrow(/unknown atomic type 'int'/);
    const s3 = base();
    s3.tables.Port.columns.tag.type.min = 2;
    expect(code(() => parseSchema(s3))).toBe('syntax error');
    const s4 = base();
    s4.tables.Port.indexes = [['nombre']];
    expect(() => parseSchema(s4)).toThrow(/index column 'nombre'/);
    const s5 = base();
    s5.tables.Port.columns.tag.type.key.refTable = 'Port';
    expect(() => parseSchema(s5)).toThrow(/refTable' applies only to uuid/);
  });

  it('treats every table as root when no table says isRoot (RFC 7047 3.2)', () => {
    const s = parseSchema({ name: 'x', version: '1.0.0', tables: { A: { columns: { n: { type: 'integer' } } } } });
    expect(s.tables.get('A')!.isRoot).toBe(true);
  });
});

describe('column values', () => {
  it('accepts values of the right type and normalizes them', () => {
    expect(toDatum(col('Port', 'tag'), 10, 'tag')).toBe(10);
    expect(toDatum(col('Port', 'tag'), [], 'tag')).toBe(null);
    expect(toDatum(col('Port', 'trunks'), [30, 10, 20], 'trunks')).toEqual([10, 20, 30]);
    expect(toDatum(col('Bridge', 'other_config'), { b: '2', a: '1' }, 'oc')).toEqual(new Map([['a', '1'], ['b', '2']]));
    expect(toDatum(col('Bridge', 'flood_vlans'), 7, 'fv')).toEqual([7]);
    expect(defaultDatum(col('Open_vSwitch', 'next_cfg'))).toBe(0);
    expect(defaultDatum(col('Bridge', 'ports'))).toEqual([]);
  });

  it('rejects out-of-range, out-of-enum, ill-typed and ill-sized values', () => {
    expect(code(() => toDatum(col('Port', 'tag'), 4096, 'tag'))).toBe('constraint violation');
    expect(code(() => toDatum(col('Bridge', 'fail_mode'), 'bogus', 'fail_mode'))).toBe('constraint violation');
    expect(code(() => toDatum(col('Port', 'vlan_mode'), 'access', 'vlan_mode'))).toBe('no error');
    expect(code(() => toDatum(col('Port', 'tag'), '10', 'tag'))).toBe('syntax error');
    expect(code(() => toDatum(col('Port', 'tag'), 1.5, 'tag'))).toBe('syntax error');
    expect(code(() => toDatum(col('Port', 'tag'), [1, 2], 'tag'))).toBe('constraint violation');
    expect(code(() => toDatum(col('Port', 'interfaces'), [], 'interfaces'))).toBe('constraint violation');
    expect(code(() => toDatum(col('Port', 'trunks'), [1, 1], 'trunks'))).toBe('syntax error');
    expect(code(() => toDatum(col('Bridge', 'ports'), ['not-a-uuid'], 'ports'))).toBe('syntax error');
    expect(() => toDatum(col('Port', 'tag'), 5000, 'Port column tag')).toThrow(/Port column tag: 5000 is outside the range 0\.\.4095/);
  });
});
