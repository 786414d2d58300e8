// Ports from OVS-like Interface rows: {name, type, options}, as the daemon's
// config DB holds them (Interface.type, Interface.options). An empty type
// means `system`, as in OVS. Errors are DpifErrors whose code and message go
// into Interface.error.

import { DpifError } from '../dpif-error.js';
import { TX_RING_DEFAULT } from '../native/index.js';
import { BATCH_LIMIT } from './native-io-port.js';
import { GuestPort } from './guest.js';
import { InternalPort } from './internal.js';
import { PatchPort } from './patch.js';
import type { Port } from './port.js';
import { SystemPort } from './system.js';
import { TapPort } from './tap.js';

export type InterfaceOptionValue = string | number | boolean;

export interface InterfaceSpec {
  name: string;
  /** guest, patch, system (also '' or absent), tap, internal. */
  type?: string;
  options?: Record<string, InterfaceOptionValue>;
}

/** State shared by the ports of one daemon: patch ends waiting for their peer. */
export interface PortFactoryContext {
  patches?: Map<string, PatchPort>;
}

export const SUPPORTED_TYPES = ['guest', 'patch', 'system', 'tap', 'internal'] as const;

const NAME_RE = /^[A-Za-z0-9_.:-]{1,15}$/;

/**
 * Create (not start) a port. Option keys follow OVS where OVS has one:
 * - system: rx_ring (true | false | v2 | v3; default false, i.e. recvmmsg, on a TUN/TAP device, else a
 *   TPACKET_V2 ring: DEFAULT_RING_VERSION), rx_batch, tx_batch (default 256
 *   each for MTU 1500, fewer for jumbo MTUs: defaultBatchFrames), tx_ring (TX ring frames, multiple of 32,
 *   default 512; 0 = sendmmsg), offloads ("off" default | "keep")
 * - tap / internal: rx_batch, tx_batch (defaults as for system)
 * - guest: mac (required), ip, ip6, vlan, udp_echo_port
 * - patch: peer (required; ends pair up when both exist in ctx.patches)
 */
/** options:tx_ring: TX ring frames (0 = sendmmsg, else a multiple of 32 up to 65536). */
function txRing(o: Record<string, InterfaceOptionValue>, name: string): number {
  const v = int(o, 'tx_ring', name, TX_RING_DEFAULT, 0, 65536);
  if (v % 32 !== 0) throw new DpifError('EINVAL', `${name}: options:tx_ring=${v} is not a multiple of 32`);
  return v;
}

/** options:rx_ring: true (a ring of the default layout), false (recvmmsg), v2 or v3 (that ring layout). */
function rxRing(o: Record<string, InterfaceOptionValue>, name: string): { ring?: boolean; ringVersion?: 2 | 3 } {
  const v = o.rx_ring;
  if (v === undefined) return {};
  if (v === 'v2' || v === 'v3') return { ring: true, ringVersion: v === 'v2' ? 2 : 3 };
  if (v === true || v === 'true' || v === false || v === 'false') return { ring: v === true || v === 'true' };
  throw new DpifError('EINVAL', `${name}: options:rx_ring=${String(v)} is not true, false, v2 or v3`);
}

export function createPort(spec: InterfaceSpec, ctx: PortFactoryContext = {}): Port {
  const name = spec.name;
  const type = spec.type === undefined || spec.type === '' ? 'system' : spec.type;
  const o = spec.options ?? {};
  if (typeof name !== 'string' || !NAME_RE.test(name))
    throw new DpifError('EINVAL', `bad interface name ${JSON.stringify(name)} (1-15 of A-Z a-z 0-9 _ . : -)`);
  const known = new Set(optionKeys(type));
  if (!(SUPPORTED_TYPES as readonly string[]).includes(type))
    throw new DpifError('EINVAL', `EINVAL: unsupported interface type ${type}`);
  for (const k of Object.keys(o))
    if (!known.has(k)) throw new DpifError('EINVAL', `${name}: unknown option ${k} for type ${type} (known: ${[...known].join(', ')})`);
  switch (type) {
    case 'system':
      return new SystemPort(name, {
        ...rxRing(o, name),
        rxBatch: optInt(o, 'rx_batch', name, 1, BATCH_LIMIT),
        txBatch: optInt(o, 'tx_batch', name, 1, BATCH_LIMIT),
        txRing: txRing(o, name),
        disableOffloads: oneOf(o, 'offloads', name, ['off', 'keep'], 'off') === 'off',
      });
    case 'tap':
    case 'internal': {
      const opts = {
        rxBatch: optInt(o, 'rx_batch', name, 1, BATCH_LIMIT),
        txBatch: optInt(o, 'tx_batch', name, 1, BATCH_LIMIT),
      };
      return type === 'tap' ? new TapPort(name, opts) : new InternalPort(name, opts);
    }
    case 'guest': {
      const mac = str(o, 'mac', name);
      if (mac === undefined) throw new DpifError('EINVAL', `${name}: guest needs options:mac`);
      const vlan = o.vlan === undefined ? undefined : int(o, 'vlan', name, 0, 0, 4095);
      const udpEchoPort = o.udp_echo_port === undefined ? undefined : int(o, 'udp_echo_port', name, 7, 1, 65535);
      return new GuestPort(name, { mac, ip: str(o, 'ip', name), ip6: str(o, 'ip6', name), vlan, udpEchoPort });
    }
    default: {
      // patch
      const peer = str(o, 'peer', name);
      if (peer === undefined) throw new DpifError('EINVAL', `${name}: patch needs options:peer`);
      if (peer === name) throw new DpifError('EINVAL', `${name}: patch peer is itself`);
      const port = new PatchPort(name);
      const patches = ctx.patches;
      if (patches) {
        const other = patches.get(peer);
        if (other && patchPeerName.get(other) === name) PatchPort.pair(port, other);
        patches.set(name, port);
        patchPeerName.set(port, peer);
      }
      return port;
    }
  }
}

const patchPeerName = new WeakMap<PatchPort, string>();

function optionKeys(type: string): string[] {
  switch (type) {
    case 'system':
      return ['rx_ring', 'rx_batch', 'tx_batch', 'tx_ring', 'offloads'];
    case 'tap':
    case 'internal':
      return ['rx_batch', 'tx_batch'];
    case 'guest':
      return ['mac', 'ip', 'ip6', 'vlan', 'udp_echo_port'];
    case 'patch':
      return ['peer'];
    default:
      return [];
  }
}

function str(o: Record<string, InterfaceOptionValue>, k: string, name: string): string | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new DpifError('EINVAL', `${name}: options:${k} must be a non-empty string`);
  return v;
}

function int(o: Record<string, InterfaceOptionValue>, k: string, name: string, dflt: number, min: number, max: number): number {
  const v = o[k];
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new DpifError('EINVAL', `${name}: options:${k}=${String(v)} is not an integer ${min}..${max}`);
  return n;
}

/** An integer option, undefined when not set (the port picks its default). */
function optInt(o: Record<string, InterfaceOptionValue>, k: string, name: string, min: number, max: number): number | undefined {
  return o[k] === undefined ? undefined : int(o, k, name, min, min, max);
}

function oneOf(o: Record<string, InterfaceOptionValue>, k: string, name: string, allowed: string[], dflt: string): string {
  const v = o[k];
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !allowed.includes(v))
    throw new DpifError('EINVAL', `${name}: options:${k}=${String(v)} is not one of ${allowed.join(', ')}`);
  return v;
}
