// Flows in ovs-ofctl syntax: "table=1,priority=100,tcp,tp_dst=80,actions=..."
// parsed into the FLOW_MOD `ovs-ofctl -O OpenFlow13` would send for add-flow,
// mod-flows and del-flows (--strict), and flow entries printed the way
// dump-flows and ofp-print show them (OVS lib/ofp-flow.c).
import { OFP13_VERSION, OFP_NO_BUFFER, OFPFC, OFPFF, OFPG, OFPMP, OFPP, OFPT } from '../constants.js';
import type { FlowModMsg } from '../flow-mod.js';
import type { FlowStats, MultipartRequestMsg } from '../multipart.js';
import type { Match } from '../match.js';
import type { Instruction } from '../instructions.js';
import { formatInstructions, parseInstructions } from './action-syntax.js';
import { allOnes, formatDuration, formatPort, parseIntExact, parsePort, parseUint, ValueError } from './field-values.js';
import { parseKeyValues, type KeyValue } from './key-value.js';
import {
  DEFAULT_PRIORITY,
  ETH_TYPE,
  FlowMatch,
  formatFlowMatch,
  isUnsupportedFieldName,
  matchToOxm,
  mfFieldByName,
  oxmToMatch,
  parseFieldValue,
  setField,
} from './match-syntax.js';
import { OfctlSyntaxError } from './syntax-error.js';

/** 'dump' is the filter of dump-flows / dump-aggregate (OVS's command -1). */
export type FlowCommand = 'add' | 'modify' | 'delete' | 'dump';

export interface ParseFlowOptions {
  /** add-flow (default), mod-flows or del-flows. */
  command?: FlowCommand;
  /** --strict: MODIFY_STRICT / DELETE_STRICT. */
  strict?: boolean;
  xid?: number;
}

/** Shorthands (ofp_parse_protocol): ethertype and IP protocol. */
const PROTOCOLS: Readonly<Record<string, readonly [number, number]>> = {
  ip: [ETH_TYPE.IP, 0],
  ipv4: [ETH_TYPE.IP, 0],
  ip4: [ETH_TYPE.IP, 0],
  arp: [ETH_TYPE.ARP, 0],
  icmp: [ETH_TYPE.IP, 1],
  tcp: [ETH_TYPE.IP, 6],
  udp: [ETH_TYPE.IP, 17],
  sctp: [ETH_TYPE.IP, 132],
  ipv6: [ETH_TYPE.IPV6, 0],
  ip6: [ETH_TYPE.IPV6, 0],
  icmp6: [ETH_TYPE.IPV6, 58],
  tcp6: [ETH_TYPE.IPV6, 6],
  udp6: [ETH_TYPE.IPV6, 17],
  sctp6: [ETH_TYPE.IPV6, 132],
  rarp: [ETH_TYPE.RARP, 0],
  mpls: [ETH_TYPE.MPLS, 0],
  mplsm: [ETH_TYPE.MPLS_MCAST, 0],
};

const FLAG_WORDS: Readonly<Record<string, number>> = {
  send_flow_rem: OFPFF.SEND_FLOW_REM,
  check_overlap: OFPFF.CHECK_OVERLAP,
  reset_counts: OFPFF.RESET_COUNTS,
  no_packet_counts: OFPFF.NO_PKT_COUNTS,
  no_byte_counts: OFPFF.NO_BYT_COUNTS,
};

function kvErr(kv: KeyValue, message: string, onValue = false): OfctlSyntaxError {
  return onValue ? new OfctlSyntaxError(message, kv.value, kv.valueAt + 1) : new OfctlSyntaxError(message, kv.key, kv.keyAt + 1);
}

function u(kv: KeyValue, bits: number): number {
  try {
    return parseUint(kv.value, bits, kv.key);
  } catch (e) {
    throw kvErr(kv, (e as Error).message, true);
  }
}

/** Applies one match keyword (shorthand or field) to `fm`; false if `kv` is no match keyword. */
export function applyMatchKeyword(fm: FlowMatch, kv: KeyValue): boolean {
  const proto = PROTOCOLS[kv.key];
  if (proto) {
    fm.ethernetImplied = true;
    fm.setExact('dlType', BigInt(proto[0]));
    if (proto[1]) fm.setExact('nwProto', BigInt(proto[1]));
    return true;
  }
  const fd = mfFieldByName(kv.key);
  if (!fd) {
    if (isUnsupportedFieldName(kv.key)) {
      throw kvErr(kv, `field ${kv.key} has no OpenFlow 1.3 encoding in this codec (Open vSwitch extension)`);
    }
    return false;
  }
  try {
    const r = parseFieldValue(fd, kv.value === '' ? '0/0' : kv.value);
    setField(fm, fd, r.value, r.mask);
  } catch (e) {
    if (e instanceof ValueError) throw kvErr(kv, e.message, true);
    throw e;
  }
  return true;
}

/** Finds "action" like ofp_extract_actions(): returns [match part, actions part, actions offset]. */
function splitActions(text: string): { matchText: string; actText: string | undefined; actAt: number } {
  const i = text.indexOf('action');
  if (i < 0) return { matchText: text, actText: undefined, actAt: 0 };
  const eq = text.indexOf('=', i + 1);
  if (eq < 0) return { matchText: text.slice(0, i), actText: undefined, actAt: 0 };
  return { matchText: text.slice(0, i), actText: text.slice(eq + 1), actAt: eq + 1 };
}

/**
 * Parses a flow as add-flow / mod-flows / del-flows take it, into the FLOW_MOD
 * that `ovs-ofctl -O OpenFlow13` sends. Throws OfctlSyntaxError.
 */
export function parseFlowMod(text: string, opts: ParseFlowOptions = {}): FlowModMsg {
  const cmd = opts.command ?? 'add';
  const strict = opts.strict === true;
  const isAdd = cmd === 'add';
  const isMod = cmd === 'modify';
  const isDel = cmd === 'delete' || cmd === 'dump';
  const allowActions = isAdd || isMod;
  const allowTimeouts = isAdd || isMod;
  const allowFlags = isAdd || isMod;
  const allowPriority = !isDel || strict;
  const allowOutPort = isDel;

  let matchText = text;
  let actText: string | undefined;
  let actAt = 0;
  if (allowActions) {
    ({ matchText, actText, actAt } = splitActions(text));
    if (actText === undefined) throw new OfctlSyntaxError('must specify an action', text, 1);
  }

  const fm = new FlowMatch();
  let tableId = 0xff;
  let priority = DEFAULT_PRIORITY;
  let idleTimeout = 0;
  let hardTimeout = 0;
  let flags = 0;
  let cookie = 0n;
  let cookieMask = 0n;
  let newCookie: bigint | undefined;
  let outPort: number = OFPP.ANY;
  let outGroup: number = OFPG.ANY;

  for (const kv of parseKeyValues(matchText)) {
    if (allowFlags && FLAG_WORDS[kv.key] !== undefined) {
      flags |= FLAG_WORDS[kv.key]!;
      continue;
    }
    if (kv.key === 'no_readonly_table' || kv.key === 'allow_hidden_fields') continue;
    if (applyMatchKeyword(fm, kv)) continue;
    if (kv.value === '') throw kvErr(kv, `field ${kv.key} missing value`);
    switch (kv.key) {
      case 'table': {
        if (!/^\d+$/.test(kv.value) || Number(kv.value) > 255) throw kvErr(kv, `unknown table "${kv.value}"`, true);
        tableId = Number(kv.value);
        continue;
      }
      case 'out_port':
        if (allowOutPort) {
          const p = parsePort(kv.value);
          if (p === undefined) throw kvErr(kv, `${kv.value} is not a valid OpenFlow port`, true);
          outPort = p;
          continue;
        }
        break;
      case 'out_group':
        if (allowOutPort) {
          outGroup = kv.value.toUpperCase() === 'ALL' ? OFPG.ALL : kv.value.toUpperCase() === 'ANY' ? OFPG.ANY : u(kv, 32);
          continue;
        }
        break;
      case 'priority':
        if (allowPriority) {
          priority = u(kv, 16);
          continue;
        }
        break;
      case 'idle_timeout':
      case 'hard_timeout':
        if (allowTimeouts) {
          if (kv.key === 'idle_timeout') idleTimeout = u(kv, 16);
          else hardTimeout = u(kv, 16);
          continue;
        }
        break;
      case 'importance':
        // Parsed but, as ovs-ofctl does for OpenFlow 1.3, not sent.
        if (isAdd) {
          u(kv, 16);
          continue;
        }
        break;
      case 'cookie': {
        const slash = kv.value.indexOf('/');
        try {
          if (slash >= 0) {
            if (isAdd) throw kvErr(kv, 'flow additions cannot use a cookie mask', true);
            cookie = parseIntExact(kv.value.slice(0, slash), 8, 'cookie');
            cookieMask = parseIntExact(kv.value.slice(slash + 1), 8, 'cookie mask');
          } else {
            if (isDel) throw kvErr(kv, 'cannot set cookie', true);
            newCookie = parseIntExact(kv.value, 8, 'cookie');
          }
        } catch (e) {
          if (e instanceof ValueError) throw kvErr(kv, e.message, true);
          throw e;
        }
        continue;
      }
      case 'duration':
      case 'n_packets':
      case 'n_bytes':
      case 'idle_age':
      case 'hard_age':
        continue;
      default:
        break;
    }
    throw kvErr(kv, `unknown keyword ${kv.key}`);
  }

  let instructions: Instruction[] = [];
  if (actText !== undefined) instructions = parseInstructions(actText, { match: fm, tableId, base: actAt });

  const command = isAdd ? OFPFC.ADD : isMod ? (strict ? OFPFC.MODIFY_STRICT : OFPFC.MODIFY) : strict ? OFPFC.DELETE_STRICT : OFPFC.DELETE;
  // ofputil_encode_flow_mod(): an add carries the new cookie, others the cookie to match.
  const wireCookie = isAdd ? (newCookie ?? 0n) : cookie & allOnes(64);
  if (!isDel && tableId === 0xff) tableId = 0;
  return {
    type: OFPT.FLOW_MOD,
    version: OFP13_VERSION,
    xid: opts.xid ?? 0,
    cookie: wireCookie,
    cookieMask,
    tableId,
    command,
    idleTimeout,
    hardTimeout,
    priority,
    bufferId: OFP_NO_BUFFER,
    outPort,
    outGroup,
    flags,
    match: matchToOxm(fm),
    instructions,
  };
}

/**
 * Parses the FLOW argument of dump-flows / dump-aggregate into the OpenFlow
 * 1.3 multipart request ovs-ofctl sends (match, table, out_port/out_group,
 * cookie/mask). Throws OfctlSyntaxError.
 */
export function parseFlowStatsRequest(text: string, opts: { aggregate?: boolean; xid?: number } = {}): MultipartRequestMsg {
  const fm = parseFlowMod(text, { command: 'dump' });
  const mpType = opts.aggregate === true ? OFPMP.AGGREGATE : OFPMP.FLOW;
  return {
    type: OFPT.MULTIPART_REQUEST,
    version: OFP13_VERSION,
    xid: opts.xid ?? 0,
    flags: 0,
    body: { mpType, tableId: fm.tableId, outPort: fm.outPort, outGroup: fm.outGroup, cookie: fm.cookie, cookieMask: fm.cookieMask, match: fm.match },
  };
}

/** Parses just a match ("tcp,tp_dst=80"), e.g. for dump-flows' filter, into OXM. */
export function parseMatch(text: string): Match {
  const fm = new FlowMatch();
  for (const kv of parseKeyValues(text)) {
    if (!applyMatchKeyword(fm, kv)) throw kvErr(kv, `unknown keyword ${kv.key}`);
  }
  return matchToOxm(fm);
}

// --- printing -------------------------------------------------------------------------

export { formatDuration };

/** An OXM match (and priority unless default) as ovs-ofctl prints it: "priority=5,tcp,tp_dst=80". */
export function formatMatch(match: Match, priority = DEFAULT_PRIORITY): string {
  const { match: fm, extra } = oxmToMatch(match);
  return formatFlowMatch(fm, priority, extra);
}

/** ofputil_flow_mod_flags_format(): each set flag followed by a space. */
export function formatFlowFlags(flags: number): string {
  let s = '';
  for (const [word, bit] of Object.entries(FLAG_WORDS)) if (flags & bit) s += `${word} `;
  return s;
}

export interface FormatFlowStatsOptions {
  /** Print duration and counters (dump-flows does; --no-stats does not). Default true. */
  stats?: boolean;
}

/**
 * One flow entry as `ovs-ofctl -O OpenFlow13 --no-names dump-flows` prints it,
 * without the leading space: "cookie=0x0, duration=1.38s, table=0, n_packets=1,
 * n_bytes=156, priority=300,udp,tp_dst=5003 actions=meter:1,goto_table:1".
 */
export function formatFlowStats(fs: FlowStats, opts: FormatFlowStatsOptions = {}): string {
  const stats = opts.stats !== false;
  let s = '';
  if (stats || fs.cookie !== 0n) s += `cookie=0x${fs.cookie.toString(16)}, `;
  if (stats) s += `duration=${formatDuration(fs.durationSec, fs.durationNsec)}, `;
  if (stats || fs.tableId !== 0) s += `table=${fs.tableId}, `;
  if (stats) s += `n_packets=${fs.packetCount}, n_bytes=${fs.byteCount}, `;
  if (fs.idleTimeout !== 0) s += `idle_timeout=${fs.idleTimeout}, `;
  if (fs.hardTimeout !== 0) s += `hard_timeout=${fs.hardTimeout}, `;
  s += formatFlowFlags(fs.flags);
  const m = formatMatch(fs.match, fs.priority);
  if (m !== '') s += `${m} `;
  return `${s}actions=${formatInstructions(fs.instructions)}`;
}

/** The body of a FLOW_MOD as ofp-print shows it after the header: "ADD table:1 priority=100,in_port=1 cookie:0x5 ... actions=output:2". */
export function formatFlowMod(m: FlowModMsg): string {
  const cmd = ['ADD', 'MOD', 'MOD_STRICT', 'DEL', 'DEL_STRICT'][m.command] ?? `cmd:${m.command}`;
  let s = cmd;
  if (m.tableId !== 0) s += ` table:${m.tableId === 255 ? 255 : m.tableId}`;
  s += ' ';
  const match = formatMatch(m.match, m.priority);
  s += match;
  if (!s.endsWith(' ')) s += ' ';
  if (m.command === OFPFC.ADD && m.cookie !== 0n && m.cookie !== allOnes(64)) s += `cookie:0x${m.cookie.toString(16)} `;
  if (m.cookieMask !== 0n) s += `cookie:0x${m.cookie.toString(16)}/0x${m.cookieMask.toString(16)} `;
  if (m.idleTimeout !== 0) s += `idle:${m.idleTimeout} `;
  if (m.hardTimeout !== 0) s += `hard:${m.hardTimeout} `;
  if (m.priority !== DEFAULT_PRIORITY && !match.includes('priority')) s += `pri:${m.priority} `;
  if (m.bufferId !== OFP_NO_BUFFER) s += `buf:0x${m.bufferId.toString(16)} `;
  if (m.outPort !== OFPP.ANY) s += `out_port:${formatPort(m.outPort)} `;
  s += formatFlowFlags(m.flags);
  return `${s}actions=${formatInstructions(m.instructions)}`;
}
