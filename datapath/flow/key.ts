// The flow key: a fixed layout of 32-bit words, like Open vSwitch's struct
// flow / miniflow. One reused Uint32Array per packet slot; masks have the same
// layout. Every datapath module (extract, classifier, actions, printing)
// addresses fields through the constants below, never through raw numbers.
//
// Multi-byte protocol values are stored as numbers in network order meaning:
// IPv4 10.0.0.1 is 0x0a000001; a MAC 02:00:00:00:00:01 is hi=0x0200, lo=0x00000001.

/** Words of one key (and one mask). */
export const KEY_WORDS = 36;

// --- metadata --------------------------------------------------------------
/** Datapath port number the frame arrived on. */
export const W_IN_PORT = 0;
/** Recirculation id (0 = first pass). */
export const W_RECIRC_ID = 1;
/** Packet mark / skb priority room (set by actions, matched by later passes). */
export const W_SKB_MARK = 2;
/** dp_hash (set by hash action; 0 otherwise). */
export const W_DP_HASH = 3;

// --- L2 ----------------------------------------------------------------------
/** Destination MAC bytes 0-1 in the low 16 bits. */
export const W_ETH_DST_HI = 4;
/** Destination MAC bytes 2-5. */
export const W_ETH_DST_LO = 5;
export const W_ETH_SRC_HI = 6;
export const W_ETH_SRC_LO = 7;
/**
 * Ethertype of the payload after all VLAN tags (low 16 bits). For frames with
 * an 802.3 length field instead of a type, 0x05ff (OVS's FLOW_DL_TYPE_NONE).
 */
export const W_ETH_TYPE = 8;
/**
 * Outer VLAN: TPID in the high 16 bits, TCI in the low 16 bits with the CFI
 * bit (0x1000) forced to 1 when a tag is present (OVS's VLAN_CFI convention),
 * so tci=0 means "no tag". Word is 0 when untagged.
 */
export const W_VLAN0 = 9;
/** Inner VLAN (802.1ad double tag), same encoding. */
export const W_VLAN1 = 10;
/** Up to three MPLS label stack entries (full 32-bit LSE), outermost first. */
export const W_MPLS0 = 11;
/** A PBB frame (eth_type 0x88e7) has no label stack: W_MPLS0 holds its 32-bit I-TAG (PBB_ISID is the low 24 bits). */
export const W_PBB_ITAG = 11;
export const W_MPLS1 = 12;
export const W_MPLS2 = 13;

// --- L3 ----------------------------------------------------------------------
/**
 * Network source: IPv4 source (or ARP SPA) in word 0 with words 1-3 zero;
 * IPv6 source in all four words, most significant first.
 */
export const W_NW_SRC = 14; // 14..17
export const W_NW_DST = 18; // 18..21
/**
 * Packed: nw_proto << 24 | nw_tos << 16 | nw_ttl << 8 | nw_frag.
 * nw_proto holds the ARP opcode (low 8 bits) for ARP, like OVS.
 * nw_tos is the whole TOS / traffic class byte (DSCP << 2 | ECN).
 */
export const W_NW_PROTO_TOS_TTL_FRAG = 22;
/**
 * IPv6 flow label (low 20 bits); bits 20..28 hold OpenFlow's IPV6_EXTHDR
 * flags (OFPIEH_*: which extension headers the packet has, in order or not).
 */
export const W_IPV6_LABEL = 23;
export const SHIFT_IPV6_EXTHDR = 20;
export const MASK_IPV6_EXTHDR = 0x1ff00000;

// --- L4 ----------------------------------------------------------------------
/**
 * tp_src << 16 | tp_dst. For ICMPv4/ICMPv6 the type is in tp_src and the code
 * in tp_dst, as in OVS.
 */
export const W_TP_PORTS = 24;
/** TCP flags (low 12 bits). */
export const W_TCP_FLAGS = 25;
/** ARP SHA or ND source link-layer address (hi 16 / lo 32). */
export const W_ARP_SHA_HI = 26;
export const W_ARP_SHA_LO = 27;
/** ARP THA or ND target link-layer address. */
export const W_ARP_THA_HI = 28;
export const W_ARP_THA_LO = 29;
/** ND target address (IPv6), four words. */
export const W_ND_TARGET = 30; // 30..33
/** Reserved for connection tracking state/zone and tunnel metadata later. */
export const W_RESERVED0 = 34;
export const W_RESERVED1 = 35;

// --- packed sub-field helpers ------------------------------------------------
export const SHIFT_NW_PROTO = 24;
export const SHIFT_NW_TOS = 16;
export const SHIFT_NW_TTL = 8;
export const SHIFT_NW_FRAG = 0;
export const MASK_NW_PROTO = 0xff000000;
export const MASK_NW_TOS = 0x00ff0000;
export const MASK_NW_TTL = 0x0000ff00;
export const MASK_NW_FRAG = 0x000000ff;
export const MASK_TP_SRC = 0xffff0000;
export const MASK_TP_DST = 0x0000ffff;

/** nw_frag bits (OVS FLOW_NW_FRAG_*): ANY = is a fragment, LATER = not the first. */
export const FRAG_ANY = 1;
export const FRAG_LATER = 2;

/** VLAN TCI "tag present" bit, as OVS uses it in flow keys. */
export const VLAN_CFI = 0x1000;

/** Ethertype recorded for 802.3 frames that carry a length, not a type. */
export const ETH_TYPE_NONE = 0x05ff;

export const ETH_TYPE_IPV4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_VLAN = 0x8100;
export const ETH_TYPE_QINQ = 0x88a8;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_MPLS = 0x8847;
export const ETH_TYPE_MPLS_MCAST = 0x8848;
/** 802.1ah provider backbone bridging: the I-TAG follows. */
export const ETH_TYPE_PBB = 0x88e7;
export const ETH_TYPE_SLOW = 0x8809;
export const ETH_TYPE_CFM = 0x8902;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;

/** A fresh zeroed key (or mask). Hot paths reuse keys instead of calling this. */
export function newKey(): Uint32Array {
  return new Uint32Array(KEY_WORDS);
}

// --- header offsets recorded by extraction --------------------------------
// extract() fills an Int32Array of LAYOUT_SLOTS alongside the key so that
// actions can rewrite headers in place without reparsing. -1 = absent.

export const LAYOUT_SLOTS = 10;
/** Offset of the Ethernet header (relative to the frame start; always 0). */
export const L_L2 = 0;
/** Offset of the first MPLS LSE, or -1. */
export const L_L2_5 = 1;
/** Offset of the L3 header (IPv4/IPv6/ARP), or -1. */
export const L_L3 = 2;
/** Offset of the L4 header (TCP/UDP/SCTP/ICMP/ICMPv6), or -1. */
export const L_L4 = 3;
/** Offset of the L4 payload, or -1. */
export const L_L7 = 4;
/** Offset of the ethertype field that follows the last VLAN tag (i.e. the "inner" type). */
export const L_ETH_TYPE = 5;
/** Number of VLAN tags parsed (0..2). */
export const L_VLANS = 6;
/** Bytes of the frame available for parsing. */
export const L_LEN = 7;
/**
 * Bitmask of key words 0-31 / 32-35 that the last extractFlow() into this
 * key+layout pair may have left nonzero. extractFlow() zeroes only those it
 * does not rewrite, instead of clearing all KEY_WORDS per frame. A key and its
 * layout are therefore a pair: keep them together. -1 (fresh layout) = all.
 */
export const L_WORDS_LO = 8;
export const L_WORDS_HI = 9;

export function newLayout(): Int32Array {
  return new Int32Array(LAYOUT_SLOTS).fill(-1);
}
