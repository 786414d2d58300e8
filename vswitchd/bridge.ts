// Reconfiguration (OVS bridge.c): after each commit, make the running bridges
// match the config DB — one OpenFlow bridge (Datapath + Ofproto + ConnMgr, with
// its <rundir>/<bridge>.mgmt socket, fail_mode and controllers) per Bridge, one
// port per Interface (system, tap, internal, guest, patch, stream, dgram; the
// internal Interface named after the bridge is its OpenFlow LOCAL port), with
// the VLAN config of its Port row — then write back what actually happened
// (ofport, mac_in_use, mtu, link/admin state, error) and bump cur_cfg to the
// next_cfg that was applied, so clients waiting for it can go on. Building a
// port from its rows lives in ifaces.ts.

import { existsSync } from 'node:fs';
import { Datapath } from '../datapath/dpif.js';
import { formatMac } from '../datapath/packet/addr.js';
import { createPort } from '../datapath/ports/factory.js';
import { GuestPort } from '../datapath/ports/guest.js';
import { PatchPort } from '../datapath/ports/patch.js';
import type { Port } from '../datapath/ports/port.js';
import type { Database, VswitchRow } from './db/database.js';
import { OpenFlowBridge } from '../ofproto/bridge.js';
import type { ControllerConfig } from '../ofproto/connmgr/connmgr.js';
import type { PortVlanConfig } from '../ofproto/normal/port-vlan.js';
import { OFPP } from '../ofproto/openflow/constants.js';
import {
  controllerConfigOf, interfaceError, isMissingDevice, makeInterfacePort, optionsOf, portVlanOf, sameVlan,
  type DevicePortFactory, type Iface,
} from './ifaces.js';
import type { ModuleLog } from './vlog.js';

interface RunningPort {
  readonly ifaceUuid: string;
  readonly port: Port;
  /** OpenFlow port number (OFPP.LOCAL for the bridge's own internal port). */
  readonly ofPort: number;
  /** Config the port was built from; a change rebuilds it. */
  readonly signature: string;
  readonly ofportRequest: number | null;
  vlan: PortVlanConfig;
}

export interface BridgesOptions {
  /** Interface.statistics period (ms; default 5000). */
  statsIntervalMs?: number;
  /** Where each bridge's <name>.mgmt OpenFlow socket lives (default "."). */
  rundir?: string;
  /** Builds system/tap/internal ports (default: real devices, datapath/ports/factory.ts). */
  devicePorts?: DevicePortFactory;
  /** false: internal interfaces get no Linux device (a port that drops what it is sent). Default true. */
  internalDevices?: boolean;
  /** Does a network device exist (to retry missing system devices)? Default: /sys/class/net/NAME. */
  deviceExists?: (name: string) => boolean;
}

interface RunningBridge {
  readonly name: string;
  readonly dp: Datapath;
  readonly of: OpenFlowBridge;
  /** Controller targets applied last (JSON), to reconnect only on change. */
  controllers: string;
  /** By interface name. */
  readonly ports: Map<string, RunningPort>;
}

export interface BridgeCounters {
  reconfigurations: number;
  reconfigureErrors: number;
  statsUpdates: number;
}

export class Bridges {
  private readonly bridges = new Map<string, RunningBridge>();
  /** Interface uuid -> error text (null when fine), for write-back. */
  private readonly errors = new Map<string, string | null>();
  /** Interface uuid -> the last error logged for it. */
  private readonly warned = new Map<string, string>();
  /** Names of system devices that were missing at the last reconfiguration (retried when they appear). */
  private missing = new Set<string>();
  private readonly statsIntervalMs: number;
  private readonly rundir: string;
  private readonly devicePorts: DevicePortFactory;
  private readonly deviceExists: (name: string) => boolean;
  private readonly internalDevices: boolean;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private statsTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  readonly counters: BridgeCounters = { reconfigurations: 0, reconfigureErrors: 0, statsUpdates: 0 };

  constructor(
    private readonly db: Database,
    private readonly log: ModuleLog,
    o: BridgesOptions = {},
  ) {
    this.statsIntervalMs = o.statsIntervalMs ?? 5000;
    this.rundir = o.rundir ?? '.';
    this.devicePorts = o.devicePorts ?? createPort;
    this.deviceExists = o.deviceExists ?? ((name) => existsSync(`/sys/class/net/${name}`));
    this.internalDevices = o.internalDevices ?? true;
  }

  /** Applies the current DB, then follows every commit; statistics every statsIntervalMs. */
  async start(): Promise<void> {
    this.unsubscribe = this.db.onCommit(() => this.schedule());
    this.statsTimer = setInterval(() => {
      this.refreshLinks();
      this.updateStats();
      this.retryMissingDevices();
    }, this.statsIntervalMs);
    this.statsTimer.unref();
    this.schedule();
    await this.idle();
  }

  /** Stops every bridge and port; TAP devices the daemon created (tap, internal) go away with them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.statsTimer) clearInterval(this.statsTimer);
    await this.idle();
    for (const b of this.bridges.values()) {
      try {
        await b.of.stop();
      } catch (e) {
        this.log.warn(`bridge ${b.name}: stop failed: ${(e as Error).message}`);
      }
    }
    this.bridges.clear();
  }

  /** A system device that was missing exists now: reconfigure (OVS notices through netlink). */
  retryMissingDevices(): void {
    if (this.stopped || this.missing.size === 0) return;
    for (const name of this.missing) {
      if (this.deviceExists(name)) {
        this.log.info(`network device ${name} appeared: reconfiguring`);
        this.schedule();
        return;
      }
    }
  }

  /** Resolves when no reconfiguration is pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  list(): RunningBridge[] {
    return [...this.bridges.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  guest(name: string): GuestPort | undefined {
    for (const b of this.bridges.values()) {
      const p = b.ports.get(name)?.port;
      if (p instanceof GuestPort) return p;
    }
    return undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.reconfigure();
        } catch (e) {
          this.counters.reconfigureErrors++;
          this.log.err(`reconfiguration failed: ${(e as Error).stack ?? String(e)}`);
        }
      } while (this.again && !this.stopped);
      this.running = null;
    })();
  }

  private async reconfigure(): Promise<void> {
    const db = this.db;
    const ovs = db.list('Open_vSwitch')[0];
    if (!ovs) return;
    const nextCfg = ovs.next_cfg as number;
    this.counters.reconfigurations++;
    const want = new Map<string, { br: VswitchRow<'Bridge'>; ifaces: WantedIface[] }>();
    for (const bu of ovs.bridges as readonly string[]) {
      const br = db.get('Bridge', bu);
      if (!br) continue;
      const ifaces: WantedIface[] = [];
      for (const pu of br.ports as readonly string[]) {
        const port = db.get('Port', pu);
        if (!port) continue;
        const v = portVlanOf(port);
        for (const iu of (port.interfaces ?? []) as readonly string[]) {
          const i = db.get('Interface', iu);
          if (i) ifaces.push({ i, vlan: v.vlan, vlanWarning: v.warning, vlanError: v.error });
        }
      }
      // Name order, so port numbers do not depend on uuids.
      ifaces.sort((a, b) => ((a.i.name as string) < (b.i.name as string) ? -1 : (a.i.name as string) > (b.i.name as string) ? 1 : 0));
      want.set(br.name as string, { br, ifaces });
    }
    // Bridges that went away (with their ports and the devices tsvs created for them).
    for (const [name, b] of this.bridges) {
      if (!want.has(name)) {
        this.bridges.delete(name);
        await b.of.stop();
        this.log.info(`bridge ${name}: deleted`);
      }
    }
    const hwOffload = (ovs.other_config as unknown as Map<string, string> | undefined)?.get('hw-offload') === 'true';
    this.errors.clear();
    this.missing = new Set();
    const patches = new Map<string, PatchPort>();
    for (const [name, { br, ifaces }] of want) {
      let b = this.bridges.get(name);
      const failMode = br.fail_mode === 'secure' ? 'secure' : 'standalone';
      const targets: ControllerConfig[] = [];
      const warnings: string[] = [];
      for (const cu of (br.controller ?? []) as readonly string[]) {
        const c = this.db.get('Controller', cu);
        if (!c) continue;
        const cc = controllerConfigOf(c);
        targets.push(cc.config);
        if (cc.warning) warnings.push(cc.warning);
      }
      const controllers = JSON.stringify(targets);
      if (b?.controllers !== controllers) for (const w of warnings) this.log.warn(`bridge ${name}: ${w}`);
      if (!b) {
        const of = new OpenFlowBridge({ name, rundir: this.rundir, failMode });
        await of.start();
        b = { name, dp: of.datapath, of, controllers: '[]', ports: new Map() };
        this.bridges.set(name, b);
        this.log.info(`bridge ${name}: added (fail_mode ${failMode}, management socket ${of.mgmtPath})`);
      }
      if (b.of.ofproto.failMode !== failMode) b.of.setFailMode(failMode);
      if (hwOffload !== (b.dp.offload !== null)) {
        // Open_vSwitch other_config:hw-offload (OVS needs a restart; tsvs applies it at once).
        await b.dp.setOffload(hwOffload ? { warn: (m) => this.log.warn(m) } : null);
        this.log.info(`bridge ${name}: hw-offload (tc) ${hwOffload ? 'enabled' : 'disabled'}`);
      }
      if (b.controllers !== controllers) {
        try {
          await b.of.setControllers(targets);
          b.controllers = controllers;
          this.log.info(`bridge ${name}: controllers ${targets.map((t) => t.target).join(' ') || '(none)'}`);
        } catch (e) {
          this.log.warn(`bridge ${name}: bad controller target: ${(e as Error).message}`);
        }
      }
      const wanted = new Map(ifaces.map((w) => [w.i.name as string, w.i]));
      for (const [iname, rp] of b.ports) {
        const i = wanted.get(iname);
        if (!i || i._uuid !== rp.ifaceUuid || signatureOf(i) !== rp.signature || ofportRequestOf(i, name) !== rp.ofportRequest) {
          b.ports.delete(iname);
          await b.of.removePort(iname);
          this.log.info(`bridge ${name}: deleted interface ${iname} on port ${formatOfPort(rp.ofPort)}`);
        }
      }
      const requested = new Set(ifaces.map((w) => ofportRequestOf(w.i, name)).filter((n): n is number => n !== null));
      for (const { i, vlan, vlanWarning, vlanError } of ifaces) {
        const iname = i.name as string;
        if (vlanError !== undefined) {
          this.errors.set(i._uuid, vlanError);
          if (b.ports.has(iname)) {
            b.ports.delete(iname);
            await b.of.removePort(iname);
          }
          continue;
        }
        let rp = b.ports.get(iname);
        if (!rp) {
          try {
            const port = makeInterfacePort(i, this.devicePorts, this.internalDevices);
            const req = ofportRequestOf(i, name);
            const ofPort = await b.of.addPort(port, { ofPort: req ?? freeOfPort(b, requested), vlan });
            rp = { ifaceUuid: i._uuid, port, ofPort, signature: signatureOf(i), ofportRequest: req, vlan };
            b.ports.set(iname, rp);
            if (vlanWarning) this.log.warn(`bridge ${name}: ${vlanWarning}`);
            this.log.info(`bridge ${name}: added interface ${iname} on port ${formatOfPort(ofPort)}`);
          } catch (e) {
            const text = interfaceError(i, e);
            this.errors.set(i._uuid, text);
            if (isMissingDevice(e)) this.missing.add(iname);
            // Once per distinct error, not at every reconfiguration.
            if (this.warned.get(i._uuid) !== text) this.log.warn(`bridge ${name}: could not add interface ${iname}: ${text}`);
            this.warned.set(i._uuid, text);
            continue;
          }
        } else if (!sameVlan(rp.vlan, vlan)) {
          b.of.ofproto.setPortConfig(rp.ofPort, { vlan });
          rp.vlan = vlan;
          if (vlanWarning) this.log.warn(`bridge ${name}: ${vlanWarning}`);
          this.log.info(`bridge ${name}: port ${iname}: VLAN config ${JSON.stringify(vlan)}`);
        }
        this.errors.set(i._uuid, null);
        this.warned.delete(i._uuid);
        if (rp.port instanceof PatchPort) patches.set(iname, rp.port);
      }
    }
    for (const u of this.warned.keys()) if (!this.errors.has(u)) this.warned.delete(u);
    // Patch pairs: both ends must exist and name each other.
    for (const [name, p] of patches) {
      const i = this.ifaceByName(name);
      const peerName = i ? optionsOf(i).get('peer') : undefined;
      const peer = peerName !== undefined ? patches.get(peerName) : undefined;
      const peerIface = peerName !== undefined ? this.ifaceByName(peerName) : undefined;
      if (peer && peerIface && optionsOf(peerIface).get('peer') === name) {
        if (p.peer !== peer) PatchPort.pair(p, peer);
      } else {
        p.peer = null;
        if (i) this.errors.set(i._uuid, peerName === undefined ? 'patch interface needs options:peer' : `peer ${peerName} does not exist or does not name ${name} as its peer`);
      }
    }
    this.writeBack(nextCfg);
  }

  private ifaceByName(name: string): Iface | undefined {
    return this.db.find('Interface', [['name', '==', name]])[0];
  }

  /** One transaction with everything that differs from what the DB says, plus cur_cfg. */
  private writeBack(nextCfg: number): void {
    const ops: Parameters<Database['transact']>[0][number][] = [];
    const running = new Map<string, RunningPort>();
    for (const b of this.bridges.values()) for (const rp of b.ports.values()) running.set(rp.ifaceUuid, rp);
    for (const i of this.db.list('Interface')) {
      const rp = running.get(i._uuid);
      const p = rp?.port;
      const err = this.errors.get(i._uuid) ?? null;
      const row = {
        ofport: rp ? ofportColumn(rp.ofPort) : this.errors.has(i._uuid) ? -1 : null,
        mac_in_use: p ? formatMac(p.mac) : null,
        link_state: p ? (p.carrier ? 'up' : 'down') : null,
        admin_state: p ? 'up' : null,
        mtu: p && p.mtu > 0 ? p.mtu : null,
        error: err,
        ...(p ? {} : { statistics: new Map() }),
      };
      const changed = Object.entries(row).some(([k, v]) => !sameDatum((i as unknown as Record<string, unknown>)[k], v));
      if (changed) ops.push({ op: 'update', table: 'Interface', where: [['_uuid', '==', i._uuid]], row });
    }
    const ovs = this.db.list('Open_vSwitch')[0];
    if (ovs && ovs.cur_cfg !== nextCfg) ops.push({ op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: nextCfg } });
    if (ops.length > 0) this.db.transact(ops);
  }

  /** Lets each port pick up MTU/MAC changes made outside the switch (e.g. `ip link set ... mtu`). */
  refreshLinks(): void {
    if (this.stopped) return;
    for (const b of this.bridges.values())
      for (const rp of b.ports.values()) {
        try {
          rp.port.refreshLink?.();
        } catch (e) {
          this.log.warn(`${rp.port.name}: link refresh failed: ${(e as Error).message}`);
        }
      }
  }

  /** Copies port counters into Interface.statistics (also on demand: bridge/refresh-stats). */
  updateStats(): void {
    if (this.stopped) return;
    const ops: Parameters<Database['transact']>[0][number][] = [];
    for (const b of this.bridges.values()) {
      for (const rp of b.ports.values()) {
        const s = rp.port.stats;
        const stats = new Map<string, number>([
          ['collisions', 0], ['rx_bytes', s.rxBytes], ['rx_dropped', s.rxDropped], ['rx_errors', s.rxErrors],
          ['rx_packets', s.rxPackets], ['tx_bytes', s.txBytes], ['tx_dropped', s.txDropped], ['tx_errors', s.txErrors], ['tx_packets', s.txPackets],
        ]);
        const i = this.db.get('Interface', rp.ifaceUuid);
        const link = rp.port.carrier ? 'up' : 'down';
        const mtu = rp.port.mtu > 0 ? rp.port.mtu : null;
        if (i && (!sameDatum(i.statistics, stats) || i.link_state !== link || !sameDatum(i.mtu, mtu))) {
          ops.push({ op: 'update', table: 'Interface', where: [['_uuid', '==', rp.ifaceUuid]], row: { statistics: stats, link_state: link, mtu } });
        }
      }
    }
    this.counters.statsUpdates++;
    try {
      if (ops.length > 0) this.db.transact(ops);
    } catch (e) {
      this.log.warn(`statistics update failed: ${(e as Error).message}`);
    }
  }

  // --- appctl text ------------------------------------------------------------

  dpctlShow(): string {
    const out: string[] = [];
    for (const b of this.list()) {
      const s = b.dp.stats;
      out.push(`tsvs@${b.name}:`);
      out.push(`  lookups: hit:${s.emcHits + s.megaflowHits} missed:${s.misses} lost:${s.lostUpcalls}`);
      out.push(`  flows: ${s.flows}`);
      out.push(`  masks: total:${s.masks}`);
      const o = b.dp.offloadStats;
      if (o !== null) {
        const refused = Object.entries(o.refused).map(([why, n]) => `${why}:${n}`).join(', ');
        out.push(`  hw-offload (tc): offloaded:${o.offloaded} pending:${o.pending} installs:${o.installs} failures:${o.installFailures} removals:${o.removals}${o.disabled !== null ? ` disabled:${o.disabled}` : ''}`);
        if (refused) out.push(`  hw-offload not offloaded: ${refused}`);
      }
      for (const p of b.dp.ports()) out.push(`  port ${p.portNo}: ${p.name} (${p.type})`);
    }
    return out.join('\n') + (out.length ? '\n' : '');
  }

  dumpFlows(bridge?: string): string {
    const bs = bridge === undefined ? this.list() : this.list().filter((b) => b.name === bridge);
    if (bridge !== undefined && bs.length === 0) throw new Error(`no bridge named ${bridge}`);
    const out: string[] = [];
    for (const b of bs) out.push(...b.dp.dumpFlowsText());
    return out.join('\n') + (out.length ? '\n' : '');
  }

  fdbShow(bridge: string): string {
    const b = this.bridges.get(bridge);
    if (!b) throw new Error(`no bridge named ${bridge}`);
    return b.of.ofproto.fdbShow() + '\n';
  }
}

interface WantedIface {
  i: Iface;
  vlan: PortVlanConfig;
  vlanWarning: string | undefined;
  vlanError: string | undefined;
}

/** ofport_request, or LOCAL for the internal Interface named after its bridge (as OVS). */
function ofportRequestOf(i: Iface, bridge: string): number | null {
  const r = i.ofport_request as number | null;
  if (typeof r === 'number') return r;
  return i.name === bridge && i.type === 'internal' ? OFPP.LOCAL : null;
}

/** The lowest OpenFlow port number neither in use nor asked for by an ofport_request (as OVS numbers ports). */
function freeOfPort(b: RunningBridge, requested: ReadonlySet<number>): number {
  const used = new Set(b.of.ofproto.ports().map((p) => p.ofPort));
  let n = 1;
  while (used.has(n) || requested.has(n)) n++;
  return n;
}

/** Interface.ofport as OVS writes it: LOCAL is 65534 (its OpenFlow 1.0 number). */
function ofportColumn(ofPort: number): number {
  return ofPort === OFPP.LOCAL ? 0xfffe : ofPort;
}

function formatOfPort(ofPort: number): string {
  return ofPort === OFPP.LOCAL ? 'LOCAL' : String(ofPort);
}

function signatureOf(i: Iface): string {
  return JSON.stringify([i.type, [...optionsOf(i)]]);
}

function sameDatum(a: unknown, b: unknown): boolean {
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map) || !(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (b.get(k) !== v) return false;
    return true;
  }
  if (Array.isArray(a) && a.length === 0 && b === null) return true;
  return a === b;
}
