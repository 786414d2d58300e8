// The port (netdev) interface every port type implements, and its counters.
// A port owns its fds/sockets/timers: start() opens them, stop() frees them.
// Receive: the port hands the datapath whole batches through its RxSink.
// Transmit: the datapath calls send() per frame (the port copies into its own
// bounded queue) and flush() once per batch.

import type { PacketBatch } from '../packet-batch.js';

export interface PortStats {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  rxErrors: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
  txErrors: number;
}

export function newPortStats(): PortStats {
  return { rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0 };
}

/** Where a port delivers received frames. Called with the port's own batch; the sink must not keep it. */
export interface RxSink {
  receive(portNo: number, batch: PacketBatch): void;
}

export interface Port {
  /** Interface name (unique within a datapath). */
  readonly name: string;
  /** Interface.type: guest, patch, tap, system, internal, stream, dgram. */
  readonly type: string;
  /** Datapath port number; set by the datapath when the port is added. */
  portNo: number;
  readonly stats: PortStats;
  /** Link up? */
  readonly carrier: boolean;
  readonly mtu: number;
  /** MAC address as 6 bytes. */
  readonly mac: Uint8Array;

  /** Open resources and begin delivering received batches to sink. */
  start(sink: RxSink): void | Promise<void>;
  /** Queue one frame for transmission (copied). Drops and counts when the queue is full. */
  send(buf: Uint8Array, off: number, len: number): void;
  /** Transmit everything queued (one syscall/callback per batch where possible). */
  flush(): void;
  /** Free every resource; safe to call twice. */
  stop(): void | Promise<void>;
  /**
   * Re-read what the OS may change under a running port (MTU, MAC) and adapt to it (fd-backed ports
   * resize their batches for a new MTU). Called from a timer, between batches; optional.
   */
  refreshLink?(): void;
}
