// diff-flows and replace-flows (ovs-ofctl's fte tables): flows from a file or
// a switch keyed by table, priority and match; two flows with the same key
// differ when cookie, timeouts or actions differ. diff-flows prints
// "-FLOW" / "+FLOW" lines (sorted, where ovs-ofctl uses hash order) and exits
// 2 on any difference; replace-flows deletes (strict) what the file lacks and
// adds what the switch lacks or has differently, pipelined with one barrier.

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { OFP13_VERSION, OFP_NO_BUFFER, OFPFC, OFPG, OFPMP, OFPP, OFPT, type FlowModMsg, type FlowStats, type Instruction, type Match } from '../ofproto/openflow/index.js';
import { formatInstructions, formatMatch, parseFlowStatsRequest } from '../ofproto/openflow/text/index.js';
import type { OfctlConnection } from './ofctl-connection.js';
import type { CommandContext } from './ofctl-commands.js';

/** One version of a flow (ovs-ofctl's fte_version). */
export interface FlowVersion {
  tableId: number;
  priority: number;
  match: Match;
  cookie: bigint;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  instructions: Instruction[];
}

/** Flows by "table|match" key. */
export type FlowTable = Map<string, FlowVersion>;

function keyOf(v: FlowVersion): string {
  return `${v.tableId}|${formatMatch(v.match, v.priority)}`;
}

export function flowTable(versions: Iterable<FlowVersion>): FlowTable {
  const t: FlowTable = new Map();
  for (const v of versions) t.set(keyOf(v), v);
  return t;
}

export function fromFlowStats(f: FlowStats): FlowVersion {
  return { tableId: f.tableId, priority: f.priority, match: f.match, cookie: f.cookie, idleTimeout: f.idleTimeout, hardTimeout: f.hardTimeout, flags: f.flags, instructions: f.instructions };
}

export function fromFlowMod(m: FlowModMsg): FlowVersion {
  return { tableId: m.tableId, priority: m.priority, match: m.match, cookie: m.cookie, idleTimeout: m.idleTimeout, hardTimeout: m.hardTimeout, flags: m.flags, instructions: m.instructions };
}

/** fte_version_format(): "table=1 priority=5,ip cookie=0x5 idle_timeout=10 actions=drop". */
export function formatFlowVersion(v: FlowVersion): string {
  let s = v.tableId !== 0 ? `table=${v.tableId} ` : '';
  s += formatMatch(v.match, v.priority);
  if (v.cookie !== 0n) s += ` cookie=0x${v.cookie.toString(16)}`;
  if (v.idleTimeout !== 0) s += ` idle_timeout=${v.idleTimeout}`;
  if (v.hardTimeout !== 0) s += ` hard_timeout=${v.hardTimeout}`;
  return `${s} actions=${formatInstructions(v.instructions)}`;
}

function sameVersion(a: FlowVersion, b: FlowVersion): boolean {
  return a.cookie === b.cookie && a.idleTimeout === b.idleTimeout && a.hardTimeout === b.hardTimeout && formatInstructions(a.instructions) === formatInstructions(b.instructions);
}

/** The "-"/"+" lines of diff-flows, sorted by key; empty when the tables agree. */
export function diffFlowTables(a: FlowTable, b: FlowTable): string {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  let out = '';
  for (const k of keys) {
    const va = a.get(k);
    const vb = b.get(k);
    if (va && vb && sameVersion(va, vb)) continue;
    if (va) out += `-${formatFlowVersion(va)}\n`;
    if (vb) out += `+${formatFlowVersion(vb)}\n`;
  }
  return out;
}

/** Flow mods turning switch table `have` into file table `want` (deletes first). */
export function replaceFlowMods(have: FlowTable, want: FlowTable): FlowModMsg[] {
  const mods: FlowModMsg[] = [];
  const mod = (v: FlowVersion, command: number): FlowModMsg => ({
    type: OFPT.FLOW_MOD,
    version: OFP13_VERSION,
    xid: 0,
    cookie: command === OFPFC.ADD ? v.cookie : 0n,
    cookieMask: 0n,
    tableId: v.tableId,
    command,
    idleTimeout: command === OFPFC.ADD ? v.idleTimeout : 0,
    hardTimeout: command === OFPFC.ADD ? v.hardTimeout : 0,
    priority: v.priority,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: command === OFPFC.ADD ? v.flags : 0,
    match: v.match,
    instructions: command === OFPFC.ADD ? v.instructions : [],
  });
  for (const [k, v] of have) if (!want.has(k)) mods.push(mod(v, OFPFC.DELETE_STRICT));
  for (const [k, v] of want) {
    const h = have.get(k);
    if (!h || !sameVersion(h, v)) mods.push(mod(v, OFPFC.ADD));
  }
  return mods;
}

/** Every flow of a switch (a dump of all tables). */
export async function switchFlows(conn: OfctlConnection, xid: number): Promise<FlowVersion[]> {
  const parts = await conn.dump(parseFlowStatsRequest('', { xid }));
  return parts.flatMap((p) => (p.body.mpType === OFPMP.FLOW ? p.body.flows.map(fromFlowStats) : []));
}

/** ovs-ofctl's rule: a SOURCE that names a regular file is a flow file, else a switch. */
export function isFlowFile(source: string, ctx: Pick<CommandContext, 'cwd'>): boolean {
  if (source === '-') return true;
  try {
    return statSync(resolve(ctx.cwd, source)).isFile();
  } catch {
    return false;
  }
}
