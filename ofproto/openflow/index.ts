// ofproto/openflow: the OpenFlow 1.3 wire codec. One protocol family per
// file (like OVS's ofp-*.c); this module re-exports the public surface.
// Entry points: MessageFramer (TCP stream -> messages), decodeMessage /
// encodeMessage (bytes <-> OfpMessage), OfpError (protocol errors).
export * from './constants.js';
export * from './errors.js';
export * from './header.js';
export * from './codec.js';
export * from './oxm.js';
export * from './match.js';
export * from './actions.js';
export * from './instructions.js';
export * from './hello.js';
export * from './error-msg.js';
export * from './echo.js';
export * from './experimenter.js';
export * from './features.js';
export * from './config.js';
export * from './packet-in.js';
export * from './flow-removed.js';
export * from './port.js';
export * from './port-status.js';
export * from './packet-out.js';
export * from './flow-mod.js';
export * from './group-mod.js';
export * from './port-mod.js';
export * from './table-mod.js';
export * from './multipart.js';
export * from './barrier.js';
export * from './queue-config.js';
export * from './role.js';
export * from './async-config.js';
export * from './meter-mod.js';
export { WireReader, WireWriter } from './wire.js';
