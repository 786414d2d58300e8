// The 254 OpenFlow tables of one switch and the FLOW_MOD semantics of
// OpenFlow 1.3.5 section 6.4: ADD (replace identical, CHECK_OVERLAP, table
// full), MODIFY[_STRICT] (no add in 1.3, cookie filter, RESET_COUNTS),
// DELETE[_STRICT] (OFPTT_ALL, cookie and out_port/out_group filters), and
// idle/hard timeouts. Instruction validation is the caller's (it knows
// ports, groups and meters), passed in as a callback.

import { OFPAT, OFPET, OFPFC, OFPFF, OFPFMFC, OFPG, OFPIT, OFPP, OFPRR, OFPTT } from '../openflow/constants.js';
import { OfpError } from '../openflow/errors.js';
import type { FlowModMsg } from '../openflow/flow-mod.js';
import type { Instruction } from '../openflow/instructions.js';
import { FlowTable } from './flow-table.js';
import { ofMatchCoveredBy, ofMatchFromOxm, ofMatchOverlaps, type OfMatch } from './of-match.js';
import { OfRule } from './rule.js';

/** Tables 0..253 (OFPTT_MAX = 254 is reserved in 1.3's numbering: 0xfe is "max", 0xff "all"). */
export const N_TABLES = 254;
export const DEFAULT_MAX_ENTRIES = 100_000;

export interface RemovedRule {
  rule: OfRule;
  /** OFPRR_* */
  reason: number;
}

export interface FlowModResult {
  added: OfRule[];
  modified: OfRule[];
  removed: RemovedRule[];
}

export type InstructionValidator = (instructions: Instruction[], tableId: number, match: OfMatch) => void;

function fmErr(code: number, message: string): OfpError {
  return new OfpError(OFPET.FLOW_MOD_FAILED, code, message);
}

/** True if any action of the rule outputs to `port` (OFPP_ANY: always) and uses group `group` (OFPG_ANY: always). */
export function ruleOutputsTo(rule: OfRule, port: number, group: number): boolean {
  if (port === OFPP.ANY && group === OFPG.ANY) return true;
  let portOk = port === OFPP.ANY;
  let groupOk = group === OFPG.ANY;
  for (const ins of rule.instructions) {
    if (ins.type !== OFPIT.APPLY_ACTIONS && ins.type !== OFPIT.WRITE_ACTIONS) continue;
    for (const a of ins.actions) {
      if (a.type === OFPAT.OUTPUT && a.port === port) portOk = true;
      if (a.type === OFPAT.GROUP && a.groupId === group) groupOk = true;
    }
  }
  return portOk && groupOk;
}

export class RuleTables {
  readonly tables: FlowTable[] = [];
  /** Rules with an idle or hard timeout: expire() looks at these only, not at every rule each second. */
  private readonly timed = new Set<OfRule>();

  constructor(maxEntriesPerTable = DEFAULT_MAX_ENTRIES) {
    for (let t = 0; t < N_TABLES; t++) this.tables.push(new FlowTable(t, maxEntriesPerTable));
  }

  get ruleCount(): number {
    let n = 0;
    for (const t of this.tables) n += t.count;
    return n;
  }

  *allRules(tableId: number = OFPTT.ALL): IterableIterator<OfRule> {
    if (tableId === OFPTT.ALL) for (const t of this.tables) yield* t.rules();
    else if (tableId < N_TABLES) yield* this.tables[tableId]!.rules();
  }

  /** Rules selected by a non-strict filter (DELETE, MODIFY, flow stats). */
  select(tableId: number, match: OfMatch, cookie: bigint, cookieMask: bigint, outPort: number, outGroup: number): OfRule[] {
    const out: OfRule[] = [];
    const c = cookie & cookieMask;
    for (const r of this.allRules(tableId)) {
      if ((r.cookie & cookieMask) !== c) continue;
      if (!ofMatchCoveredBy(r.match, match)) continue;
      if (!ruleOutputsTo(r, outPort, outGroup)) continue;
      out.push(r);
    }
    return out;
  }

  private selectStrict(tableId: number, match: OfMatch, priority: number, cookie: bigint, cookieMask: bigint, outPort: number, outGroup: number): OfRule[] {
    const out: OfRule[] = [];
    const tables = tableId === OFPTT.ALL ? this.tables : [this.tables[tableId]!];
    for (const t of tables) {
      const r = t.findStrict(match, priority);
      if (r === null) continue;
      if ((r.cookie & cookieMask) !== (cookie & cookieMask)) continue;
      if (!ruleOutputsTo(r, outPort, outGroup)) continue;
      out.push(r);
    }
    return out;
  }

  /**
   * Apply one FLOW_MOD. Throws OfpError with the spec's code; on error nothing
   * changed. `beforeChange` runs once just before an existing rule is
   * replaced, modified or removed (the caller credits pending statistics
   * then), never for an ADD of a new rule.
   */
  flowMod(fm: FlowModMsg, nowMs: number, validate: InstructionValidator, beforeChange?: () => void): FlowModResult {
    const res: FlowModResult = { added: [], modified: [], removed: [] };
    const isDelete = fm.command === OFPFC.DELETE || fm.command === OFPFC.DELETE_STRICT;
    if (fm.tableId >= N_TABLES && !(isDelete && fm.tableId === OFPTT.ALL)) {
      throw fmErr(OFPFMFC.BAD_TABLE_ID, `table ${fm.tableId} does not exist (tables are 0..${N_TABLES - 1})`);
    }
    const match = ofMatchFromOxm(fm.match);
    switch (fm.command) {
      case OFPFC.ADD: {
        validate(fm.instructions, fm.tableId, match);
        const table = this.tables[fm.tableId]!;
        const old = table.findStrict(match, fm.priority);
        if ((fm.flags & OFPFF.CHECK_OVERLAP) !== 0) {
          for (const r of table.rules()) {
            if (r.priority === fm.priority && ofMatchOverlaps(r.match, match)) {
              throw fmErr(OFPFMFC.OVERLAP, `overlaps a rule of priority ${fm.priority} in table ${fm.tableId}`);
            }
          }
        }
        if (old === null && table.count >= table.maxEntries) {
          throw fmErr(OFPFMFC.TABLE_FULL, `table ${fm.tableId} is full (${table.maxEntries} rules)`);
        }
        const rule = new OfRule({
          tableId: fm.tableId,
          priority: fm.priority,
          match,
          oxm: fm.match,
          cookie: fm.cookie,
          instructions: fm.instructions,
          flags: fm.flags,
          idleTimeout: fm.idleTimeout,
          hardTimeout: fm.hardTimeout,
          nowMs,
        });
        if (old !== null) {
          beforeChange?.();
          if ((fm.flags & OFPFF.RESET_COUNTS) === 0) {
            rule.packetCount = old.packetCount;
            rule.byteCount = old.byteCount;
          }
          table.remove(old);
          old.dead = true;
          this.timed.delete(old);
        }
        table.insert(rule);
        if (rule.idleTimeout > 0 || rule.hardTimeout > 0) this.timed.add(rule);
        res.added.push(rule);
        return res;
      }
      case OFPFC.MODIFY:
      case OFPFC.MODIFY_STRICT: {
        validate(fm.instructions, fm.tableId, match);
        const rules =
          fm.command === OFPFC.MODIFY
            ? this.select(fm.tableId, match, fm.cookie, fm.cookieMask, OFPP.ANY, OFPG.ANY)
            : this.selectStrict(fm.tableId, match, fm.priority, fm.cookie, fm.cookieMask, OFPP.ANY, OFPG.ANY);
        if (rules.length > 0) beforeChange?.();
        for (const r of rules) {
          r.instructions = fm.instructions;
          if ((fm.flags & OFPFF.RESET_COUNTS) !== 0) {
            r.packetCount = 0;
            r.byteCount = 0;
          }
          res.modified.push(r);
        }
        return res;
      }
      case OFPFC.DELETE:
      case OFPFC.DELETE_STRICT: {
        const rules =
          fm.command === OFPFC.DELETE
            ? this.select(fm.tableId, match, fm.cookie, fm.cookieMask, fm.outPort, fm.outGroup)
            : this.selectStrict(fm.tableId, match, fm.priority, fm.cookie, fm.cookieMask, fm.outPort, fm.outGroup);
        if (rules.length > 0) beforeChange?.();
        for (const r of rules) {
          this.removeRule(r);
          res.removed.push({ rule: r, reason: OFPRR.DELETE });
        }
        return res;
      }
      default:
        throw fmErr(OFPFMFC.BAD_COMMAND, `flow mod command ${fm.command}`);
    }
  }

  removeRule(r: OfRule): void {
    if (r.dead) return;
    this.tables[r.tableId]!.remove(r);
    r.dead = true;
    this.timed.delete(r);
  }

  /** Remove rules whose idle or hard timeout has passed; returns them with the reason. */
  expire(nowMs: number): RemovedRule[] {
    const out: RemovedRule[] = [];
    for (const r of this.timed) {
      if (r.hardTimeout > 0 && nowMs - r.createdMs >= r.hardTimeout * 1000) out.push({ rule: r, reason: OFPRR.HARD_TIMEOUT });
      else if (r.idleTimeout > 0 && nowMs - r.usedMs >= r.idleTimeout * 1000) out.push({ rule: r, reason: OFPRR.IDLE_TIMEOUT });
    }
    if (out.length > 1) out.sort((a, b) => a.rule.tableId - b.rule.tableId); // table order, as a scan of the tables gave
    for (const e of out) this.removeRule(e.rule);
    return out;
  }

  /** True if any rule has a timeout (so the caller knows to pull stats before expiring). */
  hasTimeouts(): boolean {
    return this.timed.size > 0;
  }
}
