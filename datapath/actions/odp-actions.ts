// Datapath actions in Open vSwitch's text form (format_odp_actions() /
// parse_odp_actions() of lib/odp-util.c, as `dpctl/dump-flows` shows them):
// `1,2`, `drop`, `set(ipv4(src=..,ttl=..))`, `push_vlan(vid=10,pcp=0)`,
// `sample(sample=50.0%,actions(..))`, `clone(..)`, `trunc(100)`, `meter(0)`,
// `dec_ttl(le_1(..))`, `userspace(pid=0,userdata(..))`. Not for the hot path.

import {
  ETH_TYPE_VLAN,
  KEY_WORDS,
  VLAN_CFI,
  W_MPLS0,
} from '../flow/key.js';
import {
  OdpCursor,
  OdpParseError,
  attrMaskState,
  formatAttrFields,
  formatFlowKey,
  formatVlanTci,
  parseAttrFields,
  parseFlowKey,
  parseMplsAttr,
  parseNum,
  valueAndMask,
} from '../flow/odp.js';
import { SET_ATTRS, type DpAction, type SetAttr } from './types.js';

// --- printing -------------------------------------------------------------------------

function formatLse(l: number): string {
  return `label=${l >>> 12},tc=${(l >>> 9) & 7},ttl=${l & 0xff},bos=${(l >>> 8) & 1}`;
}

/** C's "%.1f" (ties to even on exactly representable halves, as glibc printf). */
function oneDecimal(x: number): string {
  const t = x * 10;
  const f = Math.floor(t);
  if (t - f === 0.5 && Number.isInteger(t - 0.5)) return ((f % 2 === 0 ? f : f + 1) / 10).toFixed(1);
  return x.toFixed(1);
}

function formatSet(attr: SetAttr, key: Uint32Array, mask: Uint32Array | null): string {
  if (attr === 'mpls') {
    const l = key[W_MPLS0] >>> 0;
    const m = mask === null ? 0xffffffff : mask[W_MPLS0] >>> 0;
    if (m === 0xffffffff) return `set(mpls(${formatLse(l)}))`;
    return (
      `set(mpls(label=${l >>> 12}/0x${(m >>> 12).toString(16)},tc=${(l >>> 9) & 7}/${((m >>> 9) & 7).toString(16)},` +
      `ttl=${l & 0xff}/0x${(m & 0xff).toString(16)},bos=${(l >>> 8) & 1}/${((m >>> 8) & 1).toString(16)}))`
    );
  }
  // OVS_ACTION_ATTR_SET prints every field (verbose); SET_MASKED only the masked ones.
  return `set(${attr}(${formatAttrFields(attr, key, mask, mask === null)}))`;
}

function formatAction(a: DpAction): string {
  switch (a.type) {
    case 'output':
      return String(a.port);
    case 'set':
      return formatSet(a.attr, a.key, null);
    case 'set_masked':
      return formatSet(a.attr, a.key, a.mask);
    case 'push_vlan':
      return `push_vlan(${a.tpid !== ETH_TYPE_VLAN ? `tpid=0x${a.tpid.toString(16).padStart(4, '0')},` : ''}${formatVlanTci(a.tci, 0xffff)})`;
    case 'pop_vlan':
      return 'pop_vlan';
    case 'push_mpls':
      return `push_mpls(${formatLse(a.lse >>> 0)},eth_type=0x${a.ethertype.toString(16)})`;
    case 'pop_mpls':
      return `pop_mpls(eth_type=0x${a.ethertype.toString(16)})`;
    case 'push_pbb':
      return `push_pbb(itag=0x${(a.itag >>> 0).toString(16)})`;
    case 'pop_pbb':
      return 'pop_pbb';
    case 'set_eth_type':
      return `set_eth_type(0x${a.ethertype.toString(16)})`;
    case 'copy_ttl_in':
      return 'copy_ttl_in';
    case 'dec_ttl':
      return `dec_ttl(le_1(${formatActions(a.actions)}))`;
    case 'sample':
      return `sample(sample=${oneDecimal((100 * a.probability) / 0xffffffff)}%,actions(${formatActions(a.actions)}))`;
    case 'userspace': {
      let s = `userspace(pid=${a.pid}`;
      if (a.cookie !== undefined) s += `,userdata(${Buffer.from(a.cookie).toString('hex')})`;
      return s + ')';
    }
    case 'clone':
      return `clone(${formatActions(a.actions)})`;
    case 'truncate':
      return `trunc(${a.maxLen})`;
    case 'meter':
      return `meter(${a.id})`;
  }
}

/** An action list as OVS prints it; the empty list is `drop`. */
export function formatActions(actions: readonly DpAction[]): string {
  if (actions.length === 0) return 'drop';
  return actions.map(formatAction).join(',');
}

// --- parsing --------------------------------------------------------------------------

function isSetAttr(name: string): name is SetAttr {
  return (SET_ATTRS as readonly string[]).includes(name);
}

function parseSet(c: OdpCursor): DpAction {
  const at = c.pos;
  const attr = c.name();
  if (!isSetAttr(attr)) throw new OdpParseError('ODP_UNSUPPORTED', `set(${attr}(...)) is not a supported set action`, at);
  c.expect('(');
  const key = new Uint32Array(KEY_WORDS);
  const mask = new Uint32Array(KEY_WORDS);
  let exact: boolean;
  if (attr === 'mpls') {
    parseMplsAttr(c, key, mask);
    if (key[W_MPLS0 + 1] !== 0 || mask[W_MPLS0 + 1] !== 0) throw new OdpParseError('ODP_UNSUPPORTED', 'set(mpls): only one label stack entry', at);
    exact = mask[W_MPLS0] === 0xffffffff;
  } else {
    parseAttrFields(c, attr, key, mask);
    // As OVS: a set naming every field exactly is a plain set, anything else a masked set.
    exact = attrMaskState(attr, mask) === 'full';
  }
  return exact ? { type: 'set', attr, key } : { type: 'set_masked', attr, key, mask };
}

function parsePushVlan(c: OdpCursor): DpAction {
  let tpid = ETH_TYPE_VLAN;
  let vid = 0;
  let pcp = 0;
  let cfi = 1;
  for (;;) {
    const at = c.pos;
    const name = c.name();
    c.expect('=');
    if (name === 'tpid') tpid = valueAndMask(c, 0xffff, 'tpid')[0];
    else if (name === 'vid') vid = valueAndMask(c, 0xfff, 'vid')[0];
    else if (name === 'pcp') pcp = valueAndMask(c, 7, 'pcp')[0];
    else if (name === 'cfi') cfi = valueAndMask(c, 1, 'cfi')[0];
    else throw new OdpParseError('ODP_UNKNOWN_FIELD', `push_vlan: unknown field "${name}"`, at);
    if (c.eat(')')) break;
    c.expect(',');
  }
  return { type: 'push_vlan', tpid, tci: vid | (pcp << 13) | (cfi ? VLAN_CFI : 0) };
}

function parsePushMpls(c: OdpCursor): DpAction {
  let lse = 0;
  let ethertype = -1;
  const at0 = c.pos;
  for (;;) {
    const at = c.pos;
    const name = c.name();
    c.expect('=');
    const field: Record<string, [number, number]> = { label: [12, 0xfffff], tc: [9, 7], ttl: [0, 0xff], bos: [8, 1] };
    if (name === 'eth_type') ethertype = valueAndMask(c, 0xffff, 'eth_type')[0];
    else if (field[name]) {
      const [shift, width] = field[name];
      lse = (lse & ~(width << shift)) | (valueAndMask(c, width, name)[0] << shift);
    } else throw new OdpParseError('ODP_UNKNOWN_FIELD', `push_mpls: unknown field "${name}"`, at);
    if (c.eat(')')) break;
    c.expect(',');
  }
  if (ethertype < 0) throw new OdpParseError('ODP_SYNTAX', 'push_mpls: eth_type= is required', at0);
  return { type: 'push_mpls', lse: lse >>> 0, ethertype };
}

function parseUserspace(c: OdpCursor): DpAction {
  c.expect('pid=');
  const pos = c.pos;
  const raw = c.value();
  const pid = parseNum(raw, pos, 0xffffffff, 'pid');
  let cookie: Uint8Array | undefined;
  if (c.eat(',')) {
    const at = c.pos;
    if (!c.eat('userdata(')) throw new OdpParseError('ODP_UNSUPPORTED', 'userspace: only userdata(...) cookies are supported', at);
    const hpos = c.pos;
    const hex = c.value();
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new OdpParseError('ODP_BAD_VALUE', `userdata: "${hex}" is not hex bytes`, hpos);
    cookie = Uint8Array.from(Buffer.from(hex, 'hex'));
    c.expect(')');
  }
  c.expect(')');
  return cookie === undefined ? { type: 'userspace', pid } : { type: 'userspace', pid, cookie };
}

/** A nested list up to (not including) the closing parenthesis. */
function parseList(c: OdpCursor, top: boolean): DpAction[] {
  const out: DpAction[] = [];
  c.skipSpace();
  if (top ? c.done : c.peek() === ')') return out;
  const dropAt = c.pos;
  if (c.eat('drop')) {
    c.skipSpace();
    if (top ? c.done : c.peek() === ')') return out;
    throw new OdpParseError('ODP_SYNTAX', 'drop must be the only action', dropAt);
  }
  for (;;) {
    c.skipSpace();
    out.push(parseAction(c));
    c.skipSpace();
    if (top ? c.done : c.peek() === ')') return out;
    c.expect(',');
  }
}

const KNOWN_ACTIONS = new Set(['set', 'push_vlan', 'push_mpls', 'pop_mpls', 'push_pbb', 'set_eth_type', 'trunc', 'clone', 'dec_ttl', 'sample', 'userspace', 'meter']);

function parseAction(c: OdpCursor): DpAction {
  const at = c.pos;
  if (/[0-9]/.test(c.peek())) {
    const raw = c.value();
    return { type: 'output', port: parseNum(raw, at, 0xffffffff, 'output port') };
  }
  const name = c.name();
  if (name === 'pop_vlan') return { type: 'pop_vlan' };
  if (name === 'pop_pbb') return { type: 'pop_pbb' };
  if (name === 'copy_ttl_in') return { type: 'copy_ttl_in' };
  if (!KNOWN_ACTIONS.has(name)) throw new OdpParseError('ODP_UNKNOWN_ACTION', `unknown or unsupported action "${name}"`, at);
  c.expect('(');
  switch (name) {
    case 'set': {
      const a = parseSet(c);
      c.expect(')');
      return a;
    }
    case 'push_vlan':
      return parsePushVlan(c);
    case 'push_mpls':
      return parsePushMpls(c);
    case 'pop_mpls': {
      c.expect('eth_type=');
      const ethertype = valueAndMask(c, 0xffff, 'eth_type')[0];
      c.expect(')');
      return { type: 'pop_mpls', ethertype };
    }
    case 'push_pbb': {
      c.expect('itag=');
      const itag = valueAndMask(c, 0xffffffff, 'itag')[0];
      c.expect(')');
      return { type: 'push_pbb', itag };
    }
    case 'set_eth_type': {
      const ethertype = valueAndMask(c, 0xffff, 'set_eth_type')[0];
      c.expect(')');
      return { type: 'set_eth_type', ethertype };
    }
    case 'trunc': {
      const pos = c.pos;
      const maxLen = parseNum(c.value(), pos, 0xffffffff, 'trunc');
      c.expect(')');
      return { type: 'truncate', maxLen };
    }
    case 'meter': {
      const pos = c.pos;
      const id = parseNum(c.value(), pos, 0xffffffff, 'meter');
      c.expect(')');
      return { type: 'meter', id };
    }
    case 'clone': {
      const actions = parseList(c, false);
      c.expect(')');
      return { type: 'clone', actions };
    }
    case 'dec_ttl': {
      c.expect('le_1(');
      const actions = parseList(c, false);
      c.expect(')');
      c.expect(')');
      return { type: 'dec_ttl', actions };
    }
    case 'sample': {
      c.expect('sample=');
      const pos = c.pos;
      const m = /^(\d+(?:\.\d*)?)%/.exec(c.text.slice(c.pos));
      if (!m || !(Number(m[1]) <= 100)) throw new OdpParseError('ODP_BAD_VALUE', 'sample: expected a percentage 0..100 followed by %', pos);
      c.pos += m[0].length;
      // As OVS: the fraction of UINT32_MAX, truncated.
      const probability = Math.floor((Number(m[1]) / 100) * 0xffffffff) >>> 0;
      c.expect(',actions(');
      const actions = parseList(c, false);
      c.expect(')');
      c.expect(')');
      return { type: 'sample', probability, actions };
    }
    case 'userspace':
      return parseUserspace(c);
    default:
      throw new OdpParseError('ODP_UNKNOWN_ACTION', `unknown or unsupported action "${name}"`, at);
  }
}

/** Parse an action list in OVS's text form (`drop` or an empty text is the empty list). */
export function parseActions(text: string): DpAction[] {
  const c = new OdpCursor(text.trim());
  return parseList(c, true);
}


// --- whole dump-flows lines -------------------------------------------------------------

/** One datapath flow as `dpctl/dump-flows` shows it. */
export interface DpFlowText {
  /** The flow's UFID as OVS prints it with -m (`ufid:<uuid>, ` prefix), if shown. */
  ufid?: string;
  key: Uint32Array;
  mask: Uint32Array;
  actions: DpAction[];
  packets: number;
  bytes: number;
  /** Seconds since the flow was last used, or null for "never". */
  usedSec: number | null;
  /** TCP flags seen on the flow (OVS's `flags:`), 0 for none. */
  tcpFlags: number;
  /** In the kernel (tc offload): OVS prints `offloaded:yes, dp:tc`. */
  offloaded?: boolean;
}

/** OVS packet_format_tcp_flags(): S F P R U . E C N, then the reserved bits. */
function formatTcpFlagLetters(f: number): string {
  let s = '';
  if (f & 0x002) s += 'S';
  if (f & 0x001) s += 'F';
  if (f & 0x008) s += 'P';
  if (f & 0x004) s += 'R';
  if (f & 0x020) s += 'U';
  if (f & 0x010) s += '.';
  if (f & 0x040) s += 'E';
  if (f & 0x080) s += 'C';
  if (f & 0x100) s += 'N';
  if (f & 0x200) s += '[200]';
  if (f & 0x400) s += '[400]';
  if (f & 0x800) s += '[800]';
  return s;
}

const FLAG_LETTERS: Record<string, number> = { S: 0x002, F: 0x001, P: 0x008, R: 0x004, U: 0x020, '.': 0x010, E: 0x040, C: 0x080, N: 0x100 };

/** A line of `dpctl/dump-flows`: `KEY, packets:N, bytes:N, used:Xs[, flags:..], actions:ACTIONS`. */
export function formatDpFlow(f: DpFlowText): string {
  let s = `${f.ufid !== undefined ? `ufid:${f.ufid}, ` : ''}${formatFlowKey(f.key, f.mask)}, packets:${f.packets}, bytes:${f.bytes}, used:`;
  s += f.usedSec === null ? 'never' : `${f.usedSec.toFixed(3)}s`;
  if (f.tcpFlags) s += `, flags:${formatTcpFlagLetters(f.tcpFlags)}`;
  if (f.offloaded) s += ', offloaded:yes, dp:tc';
  return `${s}, actions:${formatActions(f.actions)}`;
}

/** Parse one `dpctl/dump-flows` line, with or without a `ufid:<uuid>, ` prefix. */
export function parseDpFlow(line: string): DpFlowText {
  let text = line.trim();
  let base = line.length - line.trimStart().length;
  const u = /^ufid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}), /.exec(text);
  if (u) {
    text = text.slice(u[0].length);
    base += u[0].length;
  }
  const m = /, packets:(\d+), bytes:(\d+), used:(never|\d+\.\d+s)(?:, flags:([SFPRU.ECN\[\]0-9]*|none))?(, offloaded:yes, dp:tc)?, actions:/.exec(text);
  if (!m) throw new OdpParseError('ODP_SYNTAX', 'expected ", packets:N, bytes:N, used:T, actions:" after the key', base);
  let key: Uint32Array;
  let mask: Uint32Array;
  try {
    ({ key, mask } = parseFlowKey(text.slice(0, m.index)));
  } catch (e) {
    if (e instanceof OdpParseError) throw new OdpParseError(e.code, e.message.replace(/ \(at character \d+\)$/, ''), e.position + base);
    throw e;
  }
  const at = m.index + m[0].length;
  let actions: DpAction[];
  try {
    actions = parseActions(text.slice(at));
  } catch (e) {
    if (e instanceof OdpParseError) throw new OdpParseError(e.code, e.message.replace(/ \(at character \d+\)$/, ''), e.position + base + at);
    throw e;
  }
  let tcpFlags = 0;
  const letters = m[4] && m[4] !== 'none' ? m[4] : '';
  for (const r of letters.matchAll(/\[(200|400|800)\]|./g)) tcpFlags |= r[1] ? parseInt(r[1], 16) : (FLAG_LETTERS[r[0]] ?? 0);
  return {
    ...(u ? { ufid: u[1] } : {}),
    key,
    mask,
    actions,
    packets: Number(m[1]),
    bytes: Number(m[2]),
    usedSec: m[3] === 'never' ? null : Number(m[3].slice(0, -1)),
    tcpFlags,
    ...(m[5] ? { offloaded: true } : {}),
  };
}
