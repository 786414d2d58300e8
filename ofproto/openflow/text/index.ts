// ofproto/openflow/text: the ovs-ofctl text syntax (flows, actions, groups,
// meters) parsed into and printed from the OpenFlow 1.3 codec's messages.
export * from './syntax-error.js';
export { parseKeyValues, type KeyValue } from './key-value.js';
export { formatPort, parsePort, formatIpv6, formatMac } from './field-values.js';
export { FlowMatch, formatFlowMatch, matchToOxm, oxmToMatch } from './match-syntax.js';
export * from './action-syntax.js';
export * from './flow-syntax.js';
export * from './group-syntax.js';
export * from './meter-syntax.js';
export * from './message-format.js';
export * from './packet-out-syntax.js';
