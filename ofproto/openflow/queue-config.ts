// OFPT_QUEUE_GET_CONFIG_REQUEST / _REPLY (7.3.6) and ofp_packet_queue with
// its properties (MIN_RATE, MAX_RATE, EXPERIMENTER; others kept opaque).
import { OFPQT, OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export type QueueProp =
  | { kind: 'minRate' | 'maxRate'; /** 1/10 of a percent; > 1000 = disabled. */ rate: number }
  | { kind: 'experimenter'; experimenter: number; data: Buffer }
  | { kind: 'opaque'; property: number; data: Buffer };

export interface PacketQueue {
  queueId: number;
  port: number;
  properties: QueueProp[];
}

export interface QueueGetConfigRequestMsg extends MessageBase {
  type: typeof OFPT.QUEUE_GET_CONFIG_REQUEST;
  port: number;
}

export interface QueueGetConfigReplyMsg extends MessageBase {
  type: typeof OFPT.QUEUE_GET_CONFIG_REPLY;
  port: number;
  queues: PacketQueue[];
}

export function decodeQueueGetConfigRequest(r: WireReader, base: MessageBase): QueueGetConfigRequestMsg {
  const port = r.u32('port');
  r.skip(4, 'pad');
  r.done('queue get config request');
  return { type: OFPT.QUEUE_GET_CONFIG_REQUEST, ...base, port };
}

export function encodeQueueGetConfigRequest(w: WireWriter, m: QueueGetConfigRequestMsg): void {
  w.u32(m.port).zeros(4);
}

function decodeQueueProp(r: WireReader): QueueProp {
  const start = r.pos;
  const property = r.u16('queue property');
  const len = r.u16('queue property len');
  if (len < 8 || len % 8 !== 0) throw r.fail(`queue property ${property}: length ${len} is not a multiple of 8 >= 8`);
  r.pos = start;
  const p = r.sub(len, `queue property ${property}`);
  p.skip(8, 'queue property header');
  if (property === OFPQT.MIN_RATE || property === OFPQT.MAX_RATE) {
    if (len !== 16) throw r.fail(`queue rate property: length ${len}, expected 16`);
    return { kind: property === OFPQT.MIN_RATE ? 'minRate' : 'maxRate', rate: p.u16('rate') };
  }
  if (property === OFPQT.EXPERIMENTER) {
    const experimenter = p.u32('experimenter');
    p.skip(4, 'pad');
    return { kind: 'experimenter', experimenter, data: Buffer.from(p.rest()) };
  }
  return { kind: 'opaque', property, data: Buffer.from(p.rest()) };
}

export function decodePacketQueue(r: WireReader): PacketQueue {
  const queueId = r.u32('queue_id');
  const port = r.u32('port');
  const len = r.u16('queue len');
  if (len < 16) throw r.fail(`packet queue: length ${len} < 16`);
  r.skip(6, 'pad');
  const p = r.sub(len - 16, 'queue properties');
  const properties: QueueProp[] = [];
  while (p.remaining > 0) properties.push(decodeQueueProp(p));
  return { queueId, port, properties };
}

export function encodePacketQueue(w: WireWriter, q: PacketQueue): void {
  const start = w.length;
  w.u32(q.queueId).u32(q.port).u16(0).zeros(6);
  for (const prop of q.properties) {
    const ps = w.length;
    switch (prop.kind) {
      case 'minRate':
      case 'maxRate':
        w.u16(prop.kind === 'minRate' ? OFPQT.MIN_RATE : OFPQT.MAX_RATE).u16(16).zeros(4).u16(prop.rate).zeros(6);
        break;
      case 'experimenter':
        w.u16(OFPQT.EXPERIMENTER).u16(0).zeros(4).u32(prop.experimenter).zeros(4).bytes(prop.data).pad8(ps);
        break;
      case 'opaque':
        w.u16(prop.property).u16(0).zeros(4).bytes(prop.data).pad8(ps);
        break;
    }
    w.setU16(ps + 2, w.length - ps);
  }
  w.setU16(start + 8, w.length - start);
}

export function decodeQueueGetConfigReply(r: WireReader, base: MessageBase): QueueGetConfigReplyMsg {
  const port = r.u32('port');
  r.skip(4, 'pad');
  const queues: PacketQueue[] = [];
  while (r.remaining > 0) queues.push(decodePacketQueue(r));
  return { type: OFPT.QUEUE_GET_CONFIG_REPLY, ...base, port, queues };
}

export function encodeQueueGetConfigReply(w: WireWriter, m: QueueGetConfigReplyMsg): void {
  w.u32(m.port).zeros(4);
  for (const q of m.queues) encodePacketQueue(w, q);
}
