// One OpenFlow rule (OVS's struct rule): its match in OF-flow layout, the
// original OXM list (echoed in stats and FLOW_REMOVED), instructions, timers
// and counters. Counters are plain numbers; megaflow hits are added by the
// ofproto's stats pull (see ofproto.ts "stats attribution").

import type { Instruction } from '../openflow/instructions.js';
import type { Match } from '../openflow/match.js';
import type { OfMatch } from './of-match.js';

let nextRuleId = 1;

export class OfRule {
  readonly id = nextRuleId++;
  tableId: number;
  readonly priority: number;
  readonly match: OfMatch;
  readonly oxm: Match;
  cookie: bigint;
  instructions: Instruction[];
  flags: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  /** Creation time (ms, ofproto clock). */
  readonly createdMs: number;
  /** Last time a packet hit this rule (ms); starts at creation. */
  usedMs: number;
  packetCount = 0;
  byteCount = 0;
  /** Set when removed from its table; holders (megaflow records) must ignore it. */
  dead = false;

  constructor(o: {
    tableId: number;
    priority: number;
    match: OfMatch;
    oxm: Match;
    cookie: bigint;
    instructions: Instruction[];
    flags: number;
    idleTimeout: number;
    hardTimeout: number;
    nowMs: number;
  }) {
    this.tableId = o.tableId;
    this.priority = o.priority;
    this.match = o.match;
    this.oxm = o.oxm;
    this.cookie = o.cookie;
    this.instructions = o.instructions;
    this.flags = o.flags;
    this.idleTimeout = o.idleTimeout;
    this.hardTimeout = o.hardTimeout;
    this.createdMs = o.nowMs;
    this.usedMs = o.nowMs;
  }

  hit(packets: number, bytes: number, nowMs: number): void {
    this.packetCount += packets;
    this.byteCount += bytes;
    if (packets > 0) this.usedMs = nowMs;
  }
}
