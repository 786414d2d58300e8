// ofp_port (7.2.1): the 64-byte port description used by PORT_STATUS and the
// PORT_DESC multipart reply.
import { WireReader, WireWriter } from './wire.js';

export const OFP_PORT_LEN = 64;
export const OFP_MAX_PORT_NAME_LEN = 16;

export interface OfpPort {
  portNo: number;
  /** 6 bytes. */
  hwAddr: Buffer;
  name: string;
  /** OFPPC_* bits. */
  config: number;
  /** OFPPS_* bits. */
  state: number;
  /** OFPPF_* bits. */
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeedKbps: number;
  maxSpeedKbps: number;
}

export function decodePort(r: WireReader): OfpPort {
  const portNo = r.u32('port_no');
  r.skip(4, 'pad');
  const hwAddr = Buffer.from(r.bytes(6, 'hw_addr'));
  r.skip(2, 'pad');
  const name = r.str(OFP_MAX_PORT_NAME_LEN, 'name');
  return {
    portNo,
    hwAddr,
    name,
    config: r.u32('config'),
    state: r.u32('state'),
    curr: r.u32('curr'),
    advertised: r.u32('advertised'),
    supported: r.u32('supported'),
    peer: r.u32('peer'),
    currSpeedKbps: r.u32('curr_speed'),
    maxSpeedKbps: r.u32('max_speed'),
  };
}

export function encodePort(w: WireWriter, p: OfpPort): void {
  w.u32(p.portNo).zeros(4).bytes(hwAddr6(p.hwAddr)).zeros(2).str(p.name, OFP_MAX_PORT_NAME_LEN);
  w.u32(p.config).u32(p.state).u32(p.curr).u32(p.advertised).u32(p.supported).u32(p.peer);
  w.u32(p.currSpeedKbps).u32(p.maxSpeedKbps);
}

/** Exactly 6 bytes (shorter is zero-filled, longer truncated). */
export function hwAddr6(b: Buffer): Buffer {
  if (b.length === 6) return b;
  const out = Buffer.alloc(6);
  b.copy(out, 0, 0, 6);
  return out;
}
