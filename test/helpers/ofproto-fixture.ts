// Test fixture for ofproto: a fake connmgr (ConnectionSet + recording
// OfConn), message builders, and a bridge of a real Datapath with guests.
import { Datapath } from '../../datapath/dpif.js';
import { GuestPort } from '../../datapath/ports/guest.js';
import type { AsyncConfig, ConnectionSet, OfConn, OfRole } from '../../ofproto/ofconn.js';
import { Ofproto, type FailMode, type OfPortOptions } from '../../ofproto/ofproto.js';
import type { Action } from '../../ofproto/openflow/actions.js';
import { decodeMessage, encodeMessage, type OfpMessage } from '../../ofproto/openflow/codec.js';
import { OFP_NO_BUFFER, OFPAT, OFPFC, OFPG, OFPIT, OFPP, OFPT } from '../../ofproto/openflow/constants.js';
import type { FlowModMsg } from '../../ofproto/openflow/flow-mod.js';
import type { Instruction } from '../../ofproto/openflow/instructions.js';
import type { Match } from '../../ofproto/openflow/match.js';

export class FakeConn implements OfConn {
  readonly sent: OfpMessage[] = [];
  missSendLen = 128;
  readonly asyncConfig: AsyncConfig = { packetInMask: [7, 0], portStatusMask: [7, 7], flowRemovedMask: [15, 0] };
  constructor(
    readonly id = 1,
    readonly service = false,
    readonly role: OfRole = 'equal',
    readonly name = 'tcp:127.0.0.1:6653',
    readonly version = 4,
  ) {}
  send(msg: OfpMessage): void {
    // Round-trip through the codec so every message we emit is encodable.
    this.sent.push(decodeMessage(encodeMessage(msg)));
  }
  wantsAsync(kind: 'packet_in' | 'port_status' | 'flow_removed', reason: number): boolean {
    const m = kind === 'packet_in' ? this.asyncConfig.packetInMask : kind === 'port_status' ? this.asyncConfig.portStatusMask : this.asyncConfig.flowRemovedMask;
    return (m[this.role === 'slave' ? 1 : 0] & (1 << reason)) !== 0;
  }
  take<T extends OfpMessage['type']>(type: T): Extract<OfpMessage, { type: T }>[] {
    const out = this.sent.filter((m) => m.type === type) as Extract<OfpMessage, { type: T }>[];
    for (let i = this.sent.length - 1; i >= 0; i--) if (this.sent[i]!.type === type) this.sent.splice(i, 1);
    return out;
  }
}

export class FakeConnSet implements ConnectionSet {
  readonly conns: FakeConn[] = [];
  controller = false;
  connections(): Iterable<OfConn> {
    return this.conns;
  }
  controllerConnected(): boolean {
    return this.controller;
  }
}

let xid = 100;
export function flowMod(o: Partial<FlowModMsg> & { match?: Match; instructions?: Instruction[] }): FlowModMsg {
  return {
    type: OFPT.FLOW_MOD,
    version: 4,
    xid: xid++,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 100,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [],
    instructions: [],
    ...o,
  };
}

export const apply = (...actions: Action[]): Instruction => ({ type: OFPIT.APPLY_ACTIONS, actions });
export const write = (...actions: Action[]): Instruction => ({ type: OFPIT.WRITE_ACTIONS, actions });
export const output = (port: number, maxLen = 0xffff): Action => ({ type: OFPAT.OUTPUT, port, maxLen });
export const gotoTable = (tableId: number): Instruction => ({ type: OFPIT.GOTO_TABLE, tableId });

export interface Bridge {
  dp: Datapath;
  of: Ofproto;
  conns: FakeConnSet;
  conn: FakeConn;
  guests: GuestPort[];
  clock: { now: number };
  /** Send a message as the controller would (through handleMessage, after a codec round trip). */
  send(msg: OfpMessage): void;
  stop(): Promise<void>;
}

export async function makeBridge(
  name: string,
  guests: GuestPort[],
  o: { failMode?: FailMode; controller?: boolean; portOptions?: OfPortOptions[]; fakeClock?: boolean; dpOptions?: ConstructorParameters<typeof Datapath>[0] } = {},
): Promise<Bridge> {
  const clock = { now: 1_000_000 };
  const clockFn = o.fakeClock ? () => clock.now : Date.now;
  const dp = new Datapath({ name, clock: clockFn, ...(o.dpOptions ?? {}) });
  const conns = new FakeConnSet();
  conns.controller = o.controller ?? false;
  const conn = new FakeConn();
  conns.conns.push(conn);
  const of = new Ofproto({ name, datapath: dp, datapathId: 0x1234n, connections: conns, failMode: o.failMode ?? 'secure', clock: clockFn, runIntervalMs: 0 });
  for (const [i, g] of guests.entries()) {
    const no = await dp.addPort(g);
    of.addPort(no, o.portOptions?.[i] ?? {});
  }
  await dp.start();
  of.start();
  conn.sent.length = 0;
  return {
    dp,
    of,
    conns,
    conn,
    guests,
    clock,
    send: (msg) => of.handleMessage(conn, decodeMessage(encodeMessage(msg))),
    stop: async () => {
      of.stop();
      await dp.stop();
    },
  };
}

export const settle = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));
