// OpenFlow 1.3 wire constants (OpenFlow Switch Specification 1.3.5, section 7
// and appendix A). Names follow the spec without their OFPx_ prefix inside a
// namespace object, so `OFPT.FLOW_MOD` reads like `OFPT_FLOW_MOD`.

export const OFP13_VERSION = 0x04;
/** Largest OpenFlow message: the header's length field is 16 bits. */
export const OFP_MAX_MESSAGE_LEN = 0xffff;
export const OFP_HEADER_LEN = 8;

/** Message types (ofp_type, 7.1). */
export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22,
  QUEUE_GET_CONFIG_REPLY: 23,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26,
  GET_ASYNC_REPLY: 27,
  SET_ASYNC: 28,
  METER_MOD: 29,
} as const;
export type OfpType = (typeof OFPT)[keyof typeof OFPT];

/** Hello element types (7.5.1). */
export const OFPHET = { VERSIONBITMAP: 1 } as const;

/** Multipart types (7.3.5). */
export const OFPMP = {
  DESC: 0,
  FLOW: 1,
  AGGREGATE: 2,
  TABLE: 3,
  PORT_STATS: 4,
  QUEUE: 5,
  GROUP: 6,
  GROUP_DESC: 7,
  GROUP_FEATURES: 8,
  METER: 9,
  METER_CONFIG: 10,
  METER_FEATURES: 11,
  TABLE_FEATURES: 12,
  PORT_DESC: 13,
  EXPERIMENTER: 0xffff,
} as const;
export type OfpMultipartType = (typeof OFPMP)[keyof typeof OFPMP];

/** Multipart request/reply flags. */
export const OFPMPF = { REQ_MORE: 1 << 0, REPLY_MORE: 1 << 0 } as const;

/** Reserved port numbers (7.2.1). */
export const OFPP = {
  MAX: 0xffffff00,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

/** Reserved queue id: all queues. */
export const OFPQ_ALL = 0xffffffff;
/** max_len meaning "send the whole packet, do not buffer". */
export const OFPCML_NO_BUFFER = 0xffff;
export const OFPCML_MAX = 0xffe5;
/** buffer_id meaning "no buffer". */
export const OFP_NO_BUFFER = 0xffffffff;

/** Table numbering (7.3.4.1). */
export const OFPTT = { MAX: 0xfe, ALL: 0xff } as const;

/** Group numbering (7.3.4.2). */
export const OFPG = { MAX: 0xffffff00, ALL: 0xfffffffc, ANY: 0xffffffff } as const;

/** Meter numbering (7.3.4.4). */
export const OFPM = { MAX: 0xffff0000, SLOWPATH: 0xfffffffd, CONTROLLER: 0xfffffffe, ALL: 0xffffffff } as const;

/** Capabilities in FEATURES_REPLY. */
export const OFPC = {
  FLOW_STATS: 1 << 0,
  TABLE_STATS: 1 << 1,
  PORT_STATS: 1 << 2,
  GROUP_STATS: 1 << 3,
  IP_REASM: 1 << 5,
  QUEUE_STATS: 1 << 6,
  PORT_BLOCKED: 1 << 8,
} as const;

/** Switch config flags (7.3.2). */
export const OFPC_FRAG = { NORMAL: 0, DROP: 1, REASM: 2, MASK: 3 } as const;

/** Port config bits (7.2.1). */
export const OFPPC = { PORT_DOWN: 1 << 0, NO_RECV: 1 << 2, NO_FWD: 1 << 5, NO_PACKET_IN: 1 << 6 } as const;
/** Port state bits. */
export const OFPPS = { LINK_DOWN: 1 << 0, BLOCKED: 1 << 1, LIVE: 1 << 2 } as const;
/** Port feature bits. */
export const OFPPF = {
  '10MB_HD': 1 << 0,
  '10MB_FD': 1 << 1,
  '100MB_HD': 1 << 2,
  '100MB_FD': 1 << 3,
  '1GB_HD': 1 << 4,
  '1GB_FD': 1 << 5,
  '10GB_FD': 1 << 6,
  '40GB_FD': 1 << 7,
  '100GB_FD': 1 << 8,
  '1TB_FD': 1 << 9,
  OTHER: 1 << 10,
  COPPER: 1 << 11,
  FIBER: 1 << 12,
  AUTONEG: 1 << 13,
  PAUSE: 1 << 14,
  PAUSE_ASYM: 1 << 15,
} as const;
/** PORT_STATUS reasons. */
export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;

/** PACKET_IN reasons. */
export const OFPR = { NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2 } as const;
/** FLOW_REMOVED reasons. */
export const OFPRR = { IDLE_TIMEOUT: 0, HARD_TIMEOUT: 1, DELETE: 2, GROUP_DELETE: 3 } as const;

/** FLOW_MOD commands and flags (7.3.4.1). */
export const OFPFC = { ADD: 0, MODIFY: 1, MODIFY_STRICT: 2, DELETE: 3, DELETE_STRICT: 4 } as const;
export const OFPFF = {
  SEND_FLOW_REM: 1 << 0,
  CHECK_OVERLAP: 1 << 1,
  RESET_COUNTS: 1 << 2,
  NO_PKT_COUNTS: 1 << 3,
  NO_BYT_COUNTS: 1 << 4,
} as const;

/** GROUP_MOD commands and group types (7.3.4.2). */
export const OFPGC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
export const OFPGT = { ALL: 0, SELECT: 1, INDIRECT: 2, FF: 3 } as const;
/** Group capabilities (GROUP_FEATURES). */
export const OFPGFC = { SELECT_WEIGHT: 1 << 0, SELECT_LIVENESS: 1 << 1, CHAINING: 1 << 2, CHAINING_CHECKS: 1 << 3 } as const;

/** METER_MOD commands, flags and band types (7.3.4.4). */
export const OFPMC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
export const OFPMF = { KBPS: 1 << 0, PKTPS: 1 << 1, BURST: 1 << 2, STATS: 1 << 3 } as const;
export const OFPMBT = { DROP: 1, DSCP_REMARK: 2, EXPERIMENTER: 0xffff } as const;

/** Table config (TABLE_MOD): 1.3 reserves all bits but DEPRECATED_MASK. */
export const OFPTC_DEPRECATED_MASK = 3;

/** Controller roles (7.3.9). */
export const OFPCR_ROLE = { NOCHANGE: 0, EQUAL: 1, MASTER: 2, SLAVE: 3 } as const;

/** Queue properties (7.2.2). */
export const OFPQT = { MIN_RATE: 1, MAX_RATE: 2, EXPERIMENTER: 0xffff } as const;

/** Match types (7.2.3.1). */
export const OFPMT = { STANDARD: 0, OXM: 1 } as const;

/** OXM classes (7.2.3.3). */
export const OFPXMC = {
  NXM_0: 0x0000,
  NXM_1: 0x0001,
  OPENFLOW_BASIC: 0x8000,
  EXPERIMENTER: 0xffff,
} as const;

/** OpenFlow basic OXM fields (7.2.3.7). */
export const OFPXMT = {
  IN_PORT: 0,
  IN_PHY_PORT: 1,
  METADATA: 2,
  ETH_DST: 3,
  ETH_SRC: 4,
  ETH_TYPE: 5,
  VLAN_VID: 6,
  VLAN_PCP: 7,
  IP_DSCP: 8,
  IP_ECN: 9,
  IP_PROTO: 10,
  IPV4_SRC: 11,
  IPV4_DST: 12,
  TCP_SRC: 13,
  TCP_DST: 14,
  UDP_SRC: 15,
  UDP_DST: 16,
  SCTP_SRC: 17,
  SCTP_DST: 18,
  ICMPV4_TYPE: 19,
  ICMPV4_CODE: 20,
  ARP_OP: 21,
  ARP_SPA: 22,
  ARP_TPA: 23,
  ARP_SHA: 24,
  ARP_THA: 25,
  IPV6_SRC: 26,
  IPV6_DST: 27,
  IPV6_FLABEL: 28,
  ICMPV6_TYPE: 29,
  ICMPV6_CODE: 30,
  IPV6_ND_TARGET: 31,
  IPV6_ND_SLL: 32,
  IPV6_ND_TLL: 33,
  MPLS_LABEL: 34,
  MPLS_TC: 35,
  MPLS_BOS: 36,
  PBB_ISID: 37,
  TUNNEL_ID: 38,
  IPV6_EXTHDR: 39,
} as const;
export type OxmBasicField = (typeof OFPXMT)[keyof typeof OFPXMT];

/** VLAN_VID special values (7.2.3.8). */
export const OFPVID = { PRESENT: 0x1000, NONE: 0x0000 } as const;

/** Action types (7.2.5). */
export const OFPAT = {
  OUTPUT: 0,
  COPY_TTL_OUT: 11,
  COPY_TTL_IN: 12,
  SET_MPLS_TTL: 15,
  DEC_MPLS_TTL: 16,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  PUSH_MPLS: 19,
  POP_MPLS: 20,
  SET_QUEUE: 21,
  GROUP: 22,
  SET_NW_TTL: 23,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  PUSH_PBB: 26,
  POP_PBB: 27,
  EXPERIMENTER: 0xffff,
} as const;

/** Instruction types (7.2.4). */
export const OFPIT = {
  GOTO_TABLE: 1,
  WRITE_METADATA: 2,
  WRITE_ACTIONS: 3,
  APPLY_ACTIONS: 4,
  CLEAR_ACTIONS: 5,
  METER: 6,
  EXPERIMENTER: 0xffff,
} as const;

/** Table feature property types (7.3.5.5.2). */
export const OFPTFPT = {
  INSTRUCTIONS: 0,
  INSTRUCTIONS_MISS: 1,
  NEXT_TABLES: 2,
  NEXT_TABLES_MISS: 3,
  WRITE_ACTIONS: 4,
  WRITE_ACTIONS_MISS: 5,
  APPLY_ACTIONS: 6,
  APPLY_ACTIONS_MISS: 7,
  MATCH: 8,
  WILDCARDS: 10,
  WRITE_SETFIELD: 12,
  WRITE_SETFIELD_MISS: 13,
  APPLY_SETFIELD: 14,
  APPLY_SETFIELD_MISS: 15,
  EXPERIMENTER: 0xfffe,
  EXPERIMENTER_MISS: 0xffff,
} as const;

/** Error types (7.4.4). */
export const OFPET = {
  HELLO_FAILED: 0,
  BAD_REQUEST: 1,
  BAD_ACTION: 2,
  BAD_INSTRUCTION: 3,
  BAD_MATCH: 4,
  FLOW_MOD_FAILED: 5,
  GROUP_MOD_FAILED: 6,
  PORT_MOD_FAILED: 7,
  TABLE_MOD_FAILED: 8,
  QUEUE_OP_FAILED: 9,
  SWITCH_CONFIG_FAILED: 10,
  ROLE_REQUEST_FAILED: 11,
  METER_MOD_FAILED: 12,
  TABLE_FEATURES_FAILED: 13,
  EXPERIMENTER: 0xffff,
} as const;
export type OfpErrorType = (typeof OFPET)[keyof typeof OFPET];

export const OFPHFC = { INCOMPATIBLE: 0, EPERM: 1 } as const;
export const OFPBRC = {
  BAD_VERSION: 0,
  BAD_TYPE: 1,
  BAD_MULTIPART: 2,
  BAD_EXPERIMENTER: 3,
  BAD_EXP_TYPE: 4,
  EPERM: 5,
  BAD_LEN: 6,
  BUFFER_EMPTY: 7,
  BUFFER_UNKNOWN: 8,
  BAD_TABLE_ID: 9,
  IS_SLAVE: 10,
  BAD_PORT: 11,
  BAD_PACKET: 12,
  MULTIPART_BUFFER_OVERFLOW: 13,
} as const;
export const OFPBAC = {
  BAD_TYPE: 0,
  BAD_LEN: 1,
  BAD_EXPERIMENTER: 2,
  BAD_EXP_TYPE: 3,
  BAD_OUT_PORT: 4,
  BAD_ARGUMENT: 5,
  EPERM: 6,
  TOO_MANY: 7,
  BAD_QUEUE: 8,
  BAD_OUT_GROUP: 9,
  MATCH_INCONSISTENT: 10,
  UNSUPPORTED_ORDER: 11,
  BAD_TAG: 12,
  BAD_SET_TYPE: 13,
  BAD_SET_LEN: 14,
  BAD_SET_ARGUMENT: 15,
} as const;
export const OFPBIC = {
  UNKNOWN_INST: 0,
  UNSUP_INST: 1,
  BAD_TABLE_ID: 2,
  UNSUP_METADATA: 3,
  UNSUP_METADATA_MASK: 4,
  BAD_EXPERIMENTER: 5,
  BAD_EXP_TYPE: 6,
  BAD_LEN: 7,
  EPERM: 8,
} as const;
export const OFPBMC = {
  BAD_TYPE: 0,
  BAD_LEN: 1,
  BAD_TAG: 2,
  BAD_DL_ADDR_MASK: 3,
  BAD_NW_ADDR_MASK: 4,
  BAD_WILDCARDS: 5,
  BAD_FIELD: 6,
  BAD_VALUE: 7,
  BAD_MASK: 8,
  BAD_PREREQ: 9,
  DUP_FIELD: 10,
  EPERM: 11,
} as const;
export const OFPFMFC = {
  UNKNOWN: 0,
  TABLE_FULL: 1,
  BAD_TABLE_ID: 2,
  OVERLAP: 3,
  EPERM: 4,
  BAD_TIMEOUT: 5,
  BAD_COMMAND: 6,
  BAD_FLAGS: 7,
} as const;
export const OFPGMFC = {
  GROUP_EXISTS: 0,
  INVALID_GROUP: 1,
  WEIGHT_UNSUPPORTED: 2,
  OUT_OF_GROUPS: 3,
  OUT_OF_BUCKETS: 4,
  CHAINING_UNSUPPORTED: 5,
  WATCH_UNSUPPORTED: 6,
  LOOP: 7,
  UNKNOWN_GROUP: 8,
  CHAINED_GROUP: 9,
  BAD_TYPE: 10,
  BAD_COMMAND: 11,
  BAD_BUCKET: 12,
  BAD_WATCH: 13,
  EPERM: 14,
} as const;
export const OFPPMFC = { BAD_PORT: 0, BAD_HW_ADDR: 1, BAD_CONFIG: 2, BAD_ADVERTISE: 3, EPERM: 4 } as const;
export const OFPTMFC = { BAD_TABLE: 0, BAD_CONFIG: 1, EPERM: 2 } as const;
export const OFPQOFC = { BAD_PORT: 0, BAD_QUEUE: 1, EPERM: 2 } as const;
export const OFPSCFC = { BAD_FLAGS: 0, BAD_LEN: 1, EPERM: 2 } as const;
export const OFPRRFC = { STALE: 0, UNSUP: 1, BAD_ROLE: 2 } as const;
export const OFPMMFC = {
  UNKNOWN: 0,
  METER_EXISTS: 1,
  INVALID_METER: 2,
  UNKNOWN_METER: 3,
  BAD_COMMAND: 4,
  BAD_FLAGS: 5,
  BAD_RATE: 6,
  BAD_BURST: 7,
  BAD_BAND: 8,
  BAD_BAND_VALUE: 9,
  OUT_OF_METERS: 10,
  OUT_OF_BANDS: 11,
} as const;
export const OFPTFFC = { BAD_TABLE: 0, BAD_METADATA: 1, BAD_TYPE: 2, BAD_LEN: 3, BAD_ARGUMENT: 4, EPERM: 5 } as const;

/** Error type number → [type name, code-prefix, code table]. Used for names. */
export const ERROR_TABLES: ReadonlyArray<readonly [number, string, string, Readonly<Record<string, number>>]> = [
  [OFPET.HELLO_FAILED, 'OFPET_HELLO_FAILED', 'OFPHFC_', OFPHFC],
  [OFPET.BAD_REQUEST, 'OFPET_BAD_REQUEST', 'OFPBRC_', OFPBRC],
  [OFPET.BAD_ACTION, 'OFPET_BAD_ACTION', 'OFPBAC_', OFPBAC],
  [OFPET.BAD_INSTRUCTION, 'OFPET_BAD_INSTRUCTION', 'OFPBIC_', OFPBIC],
  [OFPET.BAD_MATCH, 'OFPET_BAD_MATCH', 'OFPBMC_', OFPBMC],
  [OFPET.FLOW_MOD_FAILED, 'OFPET_FLOW_MOD_FAILED', 'OFPFMFC_', OFPFMFC],
  [OFPET.GROUP_MOD_FAILED, 'OFPET_GROUP_MOD_FAILED', 'OFPGMFC_', OFPGMFC],
  [OFPET.PORT_MOD_FAILED, 'OFPET_PORT_MOD_FAILED', 'OFPPMFC_', OFPPMFC],
  [OFPET.TABLE_MOD_FAILED, 'OFPET_TABLE_MOD_FAILED', 'OFPTMFC_', OFPTMFC],
  [OFPET.QUEUE_OP_FAILED, 'OFPET_QUEUE_OP_FAILED', 'OFPQOFC_', OFPQOFC],
  [OFPET.SWITCH_CONFIG_FAILED, 'OFPET_SWITCH_CONFIG_FAILED', 'OFPSCFC_', OFPSCFC],
  [OFPET.ROLE_REQUEST_FAILED, 'OFPET_ROLE_REQUEST_FAILED', 'OFPRRFC_', OFPRRFC],
  [OFPET.METER_MOD_FAILED, 'OFPET_METER_MOD_FAILED', 'OFPMMFC_', OFPMMFC],
  [OFPET.TABLE_FEATURES_FAILED, 'OFPET_TABLE_FEATURES_FAILED', 'OFPTFFC_', OFPTFFC],
];
