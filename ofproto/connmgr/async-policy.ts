// Which async messages a connection receives (OF1.3.5 6.4 and 7.3.10): the
// per-role masks of OFPT_SET_ASYNC, starting from the spec's defaults, plus
// Open vSwitch's rule for service connections (ofconn_receives_async_msg):
// a service connection (ptcp:, punix:, the .mgmt socket) gets no async
// messages until it asks for them with a nonzero miss_send_len in
// OFPT_SET_CONFIG; `ovs-ofctl monitor` does exactly that.
import { OFPPR, OFPR, OFPRR } from '../openflow/constants.js';
import type { AsyncConfig, OfRole } from '../ofconn.js';

export type AsyncKind = 'packet_in' | 'port_status' | 'flow_removed';

/** OFP_DEFAULT_MISS_SEND_LEN: bytes of a frame sent with a packet-in to a controller. */
export const OFP_DEFAULT_MISS_SEND_LEN = 128;

const bit = (n: number): number => 1 << n;

/**
 * Spec defaults: master/equal get packet-in (no_match, action), every port
 * status and every flow-removed reason; a slave gets port status only.
 */
export function defaultAsyncConfig(): AsyncConfig {
  const allPortStatus = bit(OFPPR.ADD) | bit(OFPPR.DELETE) | bit(OFPPR.MODIFY);
  const allFlowRemoved = bit(OFPRR.IDLE_TIMEOUT) | bit(OFPRR.HARD_TIMEOUT) | bit(OFPRR.DELETE) | bit(OFPRR.GROUP_DELETE);
  return {
    packetInMask: [bit(OFPR.NO_MATCH) | bit(OFPR.ACTION), 0],
    portStatusMask: [allPortStatus, allPortStatus],
    flowRemovedMask: [allFlowRemoved, 0],
  };
}

export function asyncAllowed(
  cfg: AsyncConfig,
  role: OfRole,
  service: boolean,
  missSendLen: number,
  kind: AsyncKind,
  reason: number,
): boolean {
  if (service && missSendLen === 0) return false;
  if (!Number.isInteger(reason) || reason < 0 || reason > 31) return false;
  const masks = kind === 'packet_in' ? cfg.packetInMask : kind === 'port_status' ? cfg.portStatusMask : cfg.flowRemovedMask;
  const mask = role === 'slave' ? masks[1] : masks[0];
  return ((mask >>> reason) & 1) === 1;
}
