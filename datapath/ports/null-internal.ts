// A device-less internal port: the bridge's LOCAL port when the daemon runs
// with --no-internal-devices (tests sharing one network namespace, runs
// without CAP_NET_ADMIN), like an internal port of an OVS `dummy` datapath.
// It receives nothing; what it is sent is counted and dropped.

import { newPortStats, type Port, type PortStats } from './port.js';

export class NullInternalPort implements Port {
  readonly type = 'internal';
  portNo = 0;
  readonly stats: PortStats = newPortStats();
  readonly mtu = 1500;
  private up = false;

  constructor(
    readonly name: string,
    readonly mac: Uint8Array,
  ) {}

  get carrier(): boolean {
    return this.up;
  }

  start(): void {
    this.up = true;
  }

  send(_buf: Uint8Array, _off: number, len: number): void {
    this.stats.txPackets++;
    this.stats.txBytes += len;
  }

  flush(): void {}

  stop(): void {
    this.up = false;
  }
}
