// From config DB rows to what a bridge runs (OVS bridge.c iface_create /
// port_configure / bridge_configure_remotes): the datapath port of one
// Interface row of any type, the VLAN config of a Port row, the connection
// settings of a Controller row, and OVS's Interface.error wording for a
// network device that could not be opened.

import { formatMac } from '../datapath/packet/addr.js';
import { createPort, type InterfaceOptionValue } from '../datapath/ports/factory.js';
import { DgramPort } from '../datapath/ports/dgram.js';
import { GuestPort } from '../datapath/ports/guest.js';
import { NullInternalPort } from '../datapath/ports/null-internal.js';
import { PatchPort } from '../datapath/ports/patch.js';
import type { Port } from '../datapath/ports/port.js';
import { StreamPort } from '../datapath/ports/stream.js';
import type { ControllerConfig } from '../ofproto/connmgr/connmgr.js';
import type { PortVlanConfig, VlanMode } from '../ofproto/normal/port-vlan.js';
import type { VswitchRow } from './db/database.js';

export type Iface = VswitchRow<'Interface'>;

/** Types backed by a Linux network device (need CAP_NET_ADMIN). */
export const DEVICE_TYPES: ReadonlySet<string> = new Set(['', 'system', 'tap', 'internal']);
/** Every Interface.type the daemon creates. */
export const IFACE_TYPES: ReadonlySet<string> = new Set([...DEVICE_TYPES, 'guest', 'patch', 'stream', 'dgram']);

/** Builds the port of a system/tap/internal Interface; tests pass one over fake devices. */
export type DevicePortFactory = (spec: { name: string; type: string; options: Record<string, InterfaceOptionValue> }) => Port;

export function optionsOf(i: Iface): Map<string, string> {
  return i.options as unknown as Map<string, string>;
}

/** The port for an Interface row (not started). Throws with a message for Interface.error. */
export function makeInterfacePort(i: Iface, devices: DevicePortFactory = createPort, internalDevices = true): Port {
  const name = i.name as string;
  const type = i.type as string;
  const o = optionsOf(i);
  if (!IFACE_TYPES.has(type)) throw new Error(`unsupported interface type "${type}" (tsvs-vswitchd creates system, tap, internal, guest, patch, stream and dgram interfaces)`);
  if (type === 'internal' && !internalDevices) return new NullInternalPort(name, macFor(i._uuid));
  if (DEVICE_TYPES.has(type)) return devices({ name, type: type || 'system', options: Object.fromEntries(o) });
  if (type === 'patch') return new PatchPort(name, macFor(i._uuid));
  // QEMU NICs: -netdev stream (unix socket; tsvs listens, or connects with options:role=client) and -netdev dgram (UDP).
  // options:mac, else a stable one made up from the row.
  const mac = o.get('mac') ?? formatMac(macFor(i._uuid));
  if (type === 'stream') return StreamPort.fromOptions(name, Object.fromEntries(o), { mac });
  if (type === 'dgram') return DgramPort.fromOptions(name, Object.fromEntries(o), { mac });
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

const STRERROR: Readonly<Record<string, string>> = {
  ENODEV: 'No such device',
  ENXIO: 'No such device or address',
  ENOENT: 'No such file or directory',
  EPERM: 'Operation not permitted',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EINVAL: 'Invalid argument',
  EIO: 'Input/output error',
  ENOMEM: 'Cannot allocate memory',
  EMFILE: 'Too many open files',
};

/**
 * Interface.error for a port that could not be added. A device that would not
 * open reads as OVS writes it: "could not open network device eth9 (No such device)".
 */
export function interfaceError(i: Iface, err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (DEVICE_TYPES.has(i.type as string) && code !== undefined && code in STRERROR && !msg.includes('options:'))
    return `could not open network device ${i.name as string} (${STRERROR[code]})`;
  return msg;
}

/** True when the error means the device is not there (yet): a later reconfiguration may retry. */
export function isMissingDevice(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'ENODEV';
}

/**
 * PortVlanConfig of a Port row, as OVS port_configure reads tag, trunks and
 * vlan_mode: no vlan_mode = access with a tag (trunks then ignored, with a
 * warning), trunk without. dot1q-tunnel is not implemented: an error.
 */
export function portVlanOf(port: VswitchRow<'Port'>): { vlan: PortVlanConfig; warning?: string; error?: string } {
  const tagRaw = port.tag as unknown;
  const tag = typeof tagRaw === 'number' ? tagRaw : undefined;
  const trunks = [...((port.trunks ?? []) as unknown as Iterable<number>)].sort((a, b) => a - b);
  const modeRaw = port.vlan_mode as unknown;
  const mode = typeof modeRaw === 'string' ? modeRaw : undefined;
  const name = port.name as string;
  if (mode === 'dot1q-tunnel') return { vlan: {}, error: `port ${name}: vlan_mode dot1q-tunnel is not supported by tsvs` };
  const vlan: PortVlanConfig = {
    ...(tag !== undefined ? { tag } : {}),
    ...(trunks.length > 0 ? { trunks } : {}),
    ...(mode !== undefined ? { vlanMode: mode as VlanMode } : {}),
  };
  if (mode === undefined && tag !== undefined && trunks.length > 0) return { vlan: { tag }, warning: `port ${name}: ignoring trunks in favor of implicit vlan` };
  if (mode === 'access' && trunks.length > 0) return { vlan: { tag: tag ?? 0, vlanMode: 'access' }, warning: `port ${name}: ignoring trunks in access mode` };
  return { vlan };
}

export function sameVlan(a: PortVlanConfig, b: PortVlanConfig): boolean {
  return JSON.stringify([a.tag, a.trunks, a.vlanMode]) === JSON.stringify([b.tag, b.trunks, b.vlanMode]);
}

/**
 * ControllerConfig of a Controller row: max_backoff and inactivity_probe (ms;
 * inactivity_probe 0 = off), controller_rate_limit / controller_burst_limit.
 * connection_mode in-band is not implemented (tsvs has no in-band hidden
 * flows): every connection is out-of-band, and in-band gets a warning.
 */
export function controllerConfigOf(c: VswitchRow<'Controller'>): { config: ControllerConfig; warning?: string } {
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const maxBackoff = num(c.max_backoff);
  const probe = num(c.inactivity_probe);
  const rate = num(c.controller_rate_limit);
  const burst = num(c.controller_burst_limit);
  const config: ControllerConfig = {
    target: c.target as string,
    ...(maxBackoff !== undefined ? { maxBackoffMs: maxBackoff } : {}),
    ...(probe !== undefined ? { inactivityProbeMs: probe } : {}),
    ...(rate !== undefined ? { rateLimit: rate } : {}),
    ...(burst !== undefined ? { burstLimit: burst } : {}),
  };
  return c.connection_mode === 'in-band'
    ? { config, warning: `controller ${config.target}: connection_mode in-band is not supported; connecting out-of-band` }
    : { config };
}

/** A stable locally administered MAC from a row uuid. */
export function macFor(uuid: string): Uint8Array {
  const h = Buffer.from(uuid.replace(/-/g, '').slice(0, 12), 'hex');
  h[0] = (h[0] & 0xfe) | 0x02;
  return new Uint8Array(h);
}
