// Reconfiguration (OVS bridge.c): after each commit, make the running bridges
// match the config DB — one OpenFlow bridge (Datapath + Ofproto + ConnMgr, with
// its <rundir>/<bridge>.mgmt socket, fail_mode and controllers) per Bridge, one
// port per Interface of a supported type (guest, patch) — then write back what
// actually happened (ofport, mac_in_use, link/admin state, error) and bump
// cur_cfg to the next_cfg that was applied, so clients waiting for it can go on.

import { Datapath } from '../datapath/dpif.js';
import { formatMac } from '../datapath/packet/addr.js';
import { GuestPort } from '../datapath/ports/guest.js';
import { DgramPort } from '../datapath/ports/dgram.js';
import { PatchPort } from '../datapath/ports/patch.js';
import { StreamPort } from '../datapath/ports/stream.js';
import type { Port } from '../datapath/ports/port.js';
import type { Database, VswitchRow } from './db/database.js';
import { OpenFlowBridge } from '../ofproto/bridge.js';
import type { ModuleLog } from './vlog.js';

/** Interface types the daemon creates. system/tap/internal exist as datapath ports (datapath/ports/factory.ts) but are not created by the daemon yet. */
const SUPPORTED_TYPES = new Set(['guest', 'patch', 'stream', 'dgram']);
const SUPPORTED_TEXT = 'tsvs-vswitchd creates guest, patch, stream and dgram interfaces';

interface RunningPort {
  readonly ifaceUuid: string;
  readonly port: Port;
  /** Config the port was built from; a change rebuilds it. */
  readonly signature: string;
  readonly ofportRequest: number | null;
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

type Iface = VswitchRow<'Interface'>;

function optionsOf(i: Iface): Map<string, string> {
  return i.options as unknown as Map<string, string>;
}

export class Bridges {
  private readonly bridges = new Map<string, RunningBridge>();
  /** Interface uuid -> error text (null when fine), for write-back. */
  private readonly errors = new Map<string, string | null>();
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private statsTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  readonly counters: BridgeCounters = { reconfigurations: 0, reconfigureErrors: 0, statsUpdates: 0 };

  constructor(
    private readonly db: Database,
    private readonly log: ModuleLog,
    private readonly statsIntervalMs = 5000,
    /** Where each bridge's <name>.mgmt OpenFlow socket lives. */
    private readonly rundir = '.',
  ) {}

  /** Applies the current DB, then follows every commit; statistics every statsIntervalMs. */
  async start(): Promise<void> {
    this.unsubscribe = this.db.onCommit(() => this.schedule());
    this.statsTimer = setInterval(() => this.updateStats(), this.statsIntervalMs);
    this.statsTimer.unref();
    this.schedule();
    await this.idle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.statsTimer) clearInterval(this.statsTimer);
    await this.running;
    for (const b of this.bridges.values()) await b.of.stop();
    this.bridges.clear();
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
    const want = new Map<string, { br: VswitchRow<'Bridge'>; ifaces: Iface[] }>();
    for (const bu of ovs.bridges as readonly string[]) {
      const br = db.get('Bridge', bu);
      if (!br) continue;
      const ifaces: Iface[] = [];
      for (const pu of br.ports as readonly string[]) {
        const port = db.get('Port', pu);
        for (const iu of (port?.interfaces ?? []) as readonly string[]) {
          const i = db.get('Interface', iu);
          if (i) ifaces.push(i);
        }
      }
      // Name order, so port numbers do not depend on uuids.
      ifaces.sort((a, b) => ((a.name as string) < (b.name as string) ? -1 : (a.name as string) > (b.name as string) ? 1 : 0));
      want.set(br.name as string, { br, ifaces });
    }
    // Bridges that went away.
    for (const [name, b] of this.bridges) {
      if (!want.has(name)) {
        await b.of.stop();
        this.bridges.delete(name);
        this.log.info(`bridge ${name}: deleted`);
      }
    }
    this.errors.clear();
    const patches = new Map<string, PatchPort>();
    for (const [name, { br, ifaces }] of want) {
      let b = this.bridges.get(name);
      const failMode = br.fail_mode === 'secure' ? 'secure' : 'standalone';
      const targets: string[] = [];
      for (const cu of (br.controller ?? []) as readonly string[]) {
        const c = this.db.get('Controller', cu);
        if (c) targets.push(c.target as string);
      }
      const controllers = JSON.stringify(targets);
      if (!b) {
        const of = new OpenFlowBridge({ name, rundir: this.rundir, failMode });
        await of.start();
        b = { name, dp: of.datapath, of, controllers: '[]', ports: new Map() };
        this.bridges.set(name, b);
        this.log.info(`bridge ${name}: added (fail_mode ${failMode}, management socket ${of.mgmtPath})`);
      }
      if (b.of.ofproto.failMode !== failMode) b.of.setFailMode(failMode);
      if (b.controllers !== controllers) {
        try {
          await b.of.setControllers(targets);
          b.controllers = controllers;
          this.log.info(`bridge ${name}: controllers ${targets.join(' ') || '(none)'}`);
        } catch (e) {
          this.log.warn(`bridge ${name}: bad controller target: ${(e as Error).message}`);
        }
      }
      const wanted = new Map(ifaces.map((i) => [i.name as string, i]));
      for (const [iname, rp] of b.ports) {
        const i = wanted.get(iname);
        if (!i || i._uuid !== rp.ifaceUuid || signatureOf(i) !== rp.signature || ofportRequestOf(i) !== rp.ofportRequest) {
          await b.of.removePort(iname);
          b.ports.delete(iname);
          this.log.info(`bridge ${name}: deleted interface ${iname} on port ${rp.port.portNo}`);
        }
      }
      for (const i of ifaces) {
        const iname = i.name as string;
        const type = i.type as string;
        if (!SUPPORTED_TYPES.has(type)) {
          this.errors.set(i._uuid, `unsupported interface type "${type || 'system'}" (${SUPPORTED_TEXT})`);
          continue;
        }
        let rp = b.ports.get(iname);
        if (!rp) {
          try {
            const port = this.makePort(i);
            const req = ofportRequestOf(i);
            await b.of.addPort(port, req !== null ? { ofPort: req } : {});
            rp = { ifaceUuid: i._uuid, port, signature: signatureOf(i), ofportRequest: req };
            b.ports.set(iname, rp);
            this.log.info(`bridge ${name}: added interface ${iname} on port ${port.portNo}`);
          } catch (e) {
            this.errors.set(i._uuid, (e as Error).message);
            this.log.warn(`bridge ${name}: could not add interface ${iname}: ${(e as Error).message}`);
            continue;
          }
        }
        this.errors.set(i._uuid, null);
        if (rp.port instanceof PatchPort) patches.set(iname, rp.port);
      }
    }
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

  private makePort(i: Iface): Port {
    const name = i.name as string;
    const o = optionsOf(i);
    if (i.type === 'patch') return new PatchPort(name, macFor(i._uuid));
    // QEMU NICs: -netdev stream (unix socket; tsvs listens, or connects with options:role=client) and -netdev dgram (UDP).
    // options:mac, else a stable one made up from the row.
    const mac = o.get('mac') ?? formatMac(macFor(i._uuid));
    if (i.type === 'stream') return StreamPort.fromOptions(name, Object.fromEntries(o), { mac });
    if (i.type === 'dgram') return DgramPort.fromOptions(name, Object.fromEntries(o), { mac });
    const vlanText = o.get('vlan');
    const vlan = vlanText === undefined ? undefined : Number(vlanText);
    if (vlanText !== undefined && !/^\d+$/.test(vlanText)) throw new Error(`${name}: options:vlan "${vlanText}" is not 0..4095`);
    return new GuestPort(name, {
      mac,
      ...(o.has('ip') ? { ip: o.get('ip') } : {}),
      ...(o.has('ip6') ? { ip6: o.get('ip6') } : {}),
      ...(vlan !== undefined ? { vlan } : {}),
    });
  }

  /** One transaction with everything that differs from what the DB says, plus cur_cfg. */
  private writeBack(nextCfg: number): void {
    const ops: Parameters<Database['transact']>[0][number][] = [];
    const running = new Map<string, Port>();
    for (const b of this.bridges.values()) for (const rp of b.ports.values()) running.set(rp.ifaceUuid, rp.port);
    for (const i of this.db.list('Interface')) {
      const p = running.get(i._uuid);
      const err = this.errors.get(i._uuid) ?? null;
      const row = {
        ofport: p ? p.portNo : this.errors.has(i._uuid) ? -1 : null,
        mac_in_use: p ? formatMac(p.mac) : null,
        link_state: p ? (p.carrier ? 'up' : 'down') : null,
        admin_state: p ? 'up' : null,
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
        if (i && (!sameDatum(i.statistics, stats) || i.link_state !== link)) {
          ops.push({ op: 'update', table: 'Interface', where: [['_uuid', '==', rp.ifaceUuid]], row: { statistics: stats, link_state: link } });
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

function ofportRequestOf(i: Iface): number | null {
  const r = i.ofport_request as number | null;
  return typeof r === 'number' ? r : null;
}

function signatureOf(i: Iface): string {
  return JSON.stringify([i.type, [...optionsOf(i)]]);
}

/** A stable locally administered MAC from a row uuid. */
function macFor(uuid: string): Uint8Array {
  const h = Buffer.from(uuid.replace(/-/g, '').slice(0, 12), 'hex');
  h[0] = (h[0] & 0xfe) | 0x02;
  return new Uint8Array(h);
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
