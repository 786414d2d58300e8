// What tsvs-ofctl prints that the text module's printers do not cover: the
// "flags=[more]" of a multipart part, and an OFPT_ERROR with the request it
// answers (OVS's ofp_print_error_msg), e.g.
//   OFPT_ERROR (OF1.3) (xid=0x2): OFPBAC_BAD_OUT_GROUP
//   OFPT_FLOW_MOD (OF1.3) (xid=0x2): ADD priority=2 actions=group:9

import {
  errorCodeName,
  OFPMP,
  OFPMPF,
  OFPT,
  OFPM,
  tryDecodeMessage,
  type ErrorMsg,
  type MultipartReplyMsg,
  type OfpMessage,
} from '../ofproto/openflow/index.js';
import { formatActions, formatMessageHeader, formatMultipartReply, formatOfpMessage, formatPort } from '../ofproto/openflow/text/index.js';

/** One part of a multipart reply as ofp-print shows it (no trailing newline). */
export function formatReplyPart(m: MultipartReplyMsg): string {
  const more = m.flags & OFPMPF.REPLY_MORE ? ' flags=[more]' : '';
  return formatMessageHeader(m) + more + formatMultipartReply(m);
}

function meterName(id: number): string {
  return id === OFPM.ALL ? 'all' : id === OFPM.CONTROLLER ? 'controller' : id === OFPM.SLOWPATH ? 'slowpath' : String(id);
}

/** A request echoed back inside an ERROR, as ofp-print shows the common ones. */
export function formatRequest(m: OfpMessage): string {
  const h = formatMessageHeader(m);
  if (m.type === OFPT.PACKET_OUT) return `${h} in_port=${formatPort(m.inPort)} actions=${formatActions(m.actions)} data_len=${m.data.length}`;
  if (m.type === OFPT.MULTIPART_REQUEST) {
    const b = m.body;
    if (b.mpType === OFPMP.METER || b.mpType === OFPMP.METER_CONFIG) return `${h} meter=${meterName(b.meterId)}`;
    if (b.mpType === OFPMP.GROUP) return `${h} group_id=${b.groupId === 0xfffffffc ? 'ALL' : b.groupId}`;
    if (b.mpType === OFPMP.PORT_STATS) return `${h} port_no=${formatPort(b.portNo)}`;
    return h;
  }
  return formatOfpMessage(m);
}

/** An ERROR reply, two lines when its data holds a decodable request (newline-terminated). */
export function formatErrorReply(e: ErrorMsg): string {
  let s = `${formatMessageHeader(e)} ${errorCodeName(e.errType, e.errCode)}\n`;
  if (e.data.length >= 8) {
    const inner = tryDecodeMessage(e.data);
    if (!(inner instanceof Error)) s += `${formatRequest(inner)}\n`;
    else s += `(***truncated to ${e.data.length} bytes***)\n`;
  }
  return s;
}
