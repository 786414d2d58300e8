// The contract between ofproto (one OpenFlow switch per bridge) and connmgr
// (its controller and service connections). connmgr owns sockets, HELLO,
// ECHO, roles, async config and barriers; everything else reaches ofproto
// through OfprotoHandler.handleMessage, synchronously and in arrival order.

import type { OfpMessage } from './openflow/codec.js';

export type OfRole = 'equal' | 'master' | 'slave';

/** Async message masks as OFPT_SET_ASYNC: index 0 applies to master/equal, index 1 to slave. */
export interface AsyncConfig {
  packetInMask: [number, number];
  portStatusMask: [number, number];
  flowRemovedMask: [number, number];
}

/** One OpenFlow connection as ofproto sees it. */
export interface OfConn {
  readonly id: number;
  /** Human-readable target, e.g. "tcp:127.0.0.1:6653" or "punix:/run/tsvs/br0.mgmt". */
  readonly name: string;
  /** Negotiated OpenFlow version (4 = 1.3). */
  readonly version: number;
  readonly role: OfRole;
  /** True for passive service connections (ptcp:, punix:, the .mgmt socket); false for controllers. */
  readonly service: boolean;
  /** Bytes of a packet-in's frame sent to this connection (OFPCML_NO_BUFFER = 0xffff: all). */
  missSendLen: number;
  readonly asyncConfig: AsyncConfig;
  /** Queue a message to the peer (bounded; overflow drops and counts). */
  send(msg: OfpMessage): void;
  /** True when this connection wants async message `kind` with `reason` (role + async config applied). */
  wantsAsync(kind: 'packet_in' | 'port_status' | 'flow_removed', reason: number): boolean;
}

/** What connmgr calls on its bridge's ofproto. */
export interface OfprotoHandler {
  /** A message other than HELLO/ECHO/ROLE/ASYNC/BARRIER from an established connection. */
  handleMessage(conn: OfConn, msg: OfpMessage): void;
  connected(conn: OfConn): void;
  disconnected(conn: OfConn): void;
  /** FEATURES_REPLY content, answered by connmgr during the handshake. */
  features(): { datapathId: bigint; nBuffers: number; nTables: number; auxiliaryId: number; capabilities: number };
}

/** What ofproto calls on connmgr. */
export interface ConnectionSet {
  /** Every established connection, controllers and services. */
  connections(): Iterable<OfConn>;
  /**
   * True when at least one controller (active, non-service) connection is up.
   * Drives fail_mode: standalone acts as a learning switch without one.
   */
  controllerConnected(): boolean;
}
