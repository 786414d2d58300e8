// TEMPORARY: a minimal MAC-learning switch standing in for ofproto's NORMAL
// action until ofproto (OpenFlow tables, xlate, revalidation) is wired into
// bridges. It does only this: learn source MACs per bridge, send to the learned
// port, flood otherwise. No VLANs, no OpenFlow, no fail-mode semantics, no
// aging; a newly learned or moved MAC flushes the bridge's megaflows (its
// whole "revalidation"). Delete this file when ofproto lands.

import type { DpAction } from '../datapath/actions/types.js';
import type { Datapath, UpcallHandler, UpcallResult } from '../datapath/dpif.js';
import { KEY_WORDS, W_ETH_DST_HI, W_ETH_DST_LO, W_ETH_SRC_HI, W_ETH_SRC_LO, W_IN_PORT, W_RECIRC_ID } from '../datapath/flow/key.js';

/** Bounded like OVS's default mac-table-size. */
const MAC_TABLE_SIZE = 8192;
/** Remembered megaflow actions (for dump-flows) before everything is flushed. */
const INSTALLED_LIMIT = 65536;

export class NormalSwitch implements UpcallHandler {
  /** MAC (48 bits as a number) -> datapath port. */
  private readonly macs = new Map<number, number>();
  private readonly mask: Uint32Array;
  /** Actions of the megaflows we installed, by masked key, for dpctl/dump-flows. */
  private readonly installed = new Map<string, DpAction[]>();
  learned = 0;
  flushes = 0;

  constructor(private readonly dp: Datapath) {
    const m = new Uint32Array(KEY_WORDS);
    m[W_IN_PORT] = 0xffffffff;
    m[W_RECIRC_ID] = 0xffffffff;
    m[W_ETH_DST_HI] = 0xffff;
    m[W_ETH_DST_LO] = 0xffffffff;
    m[W_ETH_SRC_HI] = 0xffff;
    m[W_ETH_SRC_LO] = 0xffffffff;
    this.mask = m;
  }

  miss(inPort: number, key: Uint32Array): UpcallResult {
    const srcHi = key[W_ETH_SRC_HI] & 0xffff;
    const src = srcHi * 0x100000000 + key[W_ETH_SRC_LO];
    if ((srcHi & 0x0100) === 0 && this.macs.get(src) !== inPort) {
      if (!this.macs.has(src) && this.macs.size >= MAC_TABLE_SIZE) this.macs.delete(this.macs.keys().next().value!);
      this.macs.set(src, inPort);
      this.learned++;
      this.flush(); // flows that flooded toward this MAC are stale now
    }
    const dstHi = key[W_ETH_DST_HI] & 0xffff;
    const dst = dstHi * 0x100000000 + key[W_ETH_DST_LO];
    const out = (dstHi & 0x0100) === 0 ? this.macs.get(dst) : undefined;
    let actions: DpAction[];
    if (out !== undefined && this.dp.port(out) !== undefined) {
      actions = out === inPort ? [] : [{ type: 'output', port: out }];
    } else {
      actions = this.dp.ports().filter((p) => p.portNo !== inPort).map((p) => ({ type: 'output', port: p.portNo }));
    }
    if (this.installed.size >= INSTALLED_LIMIT) this.flush(); // bounded like the datapath's flow table
    this.installed.set(maskedKeyId(key, this.mask), actions);
    return { actions, mask: this.mask };
  }

  /** The actions we gave the megaflow with this (masked) key and mask, if it is ours. */
  actionsOf(key: Uint32Array, mask: Uint32Array): DpAction[] | undefined {
    return this.installed.get(maskedKeyId(key, mask));
  }

  /** Forget everything learned about a port (it went away). */
  portRemoved(portNo: number): void {
    for (const [mac, p] of this.macs) if (p === portNo) this.macs.delete(mac);
    this.flush();
  }

  flush(): void {
    this.dp.flowFlush();
    this.installed.clear();
    this.flushes++;
  }

  macTable(): Array<{ port: number; mac: string }> {
    return [...this.macs].map(([mac, port]) => ({ port, mac: mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:') }));
  }
}

function maskedKeyId(key: Uint32Array, mask: Uint32Array): string {
  let s = '';
  for (let i = 0; i < KEY_WORDS; i++) if (mask[i] !== 0) s += `${i}:${(key[i] & mask[i]) >>> 0},`;
  return s;
}
