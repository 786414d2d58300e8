// Actions and instructions in ovs-ofctl syntax ("output:2,mod_vlan_vid:5,
// meter:1,goto_table:3"), mapped to OpenFlow 1.3 exactly as
// `ovs-ofctl -O OpenFlow13` encodes them: OVS's legacy actions become
// set_field, mod_vlan_vid pushes a tag when the match has none, and the
// checks of ofpacts_check() against the match (prerequisites, tags) reject
// what OVS rejects. Printing follows ofpacts_format() for decoded 1.3 lists.
import { OFPAT, OFPCML_NO_BUFFER, OFPIT, OFPM, OFPP, OFPVID } from '../constants.js';
import type { Action } from '../actions.js';
import type { Instruction } from '../instructions.js';
import { oxm, type Oxm, type OxmValue } from '../oxm.js';
import { allOnes, formatPort, parseIntExact, parseIpv4, parseMac, parsePort, parseUint, ValueError } from './field-values.js';
import { parseKeyValues, type KeyValue } from './key-value.js';
import {
  ETH_TYPE,
  FlowMatch,
  formatFieldValue,
  isIpAny,
  mfFieldByName,
  mfFieldByOxm,
  parseFieldValue,
  type MfField,
  type Prereq,
} from './match-syntax.js';
import { OfctlSyntaxError } from './syntax-error.js';

type Act =
  | { t: 'output'; port: number; maxLen: number }
  | { t: 'nx_controller'; maxLen: number; id: number; reason: number }
  | { t: 'group' | 'set_queue' | 'meter' | 'goto_table'; id: number }
  | { t: 'set_vlan_vid' | 'set_vlan_pcp'; v: number; push: boolean }
  | { t: 'pop_vlan' | 'dec_ttl' | 'dec_mpls_ttl' | 'clear_actions' }
  | { t: 'push_vlan' | 'push_mpls' | 'pop_mpls'; ethertype: number }
  | { t: 'set_ip_ttl' | 'set_mpls_ttl'; ttl: number }
  | { t: 'set_field'; fd: MfField; value: bigint; legacy: 'ipv4' | 'ip' | 'mpls' | 'none' }
  | { t: 'set_l4'; dst: boolean; port: number }
  | { t: 'write_metadata'; value: bigint; mask: bigint }
  | { t: 'write_actions'; acts: Located[] };

interface Located {
  act: Act;
  kv: KeyValue;
}

/** ovs_instruction_type order: meter, apply, clear, write, metadata, goto. */
const INST_ORDER: Record<string, number> = { meter: 0, clear_actions: 2, write_actions: 3, write_metadata: 4, goto_table: 5 };
const INST_NAME = ['meter', 'apply_actions', 'clear_actions', 'write_actions', 'write_metadata', 'goto_table'];
const instOf = (a: Act): number => INST_ORDER[a.t] ?? 1;

/** OVS actions that exist but need Nicira extensions (or are not in 1.3). */
const OVS_EXTENSIONS = new Set([
  'enqueue', 'output_reg', 'bundle', 'bundle_load', 'load', 'move', 'push', 'pop', 'set_tunnel', 'set_tunnel64', 'pop_queue',
  'fin_timeout', 'resubmit', 'learn', 'conjunction', 'multipath', 'note', 'exit', 'sample', 'ct', 'ct_clear', 'nat', 'clone',
  'check_pkt_larger', 'encap', 'decap', 'dec_nsh_ttl', 'delete_field', 'set_mpls_ttl_nx', 'debug_recirc', 'debug_slow',
]);

function err(kv: KeyValue, message: string, onValue = false): OfctlSyntaxError {
  return onValue ? new OfctlSyntaxError(message, kv.value, kv.valueAt + 1) : new OfctlSyntaxError(message, kv.key, kv.keyAt + 1);
}

function num(kv: KeyValue, bits: number, what: string): number {
  try {
    return parseUint(kv.value, bits, what);
  } catch (e) {
    throw err(kv, (e as Error).message, true);
  }
}

/** Packet-in reasons by ovs-ofctl name (ofputil_packet_in_reason_to_string). */
const PACKET_IN_REASONS = ['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out'];
const NX_VENDOR_ID = 0x00002320;
const NXAST_CONTROLLER = 20;

function parseController(kv: KeyValue): Act {
  let maxLen = OFPCML_NO_BUFFER;
  let reason = 1;
  let id = 0;
  if (kv.value === '') return { t: 'output', port: OFPP.CONTROLLER, maxLen };
  if (!kv.value.includes('=')) return { t: 'output', port: OFPP.CONTROLLER, maxLen: num(kv, 16, 'max_len') };
  for (const p of parseKeyValues(kv.value, kv.valueAt)) {
    if (p.key === 'max_len') maxLen = num(p, 16, 'max_len');
    else if (p.key === 'reason') {
      reason = PACKET_IN_REASONS.indexOf(p.value);
      if (reason < 0) throw err(p, `unknown reason "${p.value}"`, true);
    } else if (p.key === 'id') id = num(p, 16, 'controller id');
    else if (['userdata', 'pause', 'meter_id'].includes(p.key)) {
      throw err(p, `controller ${p.key}: needs the Nicira controller2 extension, not supported by this codec`);
    } else throw err(p, `${p.key}: unknown controller option`);
  }
  // Like OVS: a plain output to CONTROLLER unless the reason or id need NXAST_CONTROLLER.
  if (reason === 1 && id === 0) return { t: 'output', port: OFPP.CONTROLLER, maxLen };
  return { t: 'nx_controller', maxLen, id, reason };
}

function parseSetField(kv: KeyValue): Act {
  const arrow = kv.value.indexOf('->');
  if (arrow < 0) throw err(kv, `${kv.value}: missing \`->'`, true);
  const name = kv.value.slice(arrow + 2);
  const fd = mfFieldByName(name);
  if (!fd) throw new OfctlSyntaxError(`${name} is not a valid OpenFlow 1.3 field name`, name, kv.valueAt + arrow + 3);
  if (!fd.writable) throw new OfctlSyntaxError(`${name} is read-only`, name, kv.valueAt + arrow + 3);
  let r: { value: bigint; mask: bigint };
  try {
    r = parseFieldValue(fd, kv.value.slice(0, arrow));
  } catch (e) {
    throw err(kv, (e as Error).message, true);
  }
  if (r.mask !== allOnes(fd.kind === 'port' ? 32 : fd.bytes * 8)) {
    throw err(kv, `set_field with a mask needs the Nicira reg_load2 extension in OpenFlow 1.3, not supported by this codec`, true);
  }
  if (fd.oxm === undefined && !NXM_SET_FIELDS[fd.name]) {
    throw err(kv, `set_field:...->${name}: field has no OpenFlow 1.3 or NXM header (ovs-ofctl sends a header-less field), not supported`, true);
  }
  if (!fieldValueValid(fd, r.value)) throw err(kv, `${kv.value.slice(0, arrow)} is not a valid value for field ${name}`, true);
  return { t: 'set_field', fd, value: r.value, legacy: 'none' };
}

/** mf_is_value_valid() for the fields with OXMs. */
function fieldValueValid(fd: MfField, v: bigint): boolean {
  switch (fd.name) {
    case 'vlan_vid':
      return v <= 0x1fffn;
    case 'vlan_pcp':
    case 'mpls_tc':
      return v < 8n;
    case 'ip_dscp':
      return v < 64n;
    case 'nw_ecn':
      return v < 4n;
    case 'mpls_label':
    case 'ipv6_label':
      return v < 0x100000n;
    case 'mpls_bos':
      return v < 2n;
    default:
      return true;
  }
}

function legacySetField(name: string, value: bigint, legacy: 'ipv4' | 'ip' | 'mpls' | 'none'): Act {
  return { t: 'set_field', fd: mfFieldByName(name)!, value, legacy };
}

function parseOne(kv: KeyValue, allowInstructions: boolean): Act | 'drop' {
  const key = kv.key.toLowerCase();
  const v = kv.value;
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ValueError) throw err(kv, e.message, true);
      throw e;
    }
  };
  if (!allowInstructions && INST_ORDER[key] !== undefined) {
    throw err(kv, `instruction ${key} is not allowed inside write_actions`);
  }
  switch (key) {
    case 'output': {
      if (v.includes('[')) throw err(kv, 'output:<field> needs the Nicira output_reg extension, not supported by this codec');
      if (v.includes('=')) throw err(kv, 'output(port=...,max_len=...) needs the Nicira output_trunc extension, not supported by this codec');
      const port = parsePort(v);
      if (port === undefined) throw err(kv, `${v}: output to unknown port`, true);
      return { t: 'output', port, maxLen: port === OFPP.CONTROLLER ? OFPCML_NO_BUFFER : 0 };
    }
    case 'controller':
      return parseController(kv);
    case 'drop':
      return 'drop';
    case 'group':
      return { t: 'group', id: num(kv, 32, 'group') };
    case 'set_queue':
      return { t: 'set_queue', id: num(kv, 32, 'queue') };
    case 'mod_vlan_vid':
    case 'set_vlan_vid': {
      const vid = num(kv, 16, 'VLAN VID');
      if (vid & ~0xfff) throw err(kv, `${v}: not a valid VLAN VID`, true);
      return { t: 'set_vlan_vid', v: vid, push: key === 'mod_vlan_vid' };
    }
    case 'mod_vlan_pcp':
    case 'set_vlan_pcp': {
      const pcp = num(kv, 8, 'VLAN PCP');
      if (pcp & ~7) throw err(kv, `${v}: not a valid VLAN PCP`, true);
      return { t: 'set_vlan_pcp', v: pcp, push: key === 'mod_vlan_pcp' };
    }
    case 'strip_vlan':
    case 'pop_vlan':
      return { t: 'pop_vlan' };
    case 'push_vlan': {
      const et = num(kv, 16, 'ethertype');
      if (et !== 0x8100 && et !== 0x88a8) throw err(kv, `${v}: not a valid VLAN ethertype`, true);
      return { t: 'push_vlan', ethertype: et };
    }
    case 'mod_dl_src':
    case 'mod_dl_dst': {
      const r = wrap(() => parseMac(v));
      if (r.mask !== allOnes(48)) throw err(kv, `${v}: invalid Ethernet address`, true);
      return legacySetField(key === 'mod_dl_src' ? 'eth_src' : 'eth_dst', r.value, 'none');
    }
    case 'mod_nw_src':
    case 'mod_nw_dst': {
      const r = wrap(() => parseIpv4(v));
      if (r.mask !== allOnes(32)) throw err(kv, `${v}: invalid IP address`, true);
      return legacySetField(key === 'mod_nw_src' ? 'ip_src' : 'ip_dst', r.value, 'ipv4');
    }
    case 'mod_nw_tos': {
      const tos = num(kv, 8, 'TOS');
      if (tos & 3) throw err(kv, `${v}: not a valid TOS`, true);
      return legacySetField('ip_dscp', BigInt(tos >> 2), 'ip');
    }
    case 'mod_nw_ecn': {
      const ecn = num(kv, 8, 'ECN');
      if (ecn & ~3) throw err(kv, `${v}: not a valid ECN`, true);
      return legacySetField('nw_ecn', BigInt(ecn), 'ip');
    }
    case 'mod_nw_ttl':
    case 'set_nw_ttl':
      return { t: 'set_ip_ttl', ttl: num(kv, 8, 'TTL') };
    case 'mod_tp_src':
    case 'mod_tp_dst':
      return { t: 'set_l4', dst: key === 'mod_tp_dst', port: num(kv, 16, 'port') };
    case 'dec_ttl':
      if (v !== '') throw err(kv, 'dec_ttl(ids) needs the Nicira dec_ttl_cnt_ids extension, not supported by this codec', true);
      return { t: 'dec_ttl' };
    case 'set_mpls_label': {
      const label = num(kv, 32, 'MPLS label');
      if (label > 0xfffff) throw err(kv, `${v}: not a valid MPLS label`, true);
      return legacySetField('mpls_label', BigInt(label), 'mpls');
    }
    case 'set_mpls_tc': {
      const tc = num(kv, 8, 'MPLS TC');
      if (tc > 7) throw err(kv, `${v}: not a valid MPLS TC`, true);
      return legacySetField('mpls_tc', BigInt(tc), 'mpls');
    }
    case 'set_mpls_ttl':
      return { t: 'set_mpls_ttl', ttl: num(kv, 8, 'MPLS TTL') };
    case 'dec_mpls_ttl':
      return { t: 'dec_mpls_ttl' };
    case 'push_mpls': {
      // Like ovs-ofctl, any ethertype is taken (a non-MPLS one fails at the switch).
      return { t: 'push_mpls', ethertype: num(kv, 16, 'push_mpls') };
    }
    case 'pop_mpls':
      return { t: 'pop_mpls', ethertype: num(kv, 16, 'pop_mpls') };
    case 'set_field':
      return parseSetField(kv);
    case 'meter': {
      const id = num(kv, 32, 'meter');
      if (id === 0 || id > OFPM.MAX) throw err(kv, 'actions are invalid with specified match (OFPMMFC_INVALID_METER)', true);
      return { t: 'meter', id };
    }
    case 'goto_table': {
      const id = num(kv, 8, 'table');
      if (id === 255) throw err(kv, `unknown table "${v}"`, true);
      return { t: 'goto_table', id };
    }
    case 'clear_actions':
      return { t: 'clear_actions' };
    case 'write_metadata': {
      const slash = v.indexOf('/');
      const value = wrap(() => parseIntExact(slash < 0 ? v : v.slice(0, slash), 8, 'metadata'));
      const mask = slash < 0 ? allOnes(64) : wrap(() => parseIntExact(v.slice(slash + 1), 8, 'metadata mask'));
      return { t: 'write_metadata', value, mask };
    }
    case 'write_actions': {
      const inner = parseList(v, kv.valueAt, false);
      return { t: 'write_actions', acts: inner };
    }
    case 'apply_actions':
      throw err(kv, 'apply_actions is the default instruction');
    default: {
      const port = parsePort(kv.key);
      if (port !== undefined) return { t: 'output', port, maxLen: port === OFPP.CONTROLLER ? OFPCML_NO_BUFFER : 0 };
      if (OVS_EXTENSIONS.has(key)) throw err(kv, `action ${kv.key} is an Open vSwitch extension, not supported by this codec`);
      if (['copy_ttl_in', 'copy_ttl_out', 'push_pbb', 'pop_pbb'].includes(key)) throw err(kv, `unknown action ${kv.key} (ovs-ofctl has no syntax for it)`);
      throw err(kv, `unknown action ${kv.key}`);
    }
  }
}

function parseList(s: string, base: number, allowInstructions: boolean): Located[] {
  const out: Located[] = [];
  let drop: KeyValue | undefined;
  for (const kv of parseKeyValues(s, base)) {
    const a = parseOne(kv, allowInstructions);
    if (a === 'drop') {
      drop = kv;
      continue;
    }
    out.push({ act: a, kv });
  }
  if (drop && out.length > 0) throw err(drop, '"drop" must not be accompanied by any other action or instruction');
  // ofpacts_verify(): instructions once each, in OpenFlow 1.1+ order.
  let prev = -1;
  for (const l of out) {
    const next = instOf(l.act);
    if (prev >= 0 && (prev === 1 ? next < prev : next <= prev)) {
      if (next === prev) throw err(l.kv, `duplicate ${INST_NAME[prev]} instruction not allowed, for OpenFlow 1.1+ compatibility`);
      throw err(l.kv, `invalid instruction ordering: ${INST_NAME[next]} must appear before ${INST_NAME[prev]}, for OpenFlow 1.1+ compatibility`);
    }
    prev = next;
  }
  return out;
}

// --- checking against the match and encoding (ofpacts_check + encode) -----------------

/** The bits of the packet the checks follow as actions change it. */
interface FlowState {
  dlType: number;
  nwProto: number;
  tpSrc: number;
  tpDst: number;
  vlans: [boolean, boolean];
}

function stateOf(m: FlowMatch): FlowState {
  const cfi = (m.value('vlanTci') & 0x1000n) !== 0n;
  return { dlType: m.dlType, nwProto: m.nwProto, tpSrc: Number(m.value('tpSrc')), tpDst: Number(m.value('tpDst')), vlans: [cfi, false] };
}

const isMpls = (t: number): boolean => t === ETH_TYPE.MPLS || t === ETH_TYPE.MPLS_MCAST;

function prereqOk(p: Prereq, s: FlowState): boolean {
  const ip = isIpAny(s.dlType);
  switch (p) {
    case 'none':
      return true;
    case 'ipv4':
      return s.dlType === ETH_TYPE.IP;
    case 'ipv6':
      return s.dlType === ETH_TYPE.IPV6;
    case 'ip':
      return ip;
    case 'arp':
      return s.dlType === ETH_TYPE.ARP || s.dlType === ETH_TYPE.RARP;
    case 'mpls':
      return isMpls(s.dlType);
    case 'tcp':
      return ip && s.nwProto === 6;
    case 'udp':
      return ip && s.nwProto === 17;
    case 'sctp':
      return ip && s.nwProto === 132;
    case 'icmp4':
      return s.dlType === ETH_TYPE.IP && s.nwProto === 1;
    case 'icmp6':
      return s.dlType === ETH_TYPE.IPV6 && s.nwProto === 58;
    case 'nd':
      return s.dlType === ETH_TYPE.IPV6 && s.nwProto === 58 && s.tpDst === 0 && (s.tpSrc === 135 || s.tpSrc === 136);
    case 'nd_sll':
      return s.dlType === ETH_TYPE.IPV6 && s.nwProto === 58 && s.tpDst === 0 && s.tpSrc === 135;
    case 'nd_tll':
      return s.dlType === ETH_TYPE.IPV6 && s.nwProto === 58 && s.tpDst === 0 && s.tpSrc === 136;
    case 'vlan':
      return s.vlans[0];
  }
}

function oxmValueOf(fd: MfField, v: bigint): OxmValue {
  const bytes = fd.kind === 'port' ? 4 : fd.bytes;
  if (bytes <= 4) return Number(v);
  if (bytes === 8) return v;
  const b = Buffer.alloc(bytes);
  for (let i = bytes - 1, x = v; i >= 0; i--, x >>= 8n) b[i] = Number(x & 0xffn);
  return b;
}

/** Fields without an OXM that OVS sets through their NXM header inside OFPAT_SET_FIELD. */
const NXM_SET_FIELDS: Readonly<Record<string, { oxmClass: number; field: number; bytes: number }>> = {
  nw_ttl: { oxmClass: 1, field: 29, bytes: 1 },
  vlan_tci: { oxmClass: 0, field: 4, bytes: 2 },
};

function setFieldAction(fd: MfField, v: bigint): Action {
  const nxm = NXM_SET_FIELDS[fd.name];
  if (nxm) {
    const body = Buffer.alloc(nxm.bytes);
    body.writeUIntBE(Number(v), 0, nxm.bytes);
    return { type: OFPAT.SET_FIELD, field: { kind: 'opaque', oxmClass: nxm.oxmClass, field: nxm.field, hasMask: false, body } };
  }
  if (fd.name === 'in_port') {
    // OVS's in_port is 16 bits: it sends NXM_OF_IN_PORT, not OXM_OF_IN_PORT.
    const body = Buffer.alloc(2);
    body.writeUInt16BE(Number(v > 0xff00n ? v - 0xffff0000n : v) & 0xffff);
    return { type: OFPAT.SET_FIELD, field: { kind: 'opaque', oxmClass: 0, field: 0, hasMask: false, body } };
  }
  const field: Oxm = oxm(fd.oxm!, oxmValueOf(fd, v));
  return { type: OFPAT.SET_FIELD, field };
}

class Encoder {
  /** Set when an action does not fit the match (OVS: usable only in OpenFlow 1.0). */
  inconsistent: KeyValue | undefined;

  constructor(
    readonly tableId: number,
    /** Skip the checks against the match (group buckets: OVS has no match to check them with). */
    readonly unchecked = false,
  ) {}

  private fail(kv: KeyValue, code: string): void {
    if (this.unchecked && code === 'OFPBAC_MATCH_INCONSISTENT') return;
    throw err(kv, `actions are invalid with specified match (${code})`);
  }

  private mark(kv: KeyValue): void {
    if (!this.unchecked) this.inconsistent ??= kv;
  }

  actions(list: readonly Located[], s: FlowState): Action[] {
    const out: Action[] = [];
    for (const { act: a, kv } of list) {
      switch (a.t) {
        case 'output':
          if (a.port === OFPP.ANY || (a.port >= 0xff00 && a.port < OFPP.MAX) || (a.port >= OFPP.MAX && a.port < OFPP.IN_PORT)) {
            this.fail(kv, 'OFPBAC_BAD_OUT_PORT');
          }
          out.push({ type: OFPAT.OUTPUT, port: a.port, maxLen: a.maxLen });
          break;
        case 'group':
          out.push({ type: OFPAT.GROUP, groupId: a.id });
          break;
        case 'nx_controller': {
          const data = Buffer.alloc(8);
          data.writeUInt16BE(NXAST_CONTROLLER, 0);
          data.writeUInt16BE(a.maxLen, 2);
          data.writeUInt16BE(a.id, 4);
          data[6] = a.reason;
          out.push({ type: OFPAT.EXPERIMENTER, experimenter: NX_VENDOR_ID, data });
          break;
        }
        case 'set_queue':
          out.push({ type: OFPAT.SET_QUEUE, queueId: a.id });
          break;
        case 'set_vlan_vid':
        case 'set_vlan_pcp': {
          const has = s.vlans[0];
          if (!has && !a.push) this.mark(kv);
          if (a.push && !has) out.push({ type: OFPAT.PUSH_VLAN, ethertype: ETH_TYPE.VLAN });
          s.vlans[0] = true;
          out.push(
            a.t === 'set_vlan_vid'
              ? setFieldAction(mfFieldByName('vlan_vid')!, BigInt(a.v | OFPVID.PRESENT))
              : setFieldAction(mfFieldByName('vlan_pcp')!, BigInt(a.v)),
          );
          break;
        }
        case 'pop_vlan':
          if (!s.vlans[0]) this.mark(kv);
          s.vlans = [s.vlans[1], false];
          out.push({ type: OFPAT.POP_VLAN });
          break;
        case 'push_vlan':
          if (s.vlans[1]) this.fail(kv, 'OFPBAC_BAD_TAG');
          s.vlans = [true, s.vlans[0]];
          out.push({ type: OFPAT.PUSH_VLAN, ethertype: a.ethertype });
          break;
        case 'set_field':
          if (a.legacy !== 'none') {
            const ok = a.legacy === 'ipv4' ? s.dlType === ETH_TYPE.IP : a.legacy === 'ip' ? isIpAny(s.dlType) : isMpls(s.dlType);
            if (!ok) this.mark(kv);
          } else if (!prereqOk(a.fd.prereq, s) || (a.fd.name === 'vlan_vid' && !s.vlans[0])) {
            this.fail(kv, 'OFPBAC_MATCH_INCONSISTENT');
          }
          out.push(setFieldAction(a.fd, a.value));
          break;
        case 'set_l4': {
          const p = s.nwProto;
          if (!isIpAny(s.dlType) || (p !== 6 && p !== 17 && p !== 132)) {
            this.mark(kv);
          }
          const proto = p === 17 ? 'udp' : p === 132 ? 'sctp' : 'tcp';
          out.push(setFieldAction(mfFieldByName(`${proto}_${a.dst ? 'dst' : 'src'}`)!, BigInt(a.port)));
          break;
        }
        case 'set_ip_ttl':
          if (!isIpAny(s.dlType)) this.mark(kv);
          out.push({ type: OFPAT.SET_NW_TTL, ttl: a.ttl });
          break;
        case 'dec_ttl':
          if (!isIpAny(s.dlType)) this.mark(kv);
          out.push({ type: OFPAT.DEC_NW_TTL });
          break;
        case 'set_mpls_ttl':
          if (!isMpls(s.dlType)) this.mark(kv);
          out.push({ type: OFPAT.SET_MPLS_TTL, ttl: a.ttl });
          break;
        case 'dec_mpls_ttl':
          if (!isMpls(s.dlType)) this.mark(kv);
          out.push({ type: OFPAT.DEC_MPLS_TTL });
          break;
        case 'push_mpls':
          s.dlType = a.ethertype;
          s.nwProto = 0;
          out.push({ type: OFPAT.PUSH_MPLS, ethertype: a.ethertype });
          break;
        case 'pop_mpls':
          if (!isMpls(s.dlType)) this.mark(kv);
          s.dlType = a.ethertype;
          out.push({ type: OFPAT.POP_MPLS, ethertype: a.ethertype });
          break;
        default:
          throw err(kv, `${kv.key} is an instruction, not an action`);
      }
    }
    return out;
  }

  instructions(list: readonly Located[], match: FlowMatch): Instruction[] {
    const s = stateOf(match);
    const out: Instruction[] = [];
    let i = 0;
    while (i < list.length) {
      const { act: a, kv } = list[i]!;
      if (instOf(a) === 1) {
        let j = i;
        while (j < list.length && instOf(list[j]!.act) === 1) j++;
        out.push({ type: OFPIT.APPLY_ACTIONS, actions: this.actions(list.slice(i, j), s) });
        i = j;
        continue;
      }
      i++;
      switch (a.t) {
        case 'meter':
          out.push({ type: OFPIT.METER, meterId: a.id });
          break;
        case 'clear_actions':
          out.push({ type: OFPIT.CLEAR_ACTIONS, actions: [] });
          break;
        case 'write_actions': {
          // OVS checks the action set without narrowing the flow's protocols
          // and sends nothing for an empty one.
          const nested = new Encoder(this.tableId, true);
          const acts = nested.actions(a.acts, { ...s, vlans: [...s.vlans] });
          if (acts.length > 0) out.push({ type: OFPIT.WRITE_ACTIONS, actions: acts });
          break;
        }
        case 'write_metadata':
          out.push({ type: OFPIT.WRITE_METADATA, metadata: a.value, metadataMask: a.mask });
          break;
        case 'goto_table':
          if (this.tableId !== 255 && a.id <= this.tableId) this.fail(kv, 'OFPBIC_BAD_TABLE_ID');
          out.push({ type: OFPIT.GOTO_TABLE, tableId: a.id });
          break;
        default:
          break;
      }
    }
    return out;
  }
}

export interface ParseActionsOptions {
  /** The flow's match, for the checks and for mod_vlan_vid's implicit push_vlan (default: empty). */
  match?: FlowMatch;
  /** The flow's table (255 = unspecified), for goto_table's check. */
  tableId?: number;
  /** Offset of `text` in a larger string, so error columns point into that. */
  base?: number;
  /** Do not check actions against the match (as OVS does for group buckets). */
  unchecked?: boolean;
}

/**
 * Parses an ovs-ofctl action/instruction list into OpenFlow 1.3 instructions
 * (plain actions go into one APPLY_ACTIONS per run, as OVS does). Throws
 * OfctlSyntaxError, also for actions that do not fit the match.
 */
export function parseInstructions(text: string, opts: ParseActionsOptions = {}): Instruction[] {
  const list = parseList(text, opts.base ?? 0, true);
  const enc = new Encoder(opts.tableId ?? 255);
  const out = enc.instructions(list, opts.match ?? new FlowMatch());
  if (enc.inconsistent) {
    const kv = enc.inconsistent;
    throw err(kv, `${kv.key}: action needs a match the flow does not have (no usable protocol: OpenFlow 1.0 only)`);
  }
  return out;
}

/** Parses a plain action list (group buckets, packet-out): no instructions allowed. */
export function parseActionList(text: string, opts: ParseActionsOptions = {}): Action[] {
  const list = parseList(text, opts.base ?? 0, false);
  const enc = new Encoder(opts.tableId ?? 255, opts.unchecked === true);
  const out = enc.actions(list, stateOf(opts.match ?? new FlowMatch()));
  if (enc.inconsistent) {
    const kv = enc.inconsistent;
    throw err(kv, `${kv.key}: action needs a match the flow does not have (no usable protocol: OpenFlow 1.0 only)`);
  }
  return out;
}

// --- printing ---------------------------------------------------------------------------

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
const hex64 = (x: bigint): string => (x === 0n ? '0' : `0x${x.toString(16)}`);

function toBig(v: OxmValue): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  let x = 0n;
  for (const b of v) x = (x << 8n) | BigInt(b);
  return x;
}

/** One decoded OpenFlow 1.3 action as ovs-ofctl prints it. */
export function formatAction(a: Action): string {
  switch (a.type) {
    case OFPAT.OUTPUT: {
      if (a.port === OFPP.CONTROLLER) return `CONTROLLER:${a.maxLen}`;
      return a.port < 0xff00 ? `output:${a.port}` : formatPort(a.port);
    }
    case OFPAT.GROUP:
      return `group:${a.groupId}`;
    case OFPAT.SET_QUEUE:
      return `set_queue:${a.queueId}`;
    case OFPAT.SET_NW_TTL:
      return `mod_nw_ttl:${a.ttl}`;
    case OFPAT.DEC_NW_TTL:
      return 'dec_ttl';
    case OFPAT.SET_MPLS_TTL:
      return `set_mpls_ttl(${a.ttl})`;
    case OFPAT.DEC_MPLS_TTL:
      return 'dec_mpls_ttl';
    case OFPAT.PUSH_VLAN:
      return `push_vlan:${hex4(a.ethertype)}`;
    case OFPAT.POP_VLAN:
      return 'pop_vlan';
    case OFPAT.PUSH_MPLS:
      return `push_mpls:${hex4(a.ethertype)}`;
    case OFPAT.POP_MPLS:
      return `pop_mpls:${hex4(a.ethertype)}`;
    case OFPAT.COPY_TTL_IN:
      return 'copy_ttl_in';
    case OFPAT.COPY_TTL_OUT:
      return 'copy_ttl_out';
    case OFPAT.PUSH_PBB:
      return `push_pbb:${hex4(a.ethertype)}`;
    case OFPAT.POP_PBB:
      return 'pop_pbb';
    case OFPAT.SET_FIELD: {
      const o = a.field;
      if (o.kind === 'opaque' && o.oxmClass === 0 && o.field === 0 && o.body.length === 2) {
        const p = o.body.readUInt16BE(0);
        return `set_field:${formatPort(p >= 0xff00 ? p + 0xffff0000 : p)}->in_port`;
      }
      if (o.kind === 'opaque') {
        for (const [name, n] of Object.entries(NXM_SET_FIELDS)) {
          if (n.oxmClass === o.oxmClass && n.field === o.field && o.body.length === n.bytes) {
            return `set_field:${formatFieldValue(mfFieldByName(name)!, BigInt(o.body.readUIntBE(0, n.bytes)))}->${name}`;
          }
        }
      }
      if (o.kind === 'opaque') return `set_field:0x${o.body.toString('hex')}->oxm(0x${o.oxmClass.toString(16)}:${o.field})`;
      const fd = mfFieldByOxm(o.field);
      if (!fd) return `set_field:0x${toBig(o.value).toString(16)}->oxm_field${o.field}`;
      return `set_field:${formatFieldValue(fd, toBig(o.value))}->${fd.name}`;
    }
    case OFPAT.EXPERIMENTER: {
      if (a.experimenter === NX_VENDOR_ID && a.data.length === 8 && a.data.readUInt16BE(0) === NXAST_CONTROLLER) {
        const maxLen = a.data.readUInt16BE(2);
        const id = a.data.readUInt16BE(4);
        const reason = a.data[6]!;
        if (reason === 1 && id === 0) return `CONTROLLER:${maxLen}`;
        const parts: string[] = [];
        if (reason !== 1) parts.push(`reason=${PACKET_IN_REASONS[reason] ?? reason}`);
        if (maxLen !== OFPCML_NO_BUFFER) parts.push(`max_len=${maxLen}`);
        if (id !== 0) parts.push(`id=${id}`);
        return `controller(${parts.join(',')})`;
      }
      return `experimenter(0x${a.experimenter.toString(16)},0x${a.data.toString('hex')})`;
    }
  }
}

export function formatActions(list: readonly Action[]): string {
  return list.length === 0 ? 'drop' : list.map(formatAction).join(',');
}

/** Where OVS puts each instruction when it decodes a list: meter, apply, clear, write, metadata, goto. */
const PRINT_ORDER: Readonly<Record<number, number>> = {
  [OFPIT.METER]: 0,
  [OFPIT.APPLY_ACTIONS]: 1,
  [OFPIT.CLEAR_ACTIONS]: 2,
  [OFPIT.WRITE_ACTIONS]: 3,
  [OFPIT.WRITE_METADATA]: 4,
  [OFPIT.GOTO_TABLE]: 5,
  [OFPIT.EXPERIMENTER]: 6,
};

/**
 * An OpenFlow 1.3 instruction list as the text after `actions=`
 * (ofpacts_format), in OVS's canonical order whatever the wire order.
 */
export function formatInstructions(list: readonly Instruction[]): string {
  const parts: string[] = [];
  const sorted = [...list].sort((a, b) => (PRINT_ORDER[a.type] ?? 7) - (PRINT_ORDER[b.type] ?? 7));
  for (const i of sorted) {
    switch (i.type) {
      case OFPIT.METER:
        parts.push(`meter:${i.meterId}`);
        break;
      case OFPIT.APPLY_ACTIONS:
        for (const a of i.actions) parts.push(formatAction(a));
        break;
      case OFPIT.CLEAR_ACTIONS:
        parts.push('clear_actions');
        break;
      case OFPIT.WRITE_ACTIONS:
        parts.push(`write_actions(${i.actions.map(formatAction).join(',')})`);
        break;
      case OFPIT.WRITE_METADATA:
        parts.push(i.metadataMask === allOnes(64) ? `write_metadata:${hex64(i.metadata)}` : `write_metadata:${hex64(i.metadata)}/${hex64(i.metadataMask)}`);
        break;
      case OFPIT.GOTO_TABLE:
        parts.push(`goto_table:${i.tableId}`);
        break;
      case OFPIT.EXPERIMENTER:
        parts.push(`experimenter(0x${i.experimenter.toString(16)},0x${i.data.toString('hex')})`);
        break;
    }
  }
  return parts.length === 0 ? 'drop' : parts.join(',');
}
