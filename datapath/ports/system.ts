// A system port (OVS `type=system`, also an Interface with no type): an existing
// Linux interface (veth end, a VM's tap, a NIC) attached through an AF_PACKET
// socket of the tsvs_io addon. The port brings the interface up and, unless
// told not to, switches GRO/GSO/TSO off so received frames fit the MTU.
//
// Receive: by default a TPACKET_V2 RX ring of fixed frames sized from the MTU:
// no syscall per batch, and the kernel wakes the socket per frame, so a lone
// frame is handed over at once. (A TPACKET_V3 ring, `ringVersion: 3`, hands
// a block over only when it fills or its 1 ms retire timer fires: 1.6 ms
// namespace-to-namespace ping where V2 gives 0.3 ms; docs/ports.md.) On a
// TUN/TAP device (a VM's NIC: QEMU's -netdev tap) the default is recvmmsg,
// woken per frame (docs/qemu.md, Latency). When the MTU grows past the V2
// ring's frames, refreshLink() reopens the socket with larger ones.

import { existsSync } from 'node:fs';
import { linkInfo, openPacketSocket, setLinkUp, setOffloads, type OffloadResult, type PacketSocketOptions } from '../native/index.js';
import { NativeIoPort, frameMaxForMtu, portOpenError, type NativeIo, type NativeIoPortOptions } from './native-io-port.js';

/** RX ring layout of a system port on anything but a TUN/TAP device. */
export const DEFAULT_RING_VERSION: 2 | 3 = 2;

export interface SystemPortOptions extends NativeIoPortOptions {
  /**
   * TPACKET_V3 RX ring (fewest syscalls; adds up to retireMs of latency at low load) or recvmmsg (false).
   * Default: recvmmsg on a TUN/TAP device (a VM's NIC), the ring on anything else.
   */
  ring?: boolean;
  /** RX ring layout when ring is on: 2 = TPACKET_V2 (per-frame wake-up), 3 = TPACKET_V3 blocks. */
  ringVersion?: 2 | 3;
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
  /** @internal tests: the interface's MTU before opening (default: read from the kernel). */
  linkMtu?: (name: string) => number;
  /** @internal tests: is this interface a TUN/TAP device (default: /sys/class/net/NAME/tun_flags exists). */
  isTunTap?: (name: string) => boolean;
}

/** A TUN/TAP device has a tun_flags attribute in sysfs. */
export function isTunTapDevice(name: string): boolean {
  return existsSync(`/sys/class/net/${name}/tun_flags`);
}

/** Bytes a TPACKET_V2 ring frame needs besides the packet: tpacket2_hdr + sockaddr_ll, aligned (tp_mac = 66). */
const V2_FRAME_OVERHEAD = 80;

/** V2 ring frame size for frames of up to frameMax bytes: a power of two, at least 2048. */
export function v2RingFrameBytes(frameMax: number): number {
  let n = 2048;
  while (n < frameMax + V2_FRAME_OVERHEAD) n *= 2;
  return n;
}

export class SystemPort extends NativeIoPort {
  readonly type: string = 'system';
  /** What the last attach did to the offloads (null: left alone). */
  offloads: OffloadResult | null = null;
  /** The RX ring's TPACKET version (2 or 3), 0 for recvmmsg, null before the first attach. */
  rxRingVersion: number | null = null;
  /** Frame size of a V2 RX ring (0: no V2 ring). */
  rxRingFrameBytes = 0;

  constructor(
    name: string,
    private readonly opts: SystemPortOptions = {},
  ) {
    super(name, opts);
  }

  protected open(): NativeIo {
    const o = this.opts;
    const ring = o.ring ?? !(o.isTunTap ?? isTunTapDevice)(this.name);
    const version = ring ? (o.ringVersion ?? DEFAULT_RING_VERSION) : 0;
    const sockOpts: PacketSocketOptions = { ring, retireMs: o.retireMs ?? 1 };
    if (o.txSocket !== undefined) sockOpts.txSocket = o.txSocket;
    if (o.txRing !== undefined) sockOpts.txRing = o.txRing;
    try {
      if (version === 2) {
        sockOpts.ringVersion = 2;
        sockOpts.ringFrameBytes = v2RingFrameBytes(frameMaxForMtu(o.linkMtu ? o.linkMtu(this.name) : o.opener ? 1500 : linkInfo(this.name).mtu));
      } else if (version === 3) {
        sockOpts.ringVersion = 3;
      }
      this.rxRingVersion = version;
      this.rxRingFrameBytes = version === 2 ? sockOpts.ringFrameBytes! : 0;
      if (o.opener) return o.opener(this.name, sockOpts);
      if (o.up ?? true) setLinkUp(this.name, true);
      if (o.disableOffloads ?? true) this.offloads = setOffloads(this.name, false);
      return openPacketSocket(this.name, sockOpts);
    } catch (err) {
      throw portOpenError(this.type, this.name, err);
    }
  }

  /** Receive through an RX ring (true) or recvmmsg (false), as chosen at the last attach; null before it. */
  get rxRing(): boolean | null {
    return this.rxRingVersion === null ? null : this.rxRingVersion !== 0;
  }

  /** A V2 ring's fixed frames hold frames up to the MTU it was opened with; a larger MTU needs a new ring. */
  protected override needsReopen(frameMax: number): boolean {
    return this.rxRingVersion === 2 && frameMax + V2_FRAME_OVERHEAD > this.rxRingFrameBytes;
  }
}
