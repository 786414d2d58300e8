// A system port (OVS `type=system`, also an Interface with no type): an existing
// Linux interface (veth end, a VM's tap, a NIC) attached through an AF_PACKET
// socket of the tsvs_io addon. The port brings the interface up and, unless
// told not to, switches GRO/GSO/TSO off so received frames fit the MTU.

import { openPacketSocket, setLinkUp, setOffloads, type OffloadResult, type PacketSocketOptions } from '../native/index.js';
import { NativeIoPort, portOpenError, type NativeIo, type NativeIoPortOptions } from './native-io-port.js';

export interface SystemPortOptions extends NativeIoPortOptions {
  /** TPACKET_V3 RX ring (default true: fewest syscalls; adds up to retireMs of latency at low load). */
  ring?: boolean;
  /** Frames per receive callback (default 64). */
  rxBatch?: number;
  /** Ring block retire timeout in ms (default 1). */
  retireMs?: number;
  /** Transmit on a socket of its own (default true; see PacketSocketOptions.txSocket). */
  txSocket?: boolean;
  /** TPACKET_V2 TX ring frames (multiple of 32; 0 = sendmmsg; default the addon's TX_RING_DEFAULT). */
  txRing?: number;
  /** Switch GRO/GSO/TSO off on the interface (default true). */
  disableOffloads?: boolean;
  /** Bring the interface up when attaching (default true). */
  up?: boolean;
  /** @internal tests: open something else than an AF_PACKET socket. */
  opener?: (name: string, opts: PacketSocketOptions) => NativeIo;
}

export class SystemPort extends NativeIoPort {
  readonly type: string = 'system';
  /** What the last attach did to the offloads (null: left alone). */
  offloads: OffloadResult | null = null;

  constructor(
    name: string,
    private readonly opts: SystemPortOptions = {},
  ) {
    super(name, opts);
  }

  protected open(): NativeIo {
    const o = this.opts;
    const sockOpts: PacketSocketOptions = { ring: o.ring ?? true, batchSize: o.rxBatch ?? 64, retireMs: o.retireMs ?? 1 };
    if (o.txSocket !== undefined) sockOpts.txSocket = o.txSocket;
    if (o.txRing !== undefined) sockOpts.txRing = o.txRing;
    try {
      if (o.opener) return o.opener(this.name, sockOpts);
      if (o.up ?? true) setLinkUp(this.name, true);
      if (o.disableOffloads ?? true) this.offloads = setOffloads(this.name, false);
      return openPacketSocket(this.name, sockOpts);
    } catch (err) {
      throw portOpenError(this.type, this.name, err);
    }
  }
}
