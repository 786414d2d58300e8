// What the socket-backed port types (stream, dgram) share: MAC/MTU option
// parsing, an injectable timer source (reconnect backoff is tested in fake
// time) and a log sink for the few lines a port prints about its peer.

import { parseMac } from '../packet/addr.js';
import { DpifError } from '../dpif-error.js';

export interface PortTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: PortTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type PortLog = (line: string) => void;

export const stderrLog: PortLog = (line) => process.stderr.write(`tsvs: ${line}\n`);

/** Default MAC of a socket port: locally administered, from a hash of its name (stable across restarts). */
export function macOption(name: string, text: string | undefined): Uint8Array {
  if (text !== undefined) {
    try {
      return parseMac(text);
    } catch {
      throw new DpifError('EINVAL', `${name}: options:mac "${text}" is not a MAC address`);
    }
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return Uint8Array.of(0x02, 0x00, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff);
}

export function mtuOption(name: string, mtu: number | undefined, max: number): number {
  const v = mtu ?? 1500;
  if (!Number.isInteger(v) || v < 68 || v > max) throw new DpifError('EINVAL', `${name}: mtu ${mtu} is not 68..${max}`);
  return v;
}
