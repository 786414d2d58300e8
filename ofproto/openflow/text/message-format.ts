// Whole messages as ovs-ofctl prints them (ofp-print, and so dump-flows,
// dump-groups, dump-meters, dump-ports, dump-ports-desc, dump-aggregate,
// dump-tables, dump-desc, show): "OFPST_FLOW reply (OF1.3) (xid=0x2):" and
// its body, following OVS's lib/ofp-print.c, ofp-port.c and ofp-table.c.
import { OFPAT, OFPC, OFPMP, OFPPC, OFPPF, OFPPS, OFPT } from '../constants.js';
import type { OfpMessage } from '../codec.js';
import type { MultipartReplyMsg, PortStats, TableStats } from '../multipart.js';
import type { OfpPort } from '../port.js';
import { formatDuration, formatMac, formatPort } from './field-values.js';
import { formatFlowMod, formatFlowStats } from './flow-syntax.js';
import { formatGroupDesc, formatGroupMod, formatGroupStats } from './group-syntax.js';
import { formatMeterConfig, formatMeterFeatures, formatMeterMod, formatMeterStats } from './meter-syntax.js';

const MP_NAMES: Readonly<Record<number, string>> = {
  [OFPMP.DESC]: 'DESC',
  [OFPMP.FLOW]: 'FLOW',
  [OFPMP.AGGREGATE]: 'AGGREGATE',
  [OFPMP.TABLE]: 'TABLE',
  [OFPMP.PORT_STATS]: 'PORT',
  [OFPMP.QUEUE]: 'QUEUE',
  [OFPMP.GROUP]: 'GROUP',
  [OFPMP.GROUP_DESC]: 'GROUP_DESC',
  [OFPMP.GROUP_FEATURES]: 'GROUP_FEATURES',
  [OFPMP.METER]: 'METER',
  [OFPMP.METER_CONFIG]: 'METER_CONFIG',
  [OFPMP.METER_FEATURES]: 'METER_FEATURES',
  [OFPMP.TABLE_FEATURES]: 'TABLE_FEATURES',
  [OFPMP.PORT_DESC]: 'PORT_DESC',
};

const TYPE_NAMES = new Map<number, string>(Object.entries(OFPT).map(([k, v]) => [v, `OFPT_${k}`]));

/** The first words of ofp-print's line: "OFPST_FLOW reply (OF1.3) (xid=0x2):". */
export function formatMessageHeader(m: OfpMessage): string {
  let name: string;
  if (m.type === OFPT.MULTIPART_REQUEST || m.type === OFPT.MULTIPART_REPLY) {
    name = `OFPST_${MP_NAMES[m.body.mpType] ?? m.body.mpType} ${m.type === OFPT.MULTIPART_REQUEST ? 'request' : 'reply'}`;
  } else {
    name = TYPE_NAMES.get(m.type) ?? `OFPT_${m.type}`;
  }
  const ver = m.version === 4 ? 'OF1.3' : `OF0x${m.version.toString(16).padStart(2, '0')}`;
  return `${name} (${ver}) (xid=0x${(m.xid >>> 0).toString(16)}):`;
}

// --- ports ------------------------------------------------------------------------------

function bitNames(bits: number, names: ReadonlyArray<readonly [number, string]>): string {
  const out: string[] = [];
  let rest = bits;
  for (const [bit, name] of names) {
    if (bits & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  for (let b = 0; b < 32; b++) if (rest & (1 << b)) out.push(`0x${((1 << b) >>> 0).toString(16)}`);
  return out.join(' ');
}

const PORT_CONFIG: ReadonlyArray<readonly [number, string]> = [
  [OFPPC.PORT_DOWN, 'PORT_DOWN'],
  [OFPPC.NO_RECV, 'NO_RECV'],
  [OFPPC.NO_FWD, 'NO_FWD'],
  [OFPPC.NO_PACKET_IN, 'NO_PACKET_IN'],
];
const PORT_STATE: ReadonlyArray<readonly [number, string]> = [
  [OFPPS.LINK_DOWN, 'LINK_DOWN'],
  [OFPPS.BLOCKED, 'BLOCKED'],
  [OFPPS.LIVE, 'LIVE'],
];
const PORT_FEATURES: ReadonlyArray<readonly [number, string]> = [
  [OFPPF['10MB_HD'], '10MB-HD'],
  [OFPPF['10MB_FD'], '10MB-FD'],
  [OFPPF['100MB_HD'], '100MB-HD'],
  [OFPPF['100MB_FD'], '100MB-FD'],
  [OFPPF['1GB_HD'], '1GB-HD'],
  [OFPPF['1GB_FD'], '1GB-FD'],
  [OFPPF['10GB_FD'], '10GB-FD'],
  [OFPPF['40GB_FD'], '40GB-FD'],
  [OFPPF['100GB_FD'], '100GB-FD'],
  [OFPPF['1TB_FD'], '1TB-FD'],
  [OFPPF.OTHER, 'OTHER'],
  [OFPPF.COPPER, 'COPPER'],
  [OFPPF.FIBER, 'FIBER'],
  [OFPPF.AUTONEG, 'AUTO_NEG'],
  [OFPPF.PAUSE, 'AUTO_PAUSE'],
  [OFPPF.PAUSE_ASYM, 'AUTO_PAUSE_ASYM'],
];

/** One port of dump-ports-desc / show (ofp_print_phy_port), lines joined by \n, no trailing newline. */
export function formatPortDesc(p: OfpPort): string {
  const lines = [` ${formatPort(p.portNo)}(${p.name}): addr:${formatMac(BigInt('0x' + (p.hwAddr.toString('hex') || '0')))}`];
  lines.push(`     config:     ${p.config ? bitNames(p.config, PORT_CONFIG) : '0'}`);
  lines.push(`     state:      ${p.state ? bitNames(p.state, PORT_STATE) : '0'}`);
  if (p.curr) lines.push(`     current:    ${bitNames(p.curr, PORT_FEATURES)}`);
  if (p.advertised) lines.push(`     advertised: ${bitNames(p.advertised, PORT_FEATURES)}`);
  if (p.supported) lines.push(`     supported:  ${bitNames(p.supported, PORT_FEATURES)}`);
  if (p.peer) lines.push(`     peer:       ${bitNames(p.peer, PORT_FEATURES)}`);
  lines.push(`     speed: ${Math.floor(p.currSpeedKbps / 1000)} Mbps now, ${Math.floor(p.maxSpeedKbps / 1000)} Mbps max`);
  return lines.join('\n');
}

/** Ports sorted as OVS prints them (by port number). */
export function formatPortDescs(ports: readonly OfpPort[]): string {
  return [...ports].sort((a, b) => a.portNo - b.portNo).map(formatPortDesc).join('\n');
}

const stat = (v: bigint): string => (v === 0xffffffffffffffffn ? '?' : v.toString());

/** One port of dump-ports (ofputil_format_port_stats), three lines. */
export function formatPortStats(p: PortStats): string {
  const small = p.portNo < 10 ? ' ' : '';
  let s = `  port ${small}${formatPort(p.portNo)}: rx pkts=${stat(p.rxPackets)}, bytes=${stat(p.rxBytes)}, drop=${stat(p.rxDropped)}, `;
  s += `errs=${stat(p.rxErrors)}, frame=${stat(p.rxFrameErr)}, over=${stat(p.rxOverErr)}, crc=${stat(p.rxCrcErr)}\n`;
  s += `           tx pkts=${stat(p.txPackets)}, bytes=${stat(p.txBytes)}, drop=${stat(p.txDropped)}, errs=${stat(p.txErrors)}, coll=${stat(p.collisions)}`;
  if (p.durationSec !== 0xffffffff) s += `\n           duration=${formatDuration(p.durationSec, p.durationNsec)}`;
  return s;
}

/** dump-tables for OpenFlow 1.3 table stats, identical runs folded into "ditto". */
export function formatTableStats(tables: readonly TableStats[]): string {
  let s = '';
  let first = -1;
  let last = -1;
  const flush = (): void => {
    if (first < 0) return;
    s += first === last ? `\n  table ${first}: ditto\n` : `\n  tables ${first}...${last}: ditto\n`;
    first = -1;
  };
  let prev: TableStats | undefined;
  for (const t of tables) {
    if (prev && prev.activeCount === t.activeCount && prev.lookupCount === t.lookupCount && prev.matchedCount === t.matchedCount) {
      if (first < 0) first = t.tableId;
      last = t.tableId;
    } else {
      flush();
      s += `\n  table ${t.tableId}:\n    active=${t.activeCount}, lookup=${t.lookupCount}, matched=${t.matchedCount}\n`;
    }
    prev = t;
  }
  flush();
  return s.replace(/\n$/, '');
}

// group-features action names, in Open vSwitch's (ofpact) order.
const GROUP_ACTION_NAMES: ReadonlyArray<readonly [number, string]> = [
  [OFPAT.OUTPUT, 'output'],
  [OFPAT.GROUP, 'group'],
  [OFPAT.SET_FIELD, 'set_field'],
  [OFPAT.POP_VLAN, 'strip_vlan'],
  [OFPAT.PUSH_VLAN, 'push_vlan'],
  [OFPAT.SET_NW_TTL, 'mod_nw_ttl'],
  [OFPAT.DEC_NW_TTL, 'dec_ttl'],
  [OFPAT.SET_MPLS_TTL, 'set_mpls_ttl'],
  [OFPAT.DEC_MPLS_TTL, 'dec_mpls_ttl'],
  [OFPAT.PUSH_MPLS, 'push_mpls'],
  [OFPAT.POP_MPLS, 'pop_mpls'],
  [OFPAT.SET_QUEUE, 'set_queue'],
];

const CAPABILITIES: ReadonlyArray<readonly [number, string]> = [
  [OFPC.FLOW_STATS, 'FLOW_STATS'],
  [OFPC.TABLE_STATS, 'TABLE_STATS'],
  [OFPC.PORT_STATS, 'PORT_STATS'],
  [OFPC.GROUP_STATS, 'GROUP_STATS'],
  [OFPC.IP_REASM, 'IP_REASM'],
  [OFPC.QUEUE_STATS, 'QUEUE_STATS'],
  [OFPC.PORT_BLOCKED, 'PORT_BLOCKED'],
];

/** The body of a multipart reply as ofp-print shows it after the header (may start with a space or newline). */
export function formatMultipartReply(m: MultipartReplyMsg): string {
  const b = m.body;
  switch (b.mpType) {
    case OFPMP.DESC:
      return `\nManufacturer: ${b.mfrDesc}\nHardware: ${b.hwDesc}\nSoftware: ${b.swDesc}\nSerial Num: ${b.serialNum}\nDP Description: ${b.dpDesc}`;
    case OFPMP.FLOW:
      return b.flows.map((f) => `\n ${formatFlowStats(f)}`).join('');
    case OFPMP.AGGREGATE:
      return ` packet_count=${b.packetCount} byte_count=${b.byteCount} flow_count=${b.flowCount}`;
    case OFPMP.TABLE:
      return formatTableStats(b.tables);
    case OFPMP.PORT_STATS:
      return ` ${b.ports.length} ports${b.ports.map((p) => `\n${formatPortStats(p)}`).join('')}`;
    case OFPMP.PORT_DESC:
      return b.ports.length ? `\n${formatPortDescs(b.ports)}` : '';
    case OFPMP.QUEUE:
      return ` ${b.queues.length} queues${b.queues
        .map(
          (q) =>
            `\n  port ${formatPort(q.portNo)} queue ${q.queueId}: bytes=${stat(q.txBytes)}, pkts=${stat(q.txPackets)}, errors=${stat(q.txErrors)}, duration=${formatDuration(q.durationSec, q.durationNsec)}`,
        )
        .join('')}`;
    case OFPMP.GROUP:
      return b.groups.map((g) => `\n ${formatGroupStats(g)}`).join('');
    case OFPMP.GROUP_DESC:
      return b.groups.map((g) => `\n ${formatGroupDesc(g)}`).join('');
    case OFPMP.GROUP_FEATURES: {
      let s = `\n Group table:\n    Types:  0x${b.types.toString(16)}\n    Capabilities:  0x${b.capabilities.toString(16)}`;
      const names = ['all', 'select', 'indirect', 'fast failover'];
      for (let i = 0; i < 4; i++) {
        if (!(b.types & (1 << i))) continue;
        const acts = GROUP_ACTION_NAMES.filter(([t]) => b.actions[i]! & (1 << t)).map(([, n]) => n);
        s += `\n    ${names[i]} group:\n       max_groups=0x${b.maxGroups[i]!.toString(16)}\n       actions: ${acts.join(' ')}`;
      }
      return s;
    }
    case OFPMP.METER:
      // ofp-print ends each meter with a newline and starts the next with one: a blank line between.
      return b.meters.map((s) => `\n${formatMeterStats(s)}`).join('\n');
    case OFPMP.METER_CONFIG:
      return b.meters.map((c) => `\n${formatMeterConfig(c)}`).join('\n');
    case OFPMP.METER_FEATURES:
      return `\n${formatMeterFeatures(b)}`;
    default:
      return '';
  }
}

/**
 * A message as `ovs-ofctl ofp-print` shows it (header line and body), for the
 * replies and mods the dump commands print; other types get their header only.
 */
export function formatOfpMessage(m: OfpMessage): string {
  const h = formatMessageHeader(m);
  switch (m.type) {
    case OFPT.MULTIPART_REPLY:
      return h + formatMultipartReply(m);
    case OFPT.FLOW_MOD:
      return `${h} ${formatFlowMod(m)}`;
    case OFPT.GROUP_MOD:
      return `${h}\n ${formatGroupMod(m)}`;
    case OFPT.METER_MOD:
      return `${h} ${formatMeterMod(m)}`;
    case OFPT.FEATURES_REPLY:
      return `${h} dpid:${m.datapathId.toString(16).padStart(16, '0')}\nn_tables:${m.nTables}, n_buffers:${m.nBuffers}\ncapabilities: ${bitNames(m.capabilities, CAPABILITIES)}`;
    case OFPT.GET_CONFIG_REPLY:
    case OFPT.SET_CONFIG: {
      const frags = ['normal', 'drop', 'reassemble', 'nx-match'][m.flags & 3];
      return `${h} frags=${frags} miss_send_len=${m.missSendLen}`;
    }
    default:
      return h;
  }
}

