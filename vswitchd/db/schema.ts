// The config DB schema: Open vSwitch's vswitch.ovsschema, kept in OVSDB's own
// JSON schema format (RFC 7047 §3.2) so it can be diffed against the file OVS
// ships, and the parser that turns such a schema into normalized column types.

import { DbError } from './errors.js';

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
/** An atom: uuids are canonical lowercase strings; integers are safe JS integers. */
export type Atom = string | number | boolean;

export interface BaseType {
  readonly type: AtomicType;
  /** Allowed values (OVSDB "enum"), sorted. */
  readonly enum?: readonly Atom[];
  readonly minInteger?: number;
  readonly maxInteger?: number;
  readonly minReal?: number;
  readonly maxReal?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** For uuid atoms that reference a row. */
  readonly refTable?: string;
  readonly refType?: 'strong' | 'weak';
}

/** How a column's value looks in a row: see Datum in datum.ts. */
export type ColumnKind = 'scalar' | 'optional' | 'set' | 'map';

export interface ColumnType {
  readonly key: BaseType;
  readonly value?: BaseType;
  readonly min: number;
  /** Infinity for OVSDB's "unlimited". */
  readonly max: number;
}

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  readonly kind: ColumnKind;
  /** Not persisted: status and statistics the daemon fills in (OVSDB "ephemeral"). */
  readonly ephemeral: boolean;
  /** False: may only be set by insert (OVSDB "mutable": false). */
  readonly mutable: boolean;
}

export interface TableSchema {
  readonly name: string;
  readonly columns: ReadonlyMap<string, ColumnSchema>;
  /** Non-root rows are garbage collected when no strong reference points at them. */
  readonly isRoot: boolean;
  /** Infinity when unbounded. */
  readonly maxRows: number;
  /** Sets of columns whose values must be unique across the table's rows. */
  readonly indexes: readonly (readonly string[])[];
}

export interface DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly tables: ReadonlyMap<string, TableSchema>;
}

// --- OVSDB JSON schema format -------------------------------------------------

type JsonAtomicType = AtomicType;
interface JsonBaseType {
  type: JsonAtomicType;
  enum?: unknown;
  minInteger?: number;
  maxInteger?: number;
  minReal?: number;
  maxReal?: number;
  minLength?: number;
  maxLength?: number;
  refTable?: string;
  refType?: 'strong' | 'weak';
}
interface JsonColumnType {
  key: JsonAtomicType | JsonBaseType;
  value?: JsonAtomicType | JsonBaseType;
  min?: number;
  max?: number | 'unlimited';
}
export interface JsonColumnSchema {
  type: JsonAtomicType | JsonColumnType;
  ephemeral?: boolean;
  mutable?: boolean;
}
export interface JsonTableSchema {
  columns: Record<string, JsonColumnSchema>;
  isRoot?: boolean;
  maxRows?: number;
  indexes?: readonly (readonly string[])[];
}
export interface JsonDatabaseSchema {
  name: string;
  version: string;
  cksum?: string;
  tables: Record<string, JsonTableSchema>;
}

const ATOMIC_TYPES: readonly string[] = ['integer', 'real', 'boolean', 'string', 'uuid'];
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function bad(path: string, what: string): DbError {
  return new DbError('syntax error', `schema ${path}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseBaseType(json: unknown, path: string): BaseType {
  if (typeof json === 'string') {
    if (!ATOMIC_TYPES.includes(json)) throw bad(path, `unknown atomic type '${json}'`);
    return { type: json as AtomicType };
  }
  if (!isObject(json)) throw bad(path, 'expected an atomic type name or a base type object');
  const type = json.type;
  if (typeof type !== 'string' || !ATOMIC_TYPES.includes(type)) throw bad(path, `unknown atomic type '${String(type)}'`);
  const base: { -readonly [K in keyof BaseType]: BaseType[K] } = { type: type as AtomicType };
  for (const k of Object.keys(json)) {
    if (!['type', 'enum', 'minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength', 'refTable', 'refType'].includes(k)) {
      throw bad(path, `unknown member '${k}'`);
    }
  }
  const num = (k: 'minInteger' | 'maxInteger' | 'minReal' | 'maxReal' | 'minLength' | 'maxLength', forType: AtomicType): void => {
    const v = json[k];
    if (v === undefined) return;
    if (type !== forType) throw bad(path, `'${k}' applies only to ${forType} atoms`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(path, `'${k}' must be a number`);
    base[k] = v;
  };
  num('minInteger', 'integer');
  num('maxInteger', 'integer');
  num('minReal', 'real');
  num('maxReal', 'real');
  num('minLength', 'string');
  num('maxLength', 'string');
  if (json.refTable !== undefined) {
    if (type !== 'uuid') throw bad(path, "'refTable' applies only to uuid atoms");
    if (typeof json.refTable !== 'string') throw bad(path, "'refTable' must be a table name");
    base.refTable = json.refTable;
    const rt = json.refType ?? 'strong';
    if (rt !== 'strong' && rt !== 'weak') throw bad(path, "'refType' must be 'strong' or 'weak'");
    base.refType = rt;
  } else if (json.refType !== undefined) {
    throw bad(path, "'refType' needs 'refTable'");
  }
  if (json.enum !== undefined) {
    // An OVSDB enum is a set datum: ["set", [atoms]] or a single atom.
    const e = json.enum;
    const atoms: unknown[] = Array.isArray(e) && e[0] === 'set' && Array.isArray(e[1]) ? (e[1] as unknown[]) : [e];
    for (const a of atoms) {
      const ok = (type === 'string' && typeof a === 'string') ||
        ((type === 'integer' || type === 'real') && typeof a === 'number') ||
        (type === 'boolean' && typeof a === 'boolean');
      if (!ok) throw bad(path, `enum value ${JSON.stringify(a)} is not a ${type}`);
    }
    base.enum = [...(atoms as Atom[])].sort(compareAtoms);
  }
  return base;
}

function parseColumn(name: string, json: unknown, path: string): ColumnSchema {
  if (!isObject(json)) throw bad(path, 'expected a column object');
  if (!IDENT.test(name) || name.startsWith('_')) throw bad(path, 'column names are identifiers not starting with _');
  const t = json.type;
  let type: ColumnType;
  if (typeof t === 'string') {
    type = { key: parseBaseType(t, `${path}.type`), min: 1, max: 1 };
  } else if (isObject(t)) {
    const key = parseBaseType(t.key, `${path}.type.key`);
    const value = t.value === undefined ? undefined : parseBaseType(t.value, `${path}.type.value`);
    const min = t.min ?? 1;
    const maxJ = t.max ?? 1;
    if (typeof min !== 'number' || !Number.isInteger(min) || min < 0 || min > 1) throw bad(path, "'min' must be 0 or 1");
    const max = maxJ === 'unlimited' ? Infinity : maxJ;
    if (typeof max !== 'number' || (max !== Infinity && (!Number.isInteger(max) || max < 1)) || max < min) {
      throw bad(path, "'max' must be a positive integer or \"unlimited\", not below 'min'");
    }
    type = value === undefined ? { key, min, max } : { key, value, min, max };
  } else {
    throw bad(path, "'type' must be an atomic type name or a type object");
  }
  const kind: ColumnKind = type.value !== undefined ? 'map' : type.max === 1 ? (type.min === 1 ? 'scalar' : 'optional') : 'set';
  if (json.ephemeral !== undefined && typeof json.ephemeral !== 'boolean') throw bad(path, "'ephemeral' must be a boolean");
  if (json.mutable !== undefined && typeof json.mutable !== 'boolean') throw bad(path, "'mutable' must be a boolean");
  return { name, type, kind, ephemeral: json.ephemeral === true, mutable: json.mutable !== false };
}

/** Parses and checks a schema in OVSDB's JSON format. Throws DbError('syntax error'). */
export function parseSchema(json: unknown): DatabaseSchema {
  if (!isObject(json)) throw bad('', 'expected an object');
  if (typeof json.name !== 'string' || !IDENT.test(json.name)) throw bad('name', 'expected an identifier');
  if (typeof json.version !== 'string' || !/^\d+\.\d+\.\d+$/.test(json.version)) throw bad('version', 'expected x.y.z');
  if (!isObject(json.tables)) throw bad('tables', 'expected an object');
  const tablesJ = json.tables;
  const anyRoot = Object.values(tablesJ).some((t) => isObject(t) && t.isRoot === true);
  const tables = new Map<string, TableSchema>();
  for (const [tname, tj] of Object.entries(tablesJ)) {
    const path = `tables.${tname}`;
    if (!IDENT.test(tname) || tname.startsWith('_')) throw bad(path, 'table names are identifiers not starting with _');
    if (!isObject(tj) || !isObject(tj.columns)) throw bad(path, "expected an object with 'columns'");
    const columns = new Map<string, ColumnSchema>();
    for (const [cname, cj] of Object.entries(tj.columns)) columns.set(cname, parseColumn(cname, cj, `${path}.columns.${cname}`));
    const maxRows = tj.maxRows ?? Infinity;
    if (typeof maxRows !== 'number' || (maxRows !== Infinity && (!Number.isInteger(maxRows) || maxRows < 1))) throw bad(path, "'maxRows' must be a positive integer");
    const indexes: string[][] = [];
    if (tj.indexes !== undefined) {
      if (!Array.isArray(tj.indexes)) throw bad(path, "'indexes' must be a list of column lists");
      for (const idx of tj.indexes) {
        if (!Array.isArray(idx) || idx.length === 0) throw bad(path, 'an index is a non-empty list of columns');
        for (const c of idx) {
          if (typeof c !== 'string' || !columns.has(c)) throw bad(path, `index column '${String(c)}' is not a column`);
          if (columns.get(c)!.ephemeral) throw bad(path, `index column '${c}' is ephemeral`);
        }
        indexes.push([...(idx as readonly string[])]);
      }
    }
    if (tj.isRoot !== undefined && typeof tj.isRoot !== 'boolean') throw bad(path, "'isRoot' must be a boolean");
    // RFC 7047 §3.2: if no table says isRoot, every table is a root table.
    tables.set(tname, { name: tname, columns, isRoot: anyRoot ? tj.isRoot === true : true, maxRows, indexes });
  }
  for (const t of tables.values()) {
    for (const c of t.columns.values()) {
      for (const b of [c.type.key, c.type.value]) {
        if (b?.refTable !== undefined && !tables.has(b.refTable)) {
          throw bad(`tables.${t.name}.columns.${c.name}`, `refTable '${b.refTable}' is not a table`);
        }
      }
    }
  }
  return { name: json.name, version: json.version, tables };
}

/** Total order on atoms of one type (used to keep sets and maps sorted). */
export function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return (a ? 1 : 0) - (b ? 1 : 0);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Open vSwitch's vswitch.ovsschema 8.3.1, verbatim in content. */
export const VSWITCH_SCHEMA_JSON = {
  name: 'Open_vSwitch',
  version: '8.3.1',
  cksum: '3012963480 26720',
  tables: {
    Open_vSwitch: {
      isRoot: true,
      maxRows: 1,
      columns: {
        datapaths: {"type": {"key": {"type": "string"}, "value": {"type": "uuid", "refTable": "Datapath"}, "min": 0, "max": "unlimited"}},
        bridges: {"type": {"key": {"type": "uuid", "refTable": "Bridge"}, "min": 0, "max": "unlimited"}},
        manager_options: {"type": {"key": {"type": "uuid", "refTable": "Manager"}, "min": 0, "max": "unlimited"}},
        ssl: {"type": {"key": {"type": "uuid", "refTable": "SSL"}, "min": 0, "max": 1}},
        other_config: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        next_cfg: {"type": "integer"},
        cur_cfg: {"type": "integer"},
        statistics: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
        ovs_version: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        db_version: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        system_type: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        system_version: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        datapath_types: {"type": {"key": {"type": "string"}, "min": 0, "max": "unlimited"}},
        iface_types: {"type": {"key": {"type": "string"}, "min": 0, "max": "unlimited"}},
        dpdk_initialized: {"type": "boolean"},
        dpdk_version: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
      },
    },
    Bridge: {
      indexes: [["name"]],
      columns: {
        name: {"type": "string", "mutable": false},
        datapath_type: {"type": "string"},
        datapath_version: {"type": "string"},
        datapath_id: {"type": {"key": "string", "min": 0, "max": 1}, "ephemeral": true},
        stp_enable: {"type": "boolean"},
        rstp_enable: {"type": "boolean"},
        mcast_snooping_enable: {"type": "boolean"},
        ports: {"type": {"key": {"type": "uuid", "refTable": "Port"}, "min": 0, "max": "unlimited"}},
        mirrors: {"type": {"key": {"type": "uuid", "refTable": "Mirror"}, "min": 0, "max": "unlimited"}},
        netflow: {"type": {"key": {"type": "uuid", "refTable": "NetFlow"}, "min": 0, "max": 1}},
        sflow: {"type": {"key": {"type": "uuid", "refTable": "sFlow"}, "min": 0, "max": 1}},
        ipfix: {"type": {"key": {"type": "uuid", "refTable": "IPFIX"}, "min": 0, "max": 1}},
        controller: {"type": {"key": {"type": "uuid", "refTable": "Controller"}, "min": 0, "max": "unlimited"}},
        protocols: {"type": {"key": {"type": "string", "enum": ["set", ["OpenFlow10", "OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15"]]}, "min": 0, "max": "unlimited"}},
        fail_mode: {"type": {"key": {"type": "string", "enum": ["set", ["standalone", "secure"]]}, "min": 0, "max": 1}},
        status: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
        rstp_status: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
        other_config: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        flood_vlans: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0, "max": 4096}},
        flow_tables: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 254}, "value": {"type": "uuid", "refTable": "Flow_Table"}, "min": 0, "max": "unlimited"}},
        auto_attach: {"type": {"key": {"type": "uuid", "refTable": "AutoAttach"}, "min": 0, "max": 1}},
      },
    },
    Port: {
      indexes: [["name"]],
      columns: {
        name: {"type": "string", "mutable": false},
        interfaces: {"type": {"key": {"type": "uuid", "refTable": "Interface"}, "min": 1, "max": "unlimited"}},
        trunks: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0, "max": 4096}},
        cvlans: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0, "max": 4096}},
        tag: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0, "max": 1}},
        vlan_mode: {"type": {"key": {"type": "string", "enum": ["set", ["trunk", "access", "native-tagged", "native-untagged", "dot1q-tunnel"]]}, "min": 0, "max": 1}},
        qos: {"type": {"key": {"type": "uuid", "refTable": "QoS"}, "min": 0, "max": 1}},
        mac: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        bond_mode: {"type": {"key": {"type": "string", "enum": ["set", ["balance-tcp", "balance-slb", "active-backup"]]}, "min": 0, "max": 1}},
        lacp: {"type": {"key": {"type": "string", "enum": ["set", ["active", "passive", "off"]]}, "min": 0, "max": 1}},
        bond_updelay: {"type": "integer"},
        bond_downdelay: {"type": "integer"},
        bond_active_slave: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        bond_fake_iface: {"type": "boolean"},
        fake_bridge: {"type": "boolean"},
        status: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
        rstp_status: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
        rstp_statistics: {"type": {"key": "string", "value": "integer", "min": 0, "max": "unlimited"}, "ephemeral": true},
        statistics: {"type": {"key": "string", "value": "integer", "min": 0, "max": "unlimited"}, "ephemeral": true},
        protected: {"type": "boolean"},
        other_config: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    Interface: {
      indexes: [["name"]],
      columns: {
        name: {"type": "string", "mutable": false},
        type: {"type": "string"},
        options: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        ingress_policing_rate: {"type": {"key": {"type": "integer", "minInteger": 0}}},
        ingress_policing_burst: {"type": {"key": {"type": "integer", "minInteger": 0}}},
        ingress_policing_kpkts_rate: {"type": {"key": {"type": "integer", "minInteger": 0}}},
        ingress_policing_kpkts_burst: {"type": {"key": {"type": "integer", "minInteger": 0}}},
        mac_in_use: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}, "ephemeral": true},
        mac: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        ifindex: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4294967295}, "min": 0, "max": 1}, "ephemeral": true},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        ofport: {"type": {"key": "integer", "min": 0, "max": 1}},
        ofport_request: {"type": {"key": {"type": "integer", "minInteger": 1, "maxInteger": 65279}, "min": 0, "max": 1}},
        bfd: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        bfd_status: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
        cfm_mpid: {"type": {"key": {"type": "integer"}, "min": 0, "max": 1}},
        cfm_remote_mpids: {"type": {"key": {"type": "integer"}, "min": 0, "max": "unlimited"}, "ephemeral": true},
        cfm_flap_count: {"type": {"key": {"type": "integer"}, "min": 0, "max": 1}},
        cfm_fault: {"type": {"key": {"type": "boolean"}, "min": 0, "max": 1}, "ephemeral": true},
        cfm_fault_status: {"type": {"key": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
        cfm_remote_opstate: {"type": {"key": {"type": "string", "enum": ["set", ["up", "down"]]}, "min": 0, "max": 1}, "ephemeral": true},
        cfm_health: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 100}, "min": 0, "max": 1}, "ephemeral": true},
        lacp_current: {"type": {"key": {"type": "boolean"}, "min": 0, "max": 1}, "ephemeral": true},
        lldp: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        other_config: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        statistics: {"type": {"key": "string", "value": "integer", "min": 0, "max": "unlimited"}, "ephemeral": true},
        status: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
        admin_state: {"type": {"key": {"type": "string", "enum": ["set", ["up", "down"]]}, "min": 0, "max": 1}, "ephemeral": true},
        link_state: {"type": {"key": {"type": "string", "enum": ["set", ["up", "down"]]}, "min": 0, "max": 1}, "ephemeral": true},
        link_resets: {"type": {"key": {"type": "integer"}, "min": 0, "max": 1}, "ephemeral": true},
        link_speed: {"type": {"key": "integer", "min": 0, "max": 1}, "ephemeral": true},
        duplex: {"type": {"key": {"type": "string", "enum": ["set", ["half", "full"]]}, "min": 0, "max": 1}, "ephemeral": true},
        mtu: {"type": {"key": "integer", "min": 0, "max": 1}, "ephemeral": true},
        mtu_request: {"type": {"key": {"type": "integer", "minInteger": 1}, "min": 0, "max": 1}},
        error: {"type": {"key": "string", "min": 0, "max": 1}},
      },
    },
    Flow_Table: {
      columns: {
        name: {"type": {"key": "string", "min": 0, "max": 1}},
        flow_limit: {"type": {"key": {"type": "integer", "minInteger": 0}, "min": 0, "max": 1}},
        overflow_policy: {"type": {"key": {"type": "string", "enum": ["set", ["refuse", "evict"]]}, "min": 0, "max": 1}},
        groups: {"type": {"key": "string", "min": 0, "max": "unlimited"}},
        prefixes: {"type": {"key": "string", "min": 0, "max": 3}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    QoS: {
      isRoot: true,
      columns: {
        type: {"type": "string"},
        queues: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4294967295}, "value": {"type": "uuid", "refTable": "Queue"}, "min": 0, "max": "unlimited"}},
        other_config: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    Queue: {
      isRoot: true,
      columns: {
        dscp: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 63}, "min": 0, "max": 1}},
        other_config: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    Mirror: {
      columns: {
        name: {"type": "string"},
        select_all: {"type": "boolean"},
        select_src_port: {"type": {"key": {"type": "uuid", "refTable": "Port", "refType": "weak"}, "min": 0, "max": "unlimited"}},
        select_dst_port: {"type": {"key": {"type": "uuid", "refTable": "Port", "refType": "weak"}, "min": 0, "max": "unlimited"}},
        select_vlan: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0, "max": 4096}},
        output_port: {"type": {"key": {"type": "uuid", "refTable": "Port", "refType": "weak"}, "min": 0, "max": 1}},
        output_vlan: {"type": {"key": {"type": "integer", "minInteger": 1, "maxInteger": 4095}, "min": 0, "max": 1}},
        snaplen: {"type": {"key": {"type": "integer", "minInteger": 14, "maxInteger": 65535}, "min": 0, "max": 1}},
        statistics: {"type": {"key": "string", "value": "integer", "min": 0, "max": "unlimited"}, "ephemeral": true},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    NetFlow: {
      columns: {
        targets: {"type": {"key": {"type": "string"}, "min": 1, "max": "unlimited"}},
        engine_type: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 255}, "min": 0, "max": 1}},
        engine_id: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 255}, "min": 0, "max": 1}},
        add_id_to_interface: {"type": "boolean"},
        active_timeout: {"type": {"key": {"type": "integer", "minInteger": -1}}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    sFlow: {
      columns: {
        targets: {"type": {"key": "string", "min": 1, "max": "unlimited"}},
        sampling: {"type": {"key": "integer", "min": 0, "max": 1}},
        polling: {"type": {"key": "integer", "min": 0, "max": 1}},
        header: {"type": {"key": "integer", "min": 0, "max": 1}},
        agent: {"type": {"key": "string", "min": 0, "max": 1}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    IPFIX: {
      columns: {
        targets: {"type": {"key": "string", "min": 0, "max": "unlimited"}},
        sampling: {"type": {"key": {"type": "integer", "minInteger": 1, "maxInteger": 4294967295}, "min": 0, "max": 1}},
        obs_domain_id: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4294967295}, "min": 0, "max": 1}},
        obs_point_id: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4294967295}, "min": 0, "max": 1}},
        cache_active_timeout: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4200}, "min": 0, "max": 1}},
        cache_max_flows: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4294967295}, "min": 0, "max": 1}},
        other_config: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    Flow_Sample_Collector_Set: {
      isRoot: true,
      indexes: [["id", "bridge"]],
      columns: {
        id: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 4294967295}, "min": 1, "max": 1}},
        bridge: {"type": {"key": {"type": "uuid", "refTable": "Bridge"}, "min": 1, "max": 1}},
        ipfix: {"type": {"key": {"type": "uuid", "refTable": "IPFIX"}, "min": 0, "max": 1}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    Controller: {
      columns: {
        type: {"type": {"key": {"type": "string", "enum": ["set", ["primary", "service"]]}, "min": 0, "max": 1}},
        target: {"type": "string"},
        max_backoff: {"type": {"key": {"type": "integer", "minInteger": 1000}, "min": 0, "max": 1}},
        inactivity_probe: {"type": {"key": "integer", "min": 0, "max": 1}},
        connection_mode: {"type": {"key": {"type": "string", "enum": ["set", ["in-band", "out-of-band"]]}, "min": 0, "max": 1}},
        local_ip: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        local_netmask: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        local_gateway: {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        enable_async_messages: {"type": {"key": {"type": "boolean"}, "min": 0, "max": 1}},
        controller_queue_size: {"type": {"key": {"type": "integer", "minInteger": 1, "maxInteger": 512}, "min": 0, "max": 1}},
        controller_rate_limit: {"type": {"key": {"type": "integer", "minInteger": 100}, "min": 0, "max": 1}},
        controller_burst_limit: {"type": {"key": {"type": "integer", "minInteger": 25}, "min": 0, "max": 1}},
        other_config: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        is_connected: {"type": "boolean", "ephemeral": true},
        role: {"type": {"key": {"type": "string", "enum": ["set", ["other", "master", "slave"]]}, "min": 0, "max": 1}, "ephemeral": true},
        status: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
      },
    },
    Manager: {
      indexes: [["target"]],
      columns: {
        target: {"type": "string"},
        max_backoff: {"type": {"key": {"type": "integer", "minInteger": 1000}, "min": 0, "max": 1}},
        inactivity_probe: {"type": {"key": "integer", "min": 0, "max": 1}},
        connection_mode: {"type": {"key": {"type": "string", "enum": ["set", ["in-band", "out-of-band"]]}, "min": 0, "max": 1}},
        other_config: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        is_connected: {"type": "boolean", "ephemeral": true},
        status: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}, "ephemeral": true},
      },
    },
    Datapath: {
      columns: {
        datapath_version: {"type": "string"},
        ct_zones: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 65535}, "value": {"type": "uuid", "refTable": "CT_Zone"}, "min": 0, "max": "unlimited"}},
        capabilities: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    CT_Zone: {
      columns: {
        timeout_policy: {"type": {"key": {"type": "uuid", "refTable": "CT_Timeout_Policy"}, "min": 0, "max": 1}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    CT_Timeout_Policy: {
      columns: {
        timeouts: {"type": {"key": {"type": "string", "enum": ["set", ["tcp_syn_sent", "tcp_syn_recv", "tcp_established", "tcp_fin_wait", "tcp_close_wait", "tcp_last_ack", "tcp_time_wait", "tcp_close", "tcp_syn_sent2", "tcp_retransmit", "tcp_unack", "udp_first", "udp_single", "udp_multiple", "icmp_first", "icmp_reply"]]}, "value": {"type": "integer", "minInteger": 0, "maxInteger": 4294967295}, "min": 0, "max": "unlimited"}},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    SSL: {
      maxRows: 1,
      columns: {
        private_key: {"type": "string"},
        certificate: {"type": "string"},
        ca_cert: {"type": "string"},
        bootstrap_ca_cert: {"type": "boolean"},
        external_ids: {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
      },
    },
    AutoAttach: {
      columns: {
        system_name: {"type": "string"},
        system_description: {"type": "string"},
        mappings: {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 16777215}, "value": {"type": "integer", "minInteger": 0, "maxInteger": 4095}, "min": 0, "max": "unlimited"}},
      },
    },
  },
} as const satisfies JsonDatabaseSchema;

/** The parsed Open_vSwitch schema the daemon's database uses. */
export const vswitchSchema: DatabaseSchema = parseSchema(VSWITCH_SCHEMA_JSON);

// --- row types of the vswitch schema, derived from the schema literal ------------

type VswitchTables = (typeof VSWITCH_SCHEMA_JSON)['tables'];
export type VswitchTable = keyof VswitchTables;

/** The TS type of one atom of an OVSDB base type (enums become literal unions). */
type AtomOf<B> = B extends 'integer' | 'real'
  ? number
  : B extends 'boolean'
    ? boolean
    : B extends 'string' | 'uuid'
      ? string
      : B extends { enum: readonly ['set', readonly (infer E)[]] }
        ? E
        : B extends { enum: infer E extends Atom }
          ? E
          : B extends { type: infer T }
            ? AtomOf<T>
            : never;

/** The TS type of a column value, by the column's kind (see datum.ts). min and max default to 1. */
type DatumOf<T> = T extends AtomicType
  ? AtomOf<T>
  : T extends { key: infer K; value: infer V }
    ? ReadonlyMap<AtomOf<K>, AtomOf<V>>
    : T extends { key: infer K; max: 'unlimited' }
      ? readonly AtomOf<K>[]
      : T extends { key: infer K; min: 0; max: 1 }
        ? AtomOf<K> | null
        : T extends { key: infer K; max: 1 }
          ? AtomOf<K>
          : T extends { key: infer K; max: number }
            ? readonly AtomOf<K>[]
            : T extends { key: infer K; min: 0 }
              ? AtomOf<K> | null
              : T extends { key: infer K }
                ? AtomOf<K>
                : never;

/** A row of a vswitch table, e.g. VswitchRow<'Bridge'>['fail_mode'] is 'standalone' | 'secure' | null. */
export type VswitchRow<T extends VswitchTable> = { readonly _uuid: string } & {
  readonly [C in keyof VswitchTables[T]['columns']]: VswitchTables[T]['columns'][C] extends { type: infer X } ? DatumOf<X> : never;
};
