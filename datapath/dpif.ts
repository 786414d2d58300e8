// The datapath object (OVS's dpif-netdev): ports, the flow cache (EMC +
// megaflow classifier), the per-batch fast path, upcalls on a miss and the
// counters that ofproto, appctl and metrics read. Single-threaded: a port's
// receive loop calls receive() with a whole batch; upcalls are synchronous,
// so a flow installed for the first packet of a batch serves the rest.

import { compileActions, type ActionProgram } from './actions/compile.js';
import { ActionStats, executeActions, type ActionContext } from './actions/execute.js';
import { formatDpFlow } from './actions/odp-actions.js';
import type { DpAction } from './actions/types.js';
import { FlowCache, type FlowCacheOptions } from './cache/flow-cache.js';
import type { Megaflow } from './cache/megaflow.js';
import { extractFlow } from './flow/extract.js';
import { hashKeySignature } from './flow/hash.js';
import { KEY_WORDS, L_L4, W_NW_PROTO_TOS_TTL_FRAG, W_TCP_FLAGS, newLayout } from './flow/key.js';
import { DpifError } from './dpif-error.js';
import { DpMeterTable, type DpMeter, type DpMeterConfig } from './meter.js';
import { FlowOffload, type FlowOffloadOptions, type FlowOffloadStats } from './offload/flow-offload.js';
import { PacketBatch } from './packet-batch.js';
import type { Port, RxSink } from './ports/port.js';

export type DpFlow = Megaflow<ActionProgram>;

/** What ofproto answers to a miss: actions for this packet and the mask of every field it looked at. */
export interface UpcallResult {
  actions: DpAction[];
  /** Mask to install the megaflow with; null = execute only, install nothing. */
  mask: Uint32Array | null;
}

export interface UpcallHandler {
  /** A frame matched no megaflow. Return null to drop it without installing a flow. */
  miss(inPort: number, key: Uint32Array, frame: Buffer): UpcallResult | null;
  /** A userspace() action fired (e.g. a packet-in or a sample). */
  action?(inPort: number, key: Uint32Array, frame: Buffer, cookie: Uint8Array | null): void;
  /**
   * Called before the next received batch is looked up, once per
   * requestSync(): the handler brings the megaflows up to date (revalidation)
   * so no frame hits a flow made stale by a change it has not processed yet.
   */
  sync?(): void;
}

export interface DatapathOptions extends FlowCacheOptions {
  name?: string;
  /** Milliseconds clock for flow 'used' times (injectable for tests). */
  clock?: () => number;
  /** u32 random source for sample() (injectable for tests). */
  random?: () => number;
  /**
   * Kernel fast path (tc) for megaflows between `system` ports, like OVS's
   * other_config:hw-offload=true: true or options = on; default off.
   */
  offload?: boolean | FlowOffloadOptions;
}

export interface DatapathStats {
  /** Frames received from ports. */
  rxFrames: number;
  emcHits: number;
  megaflowHits: number;
  misses: number;
  /** Upcalls answered by the handler. */
  upcalls: number;
  /** Misses dropped because no handler was set or it failed. */
  lostUpcalls: number;
  /** Megaflows not installed because the flow table was full. */
  flowLimitHits: number;
  /** Outputs to a port number that does not exist. */
  outputDrops: number;
  /** Megaflows installed now. */
  flows: number;
  /** Distinct masks (classifier subtables) now. */
  masks: number;
  /** Executor counters (short frames, dropped copies, expired TTLs, samples). */
  actions: ActionStats;
}

/** Re-entrancy bound: patch ports and packet-outs may nest receive() calls. */
const MAX_DEPTH = 4;
/** Highest datapath port number (OpenFlow's OFPP_MAX is 0xffffff00; datapaths stay small). */
const MAX_PORT_NO = 0xfeff;

/** Per-nesting-depth scratch: frames are processed one at a time, so one key and layout suffice. */
/**
 * Per-nesting-depth scratch for one batch: a key, layout and hash per frame
 * (a key and its layout stay paired across batches; see L_WORDS_LO) and the
 * batch lookup's answers. Grows once to the largest batch seen.
 */
class Scratch {
  readonly keys: Uint32Array[] = [];
  readonly layouts: Int32Array[] = [];
  hashes = new Int32Array(0);
  readonly flows: (DpFlow | null)[] = [];

  ensure(n: number): void {
    if (this.keys.length >= n) return;
    while (this.keys.length < n) {
      this.keys.push(new Uint32Array(KEY_WORDS));
      this.layouts.push(newLayout());
      this.flows.push(null);
    }
    this.hashes = new Int32Array(n);
  }
}

export class Datapath implements RxSink {
  readonly name: string;
  readonly cache: FlowCache<ActionProgram>;
  private readonly counters = {
    rxFrames: 0,
    upcalls: 0,
    lostUpcalls: 0,
    flowLimitHits: 0,
    outputDrops: 0,
  };

  private readonly portsByNo: (Port | undefined)[] = [];
  private readonly portsByName = new Map<string, Port>();
  /** Ports with queued output in this batch, flushed once at its end. */
  private readonly dirty: Port[] = [];
  private readonly dirtyFlags = new Uint8Array(MAX_PORT_NO + 1);
  private readonly scratch: Scratch[] = [];
  private readonly oneBatch = new PacketBatch(1);
  private readonly ctx: DpActionContext;
  private handler: UpcallHandler | null = null;
  /** A handler change is pending: call handler.sync() before the next batch. */
  private syncRequested = false;
  private depth = 0;
  private readonly clock: () => number;
  private started = false;
  /** Meters the meter(id) action runs packets through (OVS's dpif meter_set/meter_get/meter_del). */
  private readonly meterTable = new DpMeterTable();
  /** The tc offload when hw-offload is on; null (the default) costs nothing per frame. */
  private offloader: FlowOffload | null = null;

  constructor(opts: DatapathOptions = {}) {
    this.name = opts.name ?? 'tsvs';
    this.cache = new FlowCache<ActionProgram>(opts);
    this.clock = opts.clock ?? Date.now;
    this.ctx = new DpActionContext(this, this.meterTable, opts.random ?? defaultRandom);
    for (let d = 0; d < MAX_DEPTH; d++) this.scratch.push(new Scratch());
    if (opts.offload) this.setOffload(opts.offload === true ? {} : opts.offload);
  }

  // --- offload ----------------------------------------------------------------

  /**
   * Turn the tc offload on (options) or off (null). Turning it on offloads the
   * megaflows already installed; off removes every kernel flow and filter.
   */
  async setOffload(opts: FlowOffloadOptions | null): Promise<void> {
    if (opts === null) {
      const o = this.offloader;
      this.offloader = null;
      if (o !== null) await o.stop();
      return;
    }
    if (this.offloader !== null) return;
    const self = this;
    const o = new FlowOffload(
      { name: this.name, port: (no) => self.portsByNo[no], clock: () => self.clock() },
      opts,
    );
    this.offloader = o;
    if (this.started) for (const p of this.ports()) o.portAdded(p.portNo);
    for (const f of this.cache.dump()) o.flowAdded(f);
  }

  /** The tc offload, or null when hw-offload is off. */
  get offload(): FlowOffload | null {
    return this.offloader;
  }

  /** Offload counters, or null when hw-offload is off. */
  get offloadStats(): FlowOffloadStats | null {
    return this.offloader === null ? null : this.offloader.stats;
  }

  /** Counters for appctl dpctl/show and metrics (the cache's hit counters included). */
  get stats(): DatapathStats {
    const c = this.cache;
    return {
      ...this.counters,
      emcHits: c.emcHits,
      megaflowHits: c.megaflowHits,
      misses: c.misses,
      flows: c.count,
      masks: c.classifier.subtableCount,
      actions: this.ctx.stats,
    };
  }

  // --- ports ------------------------------------------------------------------

  /**
   * Add a port; returns its port number (requested, or the lowest free from 1).
   * Port 0 is only ever given on request: the bridge's own (local) port, as in OVS.
   */
  async addPort(port: Port, requestedNo?: number): Promise<number> {
    if (this.portsByName.has(port.name)) throw new DpifError('EEXIST', `${this.name}: port ${port.name} already exists`);
    let no = requestedNo ?? -1;
    if (no !== -1) {
      if (!Number.isInteger(no) || no < 0 || no > MAX_PORT_NO) throw new DpifError('EINVAL', `${this.name}: bad port number ${no}`);
      if (this.portsByNo[no]) throw new DpifError('EEXIST', `${this.name}: port number ${no} is in use`);
    } else {
      no = 1;
      while (this.portsByNo[no]) no++;
    }
    port.portNo = no;
    this.portsByNo[no] = port;
    this.portsByName.set(port.name, port);
    if (this.started) {
      try {
        await port.start(this);
      } catch (e) {
        // A port that could not open (no such device...) is not left behind.
        this.portsByNo[no] = undefined;
        this.portsByName.delete(port.name);
        await port.stop();
        throw e;
      }
    }
    // A TAP port's device exists only once the port has started.
    if (this.offloader !== null && this.started) this.offloader.portAdded(no);
    return no;
  }

  async delPort(nameOrNo: string | number): Promise<void> {
    const port = this.port(nameOrNo);
    if (!port) throw new DpifError('ENOENT', `${this.name}: no port ${nameOrNo}`);
    if (this.offloader !== null) await this.offloader.portRemoved(port.portNo);
    this.portsByNo[port.portNo] = undefined;
    this.portsByName.delete(port.name);
    await port.stop();
  }

  port(nameOrNo: string | number): Port | undefined {
    return typeof nameOrNo === 'number' ? this.portsByNo[nameOrNo] : this.portsByName.get(nameOrNo);
  }

  ports(): Port[] {
    return this.portsByNo.filter((p): p is Port => p !== undefined);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const p of this.ports()) await p.start(this);
    const o = this.offloader;
    if (o !== null) for (const p of this.ports()) o.portAdded(p.portNo);
  }

  async stop(): Promise<void> {
    this.started = false;
    const o = this.offloader;
    if (o !== null) {
      // Kernel flows go before the ports: nothing keeps forwarding behind a stopped switch.
      this.offloader = null;
      await o.stop();
    }
    for (const p of this.ports()) await p.stop();
  }

  setUpcallHandler(handler: UpcallHandler | null): void {
    this.handler = handler;
  }

  // --- meters -----------------------------------------------------------------

  /** Add or replace meter `id` (buckets full, counters zero). Throws DpifError EINVAL on a bad config. */
  meterSet(id: number, config: DpMeterConfig): DpMeter {
    return this.meterTable.set(id, config, this.clock());
  }

  /** Meter `id` with its counters (packets, bytes, per band), or undefined. */
  meterGet(id: number): DpMeter | undefined {
    return this.meterTable.get(id);
  }

  meterDel(id: number): boolean {
    return this.meterTable.del(id);
  }

  meters(): IterableIterator<DpMeter> {
    return this.meterTable.values();
  }

  /**
   * Asks for one handler.sync() before the next batch is looked up (see UpcallHandler.sync).
   * With the offload on, offloaded flows' frames never make a batch here, so the sync also runs
   * on its own right after the current I/O callbacks (the kernel's copies follow at once).
   */
  requestSync(): void {
    this.syncRequested = true;
    if (this.offloader !== null && !this.syncScheduled) {
      this.syncScheduled = true;
      setImmediate(this.runRequestedSync);
    }
  }

  private syncScheduled = false;
  private readonly runRequestedSync = (): void => {
    this.syncScheduled = false;
    if (!this.syncRequested || this.depth !== 0) return;
    this.syncRequested = false;
    this.handler?.sync?.(); // must not throw (as in receive())
  };

  // --- flows ------------------------------------------------------------------

  /** Install (or replace the actions of) the megaflow key/mask. */
  flowPut(key: Uint32Array, mask: Uint32Array, actions: DpAction[], ufid = ''): DpFlow {
    const program = compileActions(actions);
    const existing = this.cache.get(key, mask);
    if (existing) {
      this.cache.modify(key, mask, program);
      if (this.offloader !== null) this.offloader.flowChanged(existing);
      return existing;
    }
    return this.putFlow(key, mask, program, ufid);
  }

  /** A new megaflow in the cache, and in the kernel too when the offload takes it. */
  private putFlow(key: Uint32Array, mask: Uint32Array, program: ActionProgram, ufid?: string): DpFlow {
    const flow = this.cache.put(key, mask, program, ufid);
    if (this.offloader !== null) this.offloader.flowAdded(flow);
    return flow;
  }

  flowGet(key: Uint32Array, mask: Uint32Array): DpFlow | null {
    return this.cache.get(key, mask);
  }

  flowDel(key: Uint32Array, mask: Uint32Array): boolean {
    const f = this.cache.delMatch(key, mask);
    if (f !== null && this.offloader !== null) this.offloader.flowRemoved(f);
    return f !== null;
  }

  flowDump(): IterableIterator<DpFlow> {
    return this.cache.dump();
  }

  flowFlush(): void {
    const o = this.offloader;
    if (o !== null) for (const f of this.cache.dump()) o.flowRemoved(f);
    this.cache.flush();
  }

  /** Every megaflow as `ovs-appctl dpctl/dump-flows` prints it, one per line. */
  dumpFlowsText(): string[] {
    const now = this.clock();
    const lines: string[] = [];
    for (const f of this.cache.dump()) {
      lines.push(
        formatDpFlow({
          key: f.key,
          mask: f.mask,
          actions: [...f.actions.source],
          packets: f.packets,
          bytes: f.bytes,
          usedSec: f.usedMs === 0 ? null : Math.max(0, now - f.usedMs) / 1000,
          tcpFlags: f.tcpFlags,
          offloaded: this.offloader !== null && this.offloader.isOffloaded(f),
        }),
      );
    }
    return lines;
  }

  /** Execute actions on one frame as if it arrived on inPort (packet-out). The frame is copied. */
  execute(frame: Uint8Array, inPort: number, actions: DpAction[]): void {
    const program = compileActions(actions);
    if (this.depth >= MAX_DEPTH) throw new DpifError('ELOOP', `${this.name}: execute nested too deeply`);
    const s = this.scratch[this.depth++];
    const b = this.oneBatch;
    try {
      b.clear();
      b.push(frame);
      s.ensure(1);
      extractFlow(b.buf, b.off[0], b.len[0], inPort, s.keys[0], s.layouts[0]);
      this.ctx.inPort = inPort;
      this.ctx.nowMs = this.clock();
      executeActions(b, 0, s.keys[0], s.layouts[0], program, this.ctx);
      this.flushDirty();
    } finally {
      this.depth--;
    }
  }

  // --- fast path ----------------------------------------------------------------

  /** RxSink: process a batch received on port portNo. */
  receive(portNo: number, batch: PacketBatch): void {
    if (this.depth >= MAX_DEPTH) {
      this.counters.lostUpcalls += batch.count;
      return;
    }
    if (this.syncRequested && this.depth === 0) {
      this.syncRequested = false;
      this.handler?.sync?.(); // must not throw (as miss() and action())
    }
    const s = this.scratch[this.depth++];
    const n = batch.count;
    s.ensure(n);
    const cache = this.cache;
    const stats = this.counters;
    const now = this.clock();
    const ctx = this.ctx;
    ctx.inPort = portNo;
    ctx.nowMs = now;
    stats.rxFrames += n;
    const keys = s.keys;
    const layouts = s.layouts;
    const hashes = s.hashes;
    const flows = s.flows;
    // Extract every frame, then look the whole batch up at once (EMC, then the
    // classifier subtable by subtable), as OVS's dp_netdev_input does: the
    // cache misses of 32 frames overlap instead of adding up.
    for (let i = 0; i < n; i++) {
      extractFlow(batch.buf, batch.off[i], batch.len[i], portNo, keys[i], layouts[i]);
      hashes[i] = hashKeySignature(keys[i]);
    }
    cache.lookupBatch(keys, hashes, n, flows);
    let upcalled = false;
    for (let i = 0; i < n; i++) {
      const key = keys[i];
      const layout = layouts[i];
      let flow = flows[i];
      // An upcall earlier in this batch may have installed this frame's flow,
      // or removed the one found (ofproto flushes megaflows on changes).
      if (upcalled && (flow === null || flow.dead)) flow = cache.lookup(key, hashes[i]);
      if (flow === null) {
        upcalled = true;
        flow = this.upcall(portNo, batch, i, key, layout);
        if (flow === null) continue;
      }
      flow.packets++;
      flow.bytes += batch.len[i];
      flow.usedMs = now;
      if (layout[L_L4] >= 0 && key[W_NW_PROTO_TOS_TTL_FRAG] >>> 24 === 6) flow.tcpFlags |= key[W_TCP_FLAGS];
      executeActions(batch, i, key, layout, flow.actions, ctx);
    }
    for (let i = 0; i < n; i++) flows[i] = null; // hold no flow past the batch
    this.flushDirty();
    this.depth--;
  }

  /** Miss: ask ofproto, install the megaflow it describes, return it (or null: already handled/dropped). */
  private upcall(portNo: number, batch: PacketBatch, i: number, key: Uint32Array, layout: Int32Array): DpFlow | null {
    const handler = this.handler;
    if (handler === null) {
      this.counters.lostUpcalls++;
      return null;
    }
    let result: UpcallResult | null;
    try {
      result = handler.miss(portNo, key, batch.frame(i));
    } catch {
      this.counters.lostUpcalls++;
      return null;
    }
    this.counters.upcalls++;
    if (result === null) return null;
    const program = compileActions(result.actions);
    if (result.mask !== null) {
      if (this.cache.classifier.full) {
        this.counters.flowLimitHits++;
      } else {
        const existing = this.cache.get(key, result.mask);
        return existing ?? this.putFlow(key, result.mask, program);
      }
    }
    // Not installed: run the actions for this packet only.
    executeActions(batch, i, key, layout, program, this.ctx);
    return null;
  }

  /** Called by the action context for each output. */
  output(portNo: number, buf: Uint8Array, off: number, len: number): void {
    const port = this.portsByNo[portNo];
    if (port === undefined) {
      this.counters.outputDrops++;
      return;
    }
    port.send(buf, off, len);
    if (this.dirtyFlags[portNo] === 0) {
      this.dirtyFlags[portNo] = 1;
      this.dirty.push(port);
    }
  }

  userspace(inPort: number, buf: Uint8Array, off: number, len: number, cookie: Uint8Array | null, key: Uint32Array): void {
    const h = this.handler;
    if (h === null || h.action === undefined) {
      this.counters.lostUpcalls++;
      return;
    }
    const frame = Buffer.from(buf.buffer, buf.byteOffset + off, len);
    try {
      h.action(inPort, key, frame, cookie);
    } catch {
      this.counters.lostUpcalls++;
    }
  }

  private flushDirty(): void {
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) {
      this.dirtyFlags[d[i].portNo] = 0;
      d[i].flush();
    }
    d.length = 0;
  }
}

/** The datapath's side of action execution; one per datapath, monomorphic. */
class DpActionContext implements ActionContext {
  inPort = 0;
  /** The clock reading of the batch being processed, for meters. */
  nowMs = 0;
  readonly stats = new ActionStats();
  constructor(
    private readonly dp: Datapath,
    private readonly meterTable: DpMeterTable,
    readonly random: () => number,
  ) {}
  meter(id: number, bytes: number): number {
    const m = this.meterTable.get(id);
    return m === undefined ? 0 : m.apply(bytes, this.nowMs);
  }
  output(portNo: number, buf: Uint8Array, off: number, len: number): void {
    this.dp.output(portNo, buf, off, len);
  }
  userspace(inPort: number, buf: Uint8Array, off: number, len: number, cookie: Uint8Array | null, key: Uint32Array, _pid: number): void {
    this.dp.userspace(inPort, buf, off, len, cookie, key);
  }
}

function defaultRandom(): number {
  return (Math.random() * 0x100000000) >>> 0;
}

