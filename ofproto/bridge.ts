// One OpenFlow bridge: a Datapath, the Ofproto that programs it and the
// ConnMgr that carries its controller and service connections (including
// <rundir>/<name>.mgmt). vswitchd builds one per Bridge row; tests and
// benchmarks build one directly.
//
// The construction cycle (ConnMgr needs its OfprotoHandler, Ofproto needs
// its ConnectionSet) is broken on the ConnectionSet side: Ofproto gets a
// two-method view that forwards to this bridge's ConnMgr, which exists by
// the time Ofproto first asks (Ofproto never calls it from its constructor).

import { Datapath, type DatapathOptions } from '../datapath/dpif.js';
import type { Port } from '../datapath/ports/port.js';
import { ConnMgr, type ControllerConfig, type ConnMgrOptions, type ServiceConfig } from './connmgr/connmgr.js';
import type { PortVlanConfig } from './normal/port-vlan.js';
import type { ConnectionSet, OfConn } from './ofconn.js';
import { OFPP } from './openflow/constants.js';
import { Ofproto, type FailMode, type OfprotoOptions } from './ofproto.js';

export interface OpenFlowBridgeOptions {
  name: string;
  /** Default: derived from the name (stable across runs). */
  datapathId?: bigint;
  /** Default 'standalone' (as OVS). */
  failMode?: FailMode;
  /** Directory of the <name>.mgmt socket. */
  rundir: string;
  /** Controller targets (tcp:, ssl:, unix:, or passive ptcp:/pssl:/punix:). */
  controllers?: ReadonlyArray<string | ControllerConfig>;
  /** Extra passive service listeners (ptcp:, pssl:, punix:). */
  services?: ReadonlyArray<string | ServiceConfig>;
  /** Milliseconds clock for the datapath and ofproto. */
  clock?: () => number;
  /** Passed to the Datapath (flow limits, EMC size...). */
  datapathOptions?: Omit<DatapathOptions, 'name' | 'clock'>;
  /** Passed to Ofproto (rule limits, MAC aging, run interval...). */
  ofprotoOptions?: Omit<OfprotoOptions, 'name' | 'datapath' | 'datapathId' | 'connections' | 'failMode' | 'clock'>;
  /** Passed to ConnMgr (log, ssl, timers, queue limits). */
  connmgrOptions?: Omit<ConnMgrOptions, 'bridge' | 'handler' | 'rundir'>;
}

export interface BridgePortOptions {
  /** OpenFlow port number; default the datapath port number. */
  ofPort?: number;
  vlan?: PortVlanConfig;
}

/** A datapath id from a bridge name (FNV-1a 48 bits), like OVS's name-derived default. */
export function datapathIdFromName(name: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(name)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h & 0xffffffffffffn;
}

export class OpenFlowBridge {
  readonly name: string;
  readonly datapath: Datapath;
  readonly ofproto: Ofproto;
  readonly connmgr: ConnMgr;
  private state: 'new' | 'running' | 'stopped' = 'new';
  /** Constructor lists, applied at start() unless set*() replaced them first. */
  private initialControllers: ReadonlyArray<string | ControllerConfig> | undefined;
  private initialServices: ReadonlyArray<string | ServiceConfig> | undefined;

  constructor(o: OpenFlowBridgeOptions) {
    this.name = o.name;
    this.datapath = new Datapath({ ...(o.datapathOptions ?? {}), name: o.name, ...(o.clock ? { clock: o.clock } : {}) });
    const conns: ConnectionSet = {
      connections: (): Iterable<OfConn> => this.connmgr.connections(),
      controllerConnected: (): boolean => this.connmgr.controllerConnected(),
    };
    this.ofproto = new Ofproto({
      ...(o.ofprotoOptions ?? {}),
      name: o.name,
      datapath: this.datapath,
      datapathId: o.datapathId ?? datapathIdFromName(o.name),
      connections: conns,
      failMode: o.failMode ?? 'standalone',
      ...(o.clock ? { clock: o.clock } : {}),
    });
    this.connmgr = new ConnMgr({ ...(o.connmgrOptions ?? {}), bridge: o.name, handler: this.ofproto, rundir: o.rundir });
    this.initialControllers = o.controllers;
    this.initialServices = o.services;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Starts the ports, takes the datapath's upcalls, opens the .mgmt socket and every remote. */
  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state === 'stopped') throw new Error(`${this.name}: bridge was stopped`);
    this.state = 'running';
    try {
      await this.datapath.start();
      this.ofproto.start();
      // Recorded only (ConnMgr is not running yet); a bad target rejects start().
      if (this.initialControllers !== undefined) await this.connmgr.setControllers(this.initialControllers);
      if (this.initialServices !== undefined) await this.connmgr.setServices(this.initialServices);
      this.initialControllers = this.initialServices = undefined;
      await this.connmgr.start();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Adds `port` to the datapath and as an OpenFlow port; returns the OpenFlow port number. */
  async addPort(port: Port, o: BridgePortOptions = {}): Promise<number> {
    if (this.state === 'stopped') throw new Error(`${this.name}: bridge was stopped`);
    // Same datapath and OpenFlow number when that datapath number is free (easier to read in traces).
    // The LOCAL port is datapath port 0, as in OVS.
    const dpWant = o.ofPort === OFPP.LOCAL ? 0 : o.ofPort;
    const want = dpWant !== undefined && dpWant <= 0xfeff && this.datapath.port(dpWant) === undefined ? dpWant : undefined;
    const dpNo = await this.datapath.addPort(port, want);
    try {
      return this.ofproto.addPort(dpNo, { ...(o.ofPort !== undefined ? { ofPort: o.ofPort } : {}), ...(o.vlan ? { vlan: o.vlan } : {}) });
    } catch (e) {
      await this.datapath.delPort(dpNo);
      throw e;
    }
  }

  /** Removes the port named `name` (PORT_STATUS DELETE to controllers) and stops it. */
  async removePort(name: string): Promise<void> {
    const dp = this.datapath.port(name);
    if (dp === undefined) throw new Error(`${this.name}: no port ${name}`);
    const of = this.ofproto.ports().find((p) => p.dp === dp);
    if (of !== undefined) this.ofproto.removePort(of.ofPort);
    await this.datapath.delPort(name);
  }

  /** OpenFlow port number of the port named `name`. */
  ofPortOf(name: string): number | undefined {
    return this.ofproto.ports().find((p) => p.name === name)?.ofPort;
  }

  setControllers(targets: ReadonlyArray<string | ControllerConfig>): Promise<void> {
    this.initialControllers = undefined;
    return this.connmgr.setControllers(targets);
  }

  setServices(targets: ReadonlyArray<string | ServiceConfig>): Promise<void> {
    this.initialServices = undefined;
    return this.connmgr.setServices(targets);
  }

  /** standalone: a learning switch while no controller is connected; secure: only the flow table. */
  setFailMode(mode: FailMode): void {
    if (this.ofproto.failMode === mode) return;
    this.ofproto.failMode = mode;
    this.ofproto.run(); // notices the fail-open change and revalidates megaflows
  }

  /** The bound address of a passive target (e.g. "ptcp:40123:127.0.0.1" for "ptcp:0:127.0.0.1"). */
  boundTarget(target: string): string | undefined {
    return this.connmgr.boundTarget(target);
  }

  /** The TCP port a ptcp:/pssl: target listens on. */
  boundPort(target: string): number | undefined {
    const b = this.boundTarget(target);
    return b === undefined ? undefined : Number(b.split(':')[1]);
  }

  get mgmtPath(): string {
    return this.connmgr.mgmtPath!;
  }

  /** Closes every connection and listener, stops ofproto's timer and every port. Safe to call twice. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    try {
      await this.connmgr.stop();
    } finally {
      this.ofproto.stop();
      await this.datapath.stop();
    }
  }
}
