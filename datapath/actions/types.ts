// Datapath actions as the rest of tsvs builds them (ofproto's translation emits
// these; dpctl text parses into them). Modelled on Open vSwitch's ODP actions
// (OVS_ACTION_ATTR_*). An empty list means drop. compile.ts turns a list into
// the flat numeric program the executor runs.

/**
 * The ODP key attribute a set action writes (OVS_KEY_ATTR_*). Values and
 * masks are carried in the flow key layout (datapath/flow/key.ts), so the
 * translator can hand over the very key/mask words it computed.
 */
export type SetAttr = 'eth' | 'ipv4' | 'ipv6' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6' | 'arp' | 'nd' | 'mpls';

export const SET_ATTRS: readonly SetAttr[] = ['eth', 'ipv4', 'ipv6', 'tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'arp', 'nd', 'mpls'];

/** Send the frame to a datapath port. */
export interface DpOutput {
  readonly type: 'output';
  readonly port: number;
}

/**
 * OVS_ACTION_ATTR_SET: every writable field of `attr` takes its value from
 * `key` (KEY_WORDS words; other words are ignored). For ipv4/ipv6 the
 * proto/frag bits are not writable and are ignored, as in OVS.
 */
export interface DpSet {
  readonly type: 'set';
  readonly attr: SetAttr;
  readonly key: Uint32Array;
}

/**
 * OVS_ACTION_ATTR_SET_MASKED: field = (field & ~mask) | (key & mask), for the
 * writable fields of `attr` only; a mask bit outside them is an error. Value
 * bits outside the mask are ignored (OVS's userspace datapath ORs them in, the
 * Linux datapath rejects them; ofproto never emits them).
 */
export interface DpSetMasked {
  readonly type: 'set_masked';
  readonly attr: SetAttr;
  readonly key: Uint32Array;
  readonly mask: Uint32Array;
}

/**
 * Push an outermost 802.1Q/802.1ad tag. `tci` follows the flow key convention:
 * the CFI bit (0x1000) must be set to say "tag present" and is written as 0
 * on the wire, as OVS's eth_push_vlan() does.
 */
export interface DpPushVlan {
  readonly type: 'push_vlan';
  readonly tpid: number;
  readonly tci: number;
}

export interface DpPopVlan {
  readonly type: 'pop_vlan';
}

/** Push an MPLS label stack entry (full 32-bit LSE) after the last VLAN tag and set the ethertype (0x8847/0x8848). */
export interface DpPushMpls {
  readonly type: 'push_mpls';
  readonly lse: number;
  readonly ethertype: number;
}

/** Remove the top LSE and set the ethertype to `ethertype`. */
export interface DpPopMpls {
  readonly type: 'pop_mpls';
  readonly ethertype: number;
}

/**
 * Push a PBB (802.1ah) encapsulation: a new outer Ethernet header whose
 * addresses copy the frame's, ethertype 0x88e7, and the 32-bit I-TAG
 * (PCP/DEI/UCA/reserved/I-SID). No OVS counterpart: OpenFlow 1.3's push_pbb.
 */
export interface DpPushPbb {
  readonly type: 'push_pbb';
  readonly itag: number;
}

/**
 * Rewrite the ethertype after the VLAN tags (OpenFlow 1.3's set_field
 * eth_type; OVS has no such action). The headers behind it are then read as
 * that type.
 */
export interface DpSetEthType {
  readonly type: 'set_eth_type';
  readonly ethertype: number;
}

/**
 * OpenFlow 1.3's copy_ttl_in on a single-entry label stack: the label's TTL
 * goes into the IPv4 TTL / IPv6 hop limit behind it (the key of an MPLS frame
 * has no IP fields, so this reads and writes the frame itself).
 */
export interface DpCopyTtlIn {
  readonly type: 'copy_ttl_in';
}

/** Remove the outer Ethernet header, any B-TAG and the I-TAG of a PBB frame (OpenFlow 1.3's pop_pbb). */
export interface DpPopPbb {
  readonly type: 'pop_pbb';
}

/** Decrement IPv4 TTL / IPv6 hop limit; when it is <= 1 run `actions` instead and stop the packet. */
export interface DpDecTtl {
  readonly type: 'dec_ttl';
  readonly actions: readonly DpAction[];
}

/** Run `actions` on a copy of the packet with probability `probability` / 0xffffffff. */
export interface DpSample {
  readonly type: 'sample';
  readonly probability: number;
  readonly actions: readonly DpAction[];
}

/** Hand the packet to userspace (ofproto) with an opaque cookie. */
export interface DpUserspace {
  readonly type: 'userspace';
  /** OVS's netlink pid; kept for the text form, unused by the userspace datapath. */
  readonly pid: number;
  readonly cookie?: Uint8Array;
}

/** Run `actions` on a copy; the packet itself is unchanged afterwards. */
export interface DpClone {
  readonly type: 'clone';
  readonly actions: readonly DpAction[];
}

/** Limit the next output (or userspace) action to `maxLen` bytes, as the Linux datapath's OVS_ACTION_ATTR_TRUNC. */
export interface DpTruncate {
  readonly type: 'truncate';
  readonly maxLen: number;
}

/**
 * OVS_ACTION_ATTR_METER: run the packet through datapath meter `id`; it
 * continues, is dropped (drop band), or has its DSCP drop precedence raised
 * (dscp_remark band). A meter that does not exist lets the packet pass, as in
 * OVS's userspace datapath.
 */
export interface DpMeterAction {
  readonly type: 'meter';
  readonly id: number;
}

export type DpAction =
  | DpOutput
  | DpSet
  | DpSetMasked
  | DpPushVlan
  | DpPopVlan
  | DpPushMpls
  | DpPopMpls
  | DpPushPbb
  | DpPopPbb
  | DpSetEthType
  | DpCopyTtlIn
  | DpDecTtl
  | DpSample
  | DpUserspace
  | DpClone
  | DpTruncate
  | DpMeterAction;

/** A probability in percent (0..100) as OVS's u32 fraction (100% = 0xffffffff). */
export function probabilityFromPercent(percent: number): number {
  if (!(percent >= 0)) return 0;
  if (percent >= 100) return 0xffffffff;
  return Math.round((percent / 100) * 0xffffffff) >>> 0;
}
