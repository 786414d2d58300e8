// VLAN semantics of a bridge port for NORMAL, as Open vSwitch's Port table
// defines them (vswitchd/vswitch.xml "VLAN Configuration"): tag, trunks and
// vlan_mode access / trunk / native-tagged / native-untagged. VLAN 0 means
// "untagged" on trunks.

export type VlanMode = 'access' | 'trunk' | 'native-tagged' | 'native-untagged';

export interface PortVlanConfig {
  /** Access VLAN or native VLAN (1..4095). */
  tag?: number;
  /** VLANs a trunk carries; empty or absent = all. */
  trunks?: readonly number[];
  /** Default: access if tag is set, trunk otherwise. */
  vlanMode?: VlanMode;
}

export function vlanModeOf(c: PortVlanConfig): VlanMode {
  return c.vlanMode ?? (c.tag !== undefined ? 'access' : 'trunk');
}

function trunksVlan(c: PortVlanConfig, vlan: number): boolean {
  return c.trunks === undefined || c.trunks.length === 0 || c.trunks.includes(vlan);
}

/** True if the port carries `vlan` (OVS ofbundle_includes_vlan). */
export function portIncludesVlan(c: PortVlanConfig, vlan: number): boolean {
  const mode = vlanModeOf(c);
  if (mode === 'access') return vlan === (c.tag ?? 0);
  if (mode === 'trunk') return trunksVlan(c, vlan);
  return vlan === (c.tag ?? 0) || trunksVlan(c, vlan);
}

/**
 * The VLAN a frame received on the port belongs to, from its 802.1Q VID
 * (0 = untagged or priority-tagged); -1 = drop it (OVS input_vid_is_valid).
 */
export function inputVlan(c: PortVlanConfig, vid: number): number {
  const mode = vlanModeOf(c);
  if (mode === 'access') return vid === 0 ? (c.tag ?? 0) : -1;
  if (mode === 'trunk') return trunksVlan(c, vid) ? vid : -1;
  if (vid === 0) return c.tag ?? 0;
  return portIncludesVlan(c, vid) ? vid : -1;
}

/** The VID to send `vlan` with on this port; 0 = untagged (OVS output_vlan_to_vid). */
export function outputVid(c: PortVlanConfig, vlan: number): number {
  const mode = vlanModeOf(c);
  if (mode === 'access') return 0;
  if (mode === 'native-untagged' && vlan === (c.tag ?? 0)) return 0;
  return vlan;
}
