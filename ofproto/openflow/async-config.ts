// OFPT_GET_ASYNC_REQUEST / OFPT_GET_ASYNC_REPLY / OFPT_SET_ASYNC (7.3.10):
// per-role masks of async reasons, [master/equal, slave].
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export interface GetAsyncRequestMsg extends MessageBase {
  type: typeof OFPT.GET_ASYNC_REQUEST;
}

export interface AsyncConfigMsg extends MessageBase {
  type: typeof OFPT.GET_ASYNC_REPLY | typeof OFPT.SET_ASYNC;
  packetInMask: [number, number];
  portStatusMask: [number, number];
  flowRemovedMask: [number, number];
}

export function decodeAsyncConfig(r: WireReader, base: MessageBase, type: AsyncConfigMsg['type']): AsyncConfigMsg {
  const pair = (what: string): [number, number] => [r.u32(what), r.u32(what)];
  const packetInMask = pair('packet_in_mask');
  const portStatusMask = pair('port_status_mask');
  const flowRemovedMask = pair('flow_removed_mask');
  r.done('async config');
  return { type, ...base, packetInMask, portStatusMask, flowRemovedMask };
}

export function encodeAsyncConfig(w: WireWriter, m: AsyncConfigMsg): void {
  for (const p of [m.packetInMask, m.portStatusMask, m.flowRemovedMask]) w.u32(p[0]).u32(p[1]);
}
