// datapath/packet: structured, zero-copy header codecs, builders and checksums
// for tests, emulated guests, actions and tools (not the per-packet hot path,
// which is datapath/flow/extract.ts).

export * from './addr.js';
export * from './arp.js';
export * from './cfm.js';
export * from './checksum.js';
export * from './crc32c.js';
export * from './decode-issue.js';
export * from './errors.js';
export * from './ethernet.js';
export * from './frame.js';
export * from './frame-checksums.js';
export * from './icmp.js';
export * from './icmpv6.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './mpls.js';
export * from './pseudo-header.js';
export * from './sctp.js';
export * from './slow.js';
export * from './tcp.js';
export * from './udp.js';
