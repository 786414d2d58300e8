// packet-out in ovs-ofctl syntax ("in_port=CONTROLLER packet=ffff... actions=
// output:2"), parsed into the OpenFlow 1.3 PACKET_OUT ovs-ofctl sends
// (OVS lib/ofp-packet.c parse_ofp_packet_out_str).
import { OFP13_VERSION, OFP_NO_BUFFER, OFPP, OFPT } from '../constants.js';
import type { PacketOutMsg } from '../packet-out.js';
import { parseActionList } from './action-syntax.js';
import { parsePort } from './field-values.js';
import { parseKeyValues } from './key-value.js';
import { OfctlSyntaxError } from './syntax-error.js';

const ETH_HEADER_LEN = 14;

/** Parses the argument of `ovs-ofctl packet-out SWITCH "in_port=... packet=... actions=..."`. */
export function parsePacketOut(text: string, opts: { xid?: number } = {}): PacketOutMsg {
  let matchText = text;
  let actText: string | undefined;
  let actAt = 0;
  const i = text.indexOf('action');
  if (i >= 0) {
    matchText = text.slice(0, i);
    const eq = text.indexOf('=', i + 1);
    if (eq >= 0) {
      actText = text.slice(eq + 1);
      actAt = eq + 1;
    }
  }
  let inPort: number = OFPP.CONTROLLER;
  let data: Buffer | undefined;
  for (const kv of parseKeyValues(matchText)) {
    const at = kv.valueAt + 1;
    if (kv.value === '') throw new OfctlSyntaxError(`field ${kv.key} missing value`, kv.key, kv.keyAt + 1);
    if (kv.key === 'in_port') {
      const p = parsePort(kv.value);
      if (p === undefined) throw new OfctlSyntaxError(`${kv.value} is not a valid OpenFlow port`, kv.value, at);
      if (p >= 0xff00 && p !== OFPP.LOCAL && p !== OFPP.ANY && p !== OFPP.CONTROLLER) {
        throw new OfctlSyntaxError(`${kv.value} is not a valid OpenFlow port for PACKET_OUT`, kv.value, at);
      }
      inPort = p;
    } else if (kv.key === 'packet') {
      const hex = kv.value.replace(/[ \t\r\n]/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new OfctlSyntaxError('packet: Trailing garbage in packet data', kv.value, at);
      data = Buffer.from(hex, 'hex');
      if (data.length < ETH_HEADER_LEN) throw new OfctlSyntaxError('packet: Packet data too short for Ethernet', kv.value, at);
    } else {
      throw new OfctlSyntaxError(`unknown keyword ${kv.key} (pipeline fields in packet-out need OpenFlow 1.5)`, kv.key, kv.keyAt + 1);
    }
  }
  if (!data) throw new OfctlSyntaxError('must specify packet', text, 1);
  const actions = actText === undefined ? [] : parseActionList(actText, { base: actAt, unchecked: true });
  return { type: OFPT.PACKET_OUT, version: OFP13_VERSION, xid: opts.xid ?? 0, bufferId: OFP_NO_BUFFER, inPort, actions, data };
}
