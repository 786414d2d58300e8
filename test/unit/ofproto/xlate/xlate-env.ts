// A translation environment without a datapath, for unit tests.
import { RuleTables } from '../../../../ofproto/classifier/rule-tables.js';
import { GroupTable } from '../../../../ofproto/group-table.js';
import { MeterTable } from '../../../../ofproto/meter-table.js';
import { MacLearning } from '../../../../ofproto/normal/mac-learning.js';
import type { PortVlanConfig } from '../../../../ofproto/normal/port-vlan.js';
import type { FlowModMsg } from '../../../../ofproto/openflow/flow-mod.js';
import type { PacketInInfo, XlateEnv, XlatePort } from '../../../../ofproto/xlate/xlate.js';

export interface TestPort extends XlatePort {
  config: number;
  noFlood: boolean;
  live: boolean;
  vlan: PortVlanConfig;
}

export class TestEnv implements XlateEnv {
  readonly tables = new RuleTables();
  readonly groups = new GroupTable();
  readonly meters = new MeterTable();
  now = 1000;
  readonly mac = new MacLearning({ clock: () => this.now });
  readonly byOf = new Map<number, TestPort>();
  failOpenFlag = false;
  readonly pins: PacketInInfo[] = [];
  private readonly pinIds = new Map<string, number>();

  addPort(ofPort: number, o: Partial<TestPort> = {}): TestPort {
    const p: TestPort = { ofPort, dpPort: ofPort + 100, name: `p${ofPort}`, config: 0, noFlood: false, live: true, vlan: {}, ...o };
    this.byOf.set(ofPort, p);
    return p;
  }
  portByOf(n: number): XlatePort | undefined {
    return this.byOf.get(n);
  }
  portByDp(n: number): XlatePort | undefined {
    for (const p of this.byOf.values()) if (p.dpPort === n) return p;
    return undefined;
  }
  ports(): Iterable<XlatePort> {
    return this.byOf.values();
  }
  failOpen(): boolean {
    return this.failOpenFlag;
  }
  packetInCookie(info: PacketInInfo): Uint8Array {
    const sig = JSON.stringify(info, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    let id = this.pinIds.get(sig);
    if (id === undefined) {
      id = this.pins.length;
      this.pins.push(info);
      this.pinIds.set(sig, id);
    }
    return Uint8Array.of(0, 0, id >> 8, id & 0xff);
  }
  nowMs(): number {
    return this.now;
  }
  flow(fm: FlowModMsg): void {
    this.tables.flowMod(fm, this.now, () => {});
  }
}
