// The kernel fast path for cached flows between kernel netdev ports (OVS's
// netdev-offload-tc, `other_config:hw-offload=true`). Off by default.
//
// Design. A megaflow whose in_port and outputs are all `system` ports (an
// existing Linux interface behind an AF_PACKET socket) and whose actions are
// only outputs is also installed in the kernel, as a tc cls_bpf filter on the
// ingress hook (clsact) of the input device: a classic BPF program
// (flow-match.ts) that accepts exactly a subset of the megaflow's frames, and
// mirred actions that redirect them to the output device(s). A frame QEMU
// writes into its TAP is then forwarded to the other TAP inside the same
// write(): no user-space wake-up. This kernel has no cls_flower (OVS's
// choice), hence classic BPF; misses still reach user space as before.
//
// AF_PACKET taps run before tc ingress, so the input port's packet socket
// would still see (and user space forward again) every offloaded frame. The
// port's socket therefore gets a classic socket filter (SO_ATTACH_FILTER)
// that drops what the port's offloaded flows match: the same fragments, OR-ed.
// Order: tc filter first, then the socket filter; on removal, socket filter
// first, then the tc filter. The windows allow a rare duplicate, never a loss.
//
// Offloaded frames no longer count in user space, so the per-filter tc
// counters are read every statsIntervalMs and credited to the megaflow
// (packets, bytes, used): OpenFlow rule stats, MAC learning refresh and
// idle expiry stay right. TCP flags of offloaded frames are not seen.
//
// tc runs through TcRunner (one command at a time, bounded queue, rate
// limited). Any failure leaves the flow in user space; a missing tc binary or
// missing cls_bpf/clsact disables the offload with one warning. `tap` and
// `internal` ports (whose fd tsvs itself holds) are offloaded as inputs
// only: the filter sits on the device's egress hook (what the host sends
// into the TAP) and needs no socket filter (a stolen frame never reaches the
// fd). As outputs they are not (see KernelPort.out).

import type { DpFlow } from '../dpif.js';
import type { Port } from '../ports/port.js';
import { BPF_MAXINSNS, toSockFilterBytes, toTcBytecode, type CbpfInsn } from './cbpf.js';
import { compileMatch, dropProgram, matchProgram } from './flow-match.js';
import {
  TC_PRIO_DEFAULT,
  type TcHook,
  type TcOutput,
  parseTcFilterStats,
  tcFilterAddArgs,
  tcFilterDelArgs,
  tcFilterFlushArgs,
  tcQdiscAddArgs,
  tcQdiscDelArgs,
  tcStatsArgs,
} from './tc-command.js';
import { TcRunner, type TcResult } from './tc-runner.js';

/**
 * A port the offload can use: a kernel netdev tsvs reaches through an fd
 * (NativeIoPort): `system` (AF_PACKET; its receive socket takes a socket
 * filter) or `tap`/`internal` (a TAP whose fd tsvs holds).
 */
export interface OffloadablePort extends Port {
  /** Attach (prog) or detach (null) the receive socket's classic BPF filter. Throws when it cannot. */
  setSocketFilter(prog: Uint8Array | null): void;
}

/** How the kernel reaches a port: the hook its received frames pass, and the mirred direction that outputs to it. */
interface KernelPort {
  port: OffloadablePort;
  /** Frames tsvs would receive from the port pass this clsact hook. */
  hook: TcHook;
  /**
   * mirred direction equivalent to tsvs's output to the port, or null: a TAP
   * port's "output" is its host stack receiving the frame (mirred ingress),
   * but a redirected frame keeps the pkt_type the input device gave it
   * (PACKET_OTHERHOST for switched unicast) and the stack drops it; without
   * act_skbedit that cannot be fixed, so tsvs keeps those flows.
   */
  out: TcHook | null;
  /** AF_PACKET port: gets the socket filter that keeps offloaded frames out of user space. */
  packet: boolean;
}

export interface FlowOffloadOptions {
  /** tc command runner (default: a TcRunner running /usr/sbin/tc via PATH). */
  tc?: TcRunner;
  /** Filter priority on the ingress hook (default TC_PRIO_DEFAULT). */
  prio?: number;
  /** How often tc's counters are credited to offloaded megaflows (default 1000 ms; 0 = only on pollStats()). */
  statsIntervalMs?: number;
  /** Warnings (one per distinct problem). Default: process.emitWarning. */
  warn?: (msg: string) => void;
}

/** What the datapath lends the offload. */
export interface OffloadHost {
  readonly name: string;
  port(no: number): Port | undefined;
  clock(): number;
}

export interface FlowOffloadStats {
  /** Megaflows in the kernel now. */
  offloaded: number;
  /** Megaflows waiting for (or in) a tc command. */
  pending: number;
  /** Megaflows installed in the kernel since start, and those tc refused. */
  installs: number;
  installFailures: number;
  removals: number;
  /** Megaflows not offloadable, by reason. */
  refused: Record<string, number>;
  /** Set when the offload gave up for this run (tc or cls_bpf missing). */
  disabled: string | null;
  tcRuns: number;
  tcFailures: number;
}

type State = 'queued' | 'adding' | 'installed' | 'removing' | 'done';

class Entry {
  state: State = 'queued';
  /** Removed from the datapath (or unoffloaded) while a tc command was in flight. */
  cancelled = false;
  /** tc counters last credited. */
  tcPackets = 0;
  tcBytes = 0;
  constructor(
    readonly flow: DpFlow,
    readonly inPort: number,
    readonly dev: string,
    readonly outPorts: number[],
    readonly outs: TcOutput[],
    readonly frag: CbpfInsn[],
    readonly handle: number,
  ) {}
}

class DevState {
  /** clsact added by us (deleted again when the last filter goes). */
  addedQdisc = false;
  /** The hook the port's received frames pass (ingress: AF_PACKET port; egress: TAP port). */
  readonly hook: TcHook;
  /** AF_PACKET port: keep its socket filter in step. */
  readonly packet: boolean;
  ready: Promise<boolean> | null = null;
  /** Installed entries whose in_port is this device, in install order. */
  readonly installed = new Set<Entry>();
  nextHandle = 1;
  constructor(
    readonly portNo: number,
    kp: KernelPort,
  ) {
    this.hook = kp.hook;
    this.packet = kp.packet;
  }

  /** Instructions the socket filter of the installed entries takes (dropProgram: a drop return each, a pass return). */
  get filterInsns(): number {
    let n = 1;
    for (const e of this.installed) n += e.frag.length + 1;
    return n;
  }
}

function kernelPort(p: Port | undefined): KernelPort | null {
  if (p === undefined || typeof (p as Partial<OffloadablePort>).setSocketFilter !== 'function') return null;
  const port = p as OffloadablePort;
  // A system port reads what its device receives (ingress) and transmits on it (egress). A TAP port
  // reads what the host sends into the TAP (the device's egress) and writes what the host receives.
  if (p.type === 'system') return { port, hook: 'ingress', out: 'egress', packet: true };
  if (p.type === 'tap' || p.type === 'internal') return { port, hook: 'egress', out: null, packet: false };
  return null;
}

function isOffloadable(p: Port | undefined): p is OffloadablePort {
  return kernelPort(p) !== null;
}

const FATAL = /Unknown filter|filter kind .*does not exist|Unknown qdisc|qdisc kind is unknown|Unknown action|action .*does not exist|Operation not permitted|Operation not supported/i;

export class FlowOffload {
  private readonly tc: TcRunner;
  private readonly prio: number;
  private readonly warn: (msg: string) => void;
  private readonly entries = new Map<DpFlow, Entry>();
  private readonly devs = new Map<string, DevState>();
  private readonly warned = new Set<string>();
  private readonly refused = new Map<string, number>();
  private readonly counters = { installs: 0, installFailures: 0, removals: 0 };
  private disabled: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private stopped = false;
  /** Outstanding tc work, for stop() and tests (settled()). */
  private inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly host: OffloadHost,
    opts: FlowOffloadOptions = {},
  ) {
    this.tc = opts.tc ?? new TcRunner();
    this.prio = opts.prio ?? TC_PRIO_DEFAULT;
    this.warn = opts.warn ?? ((m) => process.emitWarning(m, 'TsvsOffloadWarning'));
    const every = opts.statsIntervalMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => {
        if (this.entries.size > 0) void this.pollStats();
      }, every);
      this.timer.unref();
    }
  }

  /** True when `flow` is in the kernel (dpctl/dump-flows: offloaded:yes). */
  isOffloaded(flow: DpFlow): boolean {
    return this.entries.get(flow)?.state === 'installed';
  }

  get stats(): FlowOffloadStats {
    let offloaded = 0;
    let pending = 0;
    for (const e of this.entries.values()) {
      if (e.state === 'installed') offloaded++;
      else pending++;
    }
    return {
      offloaded,
      pending,
      ...this.counters,
      refused: Object.fromEntries(this.refused),
      disabled: this.disabled,
      tcRuns: this.tc.runs,
      tcFailures: this.tc.failures,
    };
  }

  /** A megaflow was installed: offload it if it qualifies (asynchronously). */
  flowAdded(flow: DpFlow): void {
    if (this.stopped || this.disabled !== null || this.entries.has(flow)) return;
    const why = this.plan(flow);
    if (typeof why === 'string') {
      this.refused.set(why, (this.refused.get(why) ?? 0) + 1);
      return;
    }
    this.entries.set(flow, why);
    this.track(this.install(why));
  }

  /** A megaflow's actions changed: the kernel copy is replaced (removed, then re-added if it still qualifies). */
  flowChanged(flow: DpFlow): void {
    this.flowRemoved(flow);
    this.flowAdded(flow);
  }

  /** A megaflow left the datapath (or must leave the kernel): its frames go back to user space. */
  flowRemoved(flow: DpFlow): void {
    const e = this.entries.get(flow);
    if (e === undefined) return;
    this.entries.delete(flow);
    this.unoffload(e);
  }

  /**
   * A port joined (or the offload was turned on): a `system` port's device gets
   * its clsact qdisc now, and filters a crashed run left at our priority go.
   */
  portAdded(portNo: number): void {
    if (this.stopped || this.disabled !== null) return;
    const kp = kernelPort(this.host.port(portNo));
    if (kp === null) return;
    this.track(this.ensureDev(kp.port.name, this.dev(portNo, kp)));
  }

  /** A port is leaving: every flow into or out of it leaves the kernel, and the device's filters go. */
  async portRemoved(portNo: number): Promise<void> {
    for (const e of [...this.entries.values()]) {
      if (e.inPort === portNo || e.outPorts.includes(portNo)) this.flowRemoved(e.flow);
    }
    await this.settled();
    for (const [dev, d] of this.devs) {
      if (d.portNo !== portNo) continue;
      this.devs.delete(dev);
      await this.cleanDev(dev, d);
    }
  }

  /** Remove every filter, socket filter and qdisc this offload put in place. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const e of [...this.entries.values()]) this.flowRemoved(e.flow);
    this.stopped = true;
    await this.settled();
    for (const [dev, d] of this.devs) await this.cleanDev(dev, d);
    this.devs.clear();
    this.tc.close();
  }

  /** Resolves when every tc command started so far has finished. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Credit tc's per-filter counters to the offloaded megaflows. */
  async pollStats(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [dev, d] of this.devs) {
        if (d.installed.size === 0) continue;
        const r = await this.tc.query(tcStatsArgs(dev, d.hook));
        if (!r.ok) continue;
        let stats;
        try {
          stats = parseTcFilterStats(r.stdout, this.prio, d.hook);
        } catch {
          this.warnOnce('stats', `${this.host.name}: cannot parse tc filter statistics of ${dev}`);
          continue;
        }
        const now = this.host.clock();
        for (const e of d.installed) {
          const s = stats.get(e.handle);
          if (s === undefined) continue;
          const dp = s.packets - e.tcPackets;
          const db = s.bytes - e.tcBytes;
          if (dp <= 0) continue;
          e.tcPackets = s.packets;
          e.tcBytes = s.bytes;
          const f = e.flow;
          f.packets += dp;
          f.bytes += db > 0 ? db : 0;
          f.usedMs = now;
        }
      }
    } finally {
      this.polling = false;
    }
  }

  // --- internals ---------------------------------------------------------------

  /** An Entry for an offloadable flow, or why it is not. */
  private plan(flow: DpFlow): Entry | string {
    const inPort = flow.key[0];
    const inp = kernelPort(this.host.port(inPort));
    if (inp === null) return 'in_port is not a kernel device port';
    const actions = flow.actions.source;
    if (actions.length === 0) return 'drop';
    const outPorts: number[] = [];
    const outs: TcOutput[] = [];
    for (const a of actions) {
      if (a.type !== 'output') return `action ${a.type}`;
      const kp = kernelPort(this.host.port(a.port));
      if (kp === null) return 'output to a port that is not a kernel device';
      if (kp.out === null) return 'output to a tap/internal port';
      outPorts.push(a.port);
      outs.push({ dev: kp.port.name, dir: kp.out });
    }
    const m = compileMatch(flow.key, flow.mask);
    if (!m.ok) return m.reason;
    const name = inp.port.name;
    const d = this.dev(inPort, inp);
    if (d.filterInsns + m.insns.length + 1 > BPF_MAXINSNS) return 'socket filter full';
    const handle = d.nextHandle;
    d.nextHandle = d.nextHandle >= 0xfffff ? 1 : d.nextHandle + 1;
    return new Entry(flow, inPort, name, outPorts, outs, m.insns, handle);
  }

  /** The device state of a kernel port (created on first use). */
  private dev(portNo: number, kp: KernelPort): DevState {
    const name = kp.port.name;
    let d = this.devs.get(name);
    if (d === undefined) {
      d = new DevState(portNo, kp);
      this.devs.set(name, d);
    }
    return d;
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async install(e: Entry): Promise<void> {
    const d = this.devs.get(e.dev);
    if (d === undefined || !(await this.ensureDev(e.dev, d)) || e.cancelled) {
      this.forget(e);
      return;
    }
    e.state = 'adding';
    const r = await this.tc.run(tcFilterAddArgs(e.dev, d.hook, this.prio, e.handle, toTcBytecode(matchProgram(e.frag)), e.outs));
    if (!r.ok) {
      this.counters.installFailures++;
      this.failed(r, `tc filter add on ${e.dev}`);
      // The device went away and came back (a VM restarted) without its qdisc: set it up again next time.
      if (/qdisc|Cannot find device|No such device/i.test(r.error) && this.devs.get(e.dev) === d) {
        d.ready = null;
        d.addedQdisc = false;
      }
      this.forget(e);
      return;
    }
    if (e.cancelled || this.devs.get(e.dev) !== d) {
      await this.undoAdd(e, d);
      return;
    }
    d.installed.add(e);
    if (!this.applySocketFilter(d)) {
      // Without the socket filter user space would forward every frame a second time.
      d.installed.delete(e);
      if (this.entries.get(e.flow) === e) this.entries.delete(e.flow);
      await this.undoAdd(e, d);
      return;
    }
    e.state = 'installed';
    this.counters.installs++;
  }

  /** An entry that never reached the kernel: done, and no longer the flow's entry. */
  private forget(e: Entry): void {
    e.state = 'done';
    if (this.entries.get(e.flow) === e) this.entries.delete(e.flow);
  }

  /** Take back the tc filter install() added for an entry that must not stay. */
  private async undoAdd(e: Entry, d: DevState): Promise<void> {
    e.state = 'removing';
    await this.tc.run(tcFilterDelArgs(e.dev, d.hook, this.prio, e.handle));
    e.state = 'done';
  }

  private unoffload(e: Entry): void {
    if (e.state === 'queued' || e.state === 'adding') {
      e.cancelled = true; // install() sees it and undoes what it did
      return;
    }
    if (e.state !== 'installed') return;
    const d = this.devs.get(e.dev);
    if (d !== undefined && d.installed.delete(e)) {
      this.applySocketFilter(d); // first: frames go back to user space before the kernel stops forwarding them
    }
    e.state = 'removing';
    this.counters.removals++;
    const hook = d !== undefined ? d.hook : 'ingress';
    this.track(
      this.tc.run(tcFilterDelArgs(e.dev, hook, this.prio, e.handle)).then(() => {
        e.state = 'done';
      }),
    );
  }

  /** The input port's socket filter for its installed entries; false when it cannot be set. */
  private applySocketFilter(d: DevState): boolean {
    if (!d.packet) return true; // a TAP port's frames redirected at egress never reach its fd
    const p = this.host.port(d.portNo);
    if (!isOffloadable(p)) return false;
    const frags = [...d.installed].map((e) => e.frag);
    try {
      p.setSocketFilter(frags.length === 0 ? null : toSockFilterBytes(dropProgram(frags)));
      return true;
    } catch (err) {
      this.warnOnce('sockfilter', `${this.host.name}: cannot set the socket filter of ${p.name} (${String(err)}); flows from it stay in user space`);
      return false;
    }
  }

  /** clsact on the device and no stale tsvs filters (a crashed run's) on it. */
  private ensureDev(dev: string, d: DevState): Promise<boolean> {
    d.ready ??= (async () => {
      if (this.disabled !== null) return false;
      const q = await this.tc.run(tcQdiscAddArgs(dev));
      if (q.ok) d.addedQdisc = true;
      else if (!/exists|Exclusivity/i.test(q.error)) {
        this.failed(q, `tc qdisc add clsact on ${dev}`);
        d.ready = null; // try again for the next flow (the device may appear later)
        return false;
      } else {
        await this.tc.run(tcFilterFlushArgs(dev, d.hook, this.prio));
      }
      return true;
    })();
    return d.ready;
  }

  private async cleanDev(dev: string, d: DevState): Promise<void> {
    const p = this.host.port(d.portNo);
    if (d.installed.size > 0 && d.packet && isOffloadable(p)) {
      d.installed.clear();
      try {
        p.setSocketFilter(null);
      } catch {
        // port already closed
      }
    }
    if (d.ready === null || !(await d.ready)) return;
    if (d.addedQdisc) await this.tc.run(tcQdiscDelArgs(dev));
    else await this.tc.run(tcFilterFlushArgs(dev, d.hook, this.prio));
  }

  private failed(r: TcResult, what: string): void {
    if (r.missing) {
      this.disabled = 'tc not found';
      this.warnOnce('missing', `${this.host.name}: hw-offload: tc (iproute2) is not installed; flows stay in user space`);
    } else if (FATAL.test(r.error)) {
      this.disabled = r.error;
      this.warnOnce('fatal', `${this.host.name}: hw-offload: ${what} failed (${r.error}); needs clsact, cls_bpf and act_mirred; flows stay in user space`);
    } else {
      this.warnOnce(`err:${r.error}`, `${this.host.name}: hw-offload: ${what} failed (${r.error}); the flow stays in user space`);
    }
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(msg);
  }
}
