// MAC learning table for the NORMAL action (OVS lib/mac-learning.c): one
// entry per (VLAN, MAC) → OpenFlow port, aged out after agingSec and
// bounded to maxEntries with least-recently-used eviction. A Map keeps
// insertion order, so touching an entry (delete + set) makes it the newest.

export const DEFAULT_AGING_SEC = 300;
export const DEFAULT_MAX_MAC_ENTRIES = 2048;

export interface MacEntry {
  vlan: number;
  mac: string;
  port: number;
  /** Last time the MAC was seen as a source (ms). */
  usedMs: number;
}

export interface MacLearningOptions {
  agingSec?: number;
  maxEntries?: number;
  clock?: () => number;
}

function fmtMac(hi: number, lo: number): string {
  const h = (hi & 0xffff).toString(16).padStart(4, '0') + (lo >>> 0).toString(16).padStart(8, '0');
  return h.replace(/(..)(?!$)/g, '$1:');
}

export class MacLearning {
  agingSec: number;
  maxEntries: number;
  private readonly clock: () => number;
  private readonly table = new Map<string, MacEntry>();
  /** Entries evicted because the table was full. */
  evictions = 0;

  constructor(o: MacLearningOptions = {}) {
    this.agingSec = o.agingSec ?? DEFAULT_AGING_SEC;
    this.maxEntries = o.maxEntries ?? DEFAULT_MAX_MAC_ENTRIES;
    this.clock = o.clock ?? Date.now;
  }

  get count(): number {
    return this.table.size;
  }

  /** Record that (vlan, mac) was seen on port. Returns true if the table changed (new entry or a move). */
  learn(vlan: number, hi: number, lo: number, port: number): boolean {
    const key = `${vlan}/${hi}/${lo}`;
    const now = this.clock();
    const e = this.table.get(key);
    if (e !== undefined && now - e.usedMs < this.agingSec * 1000) {
      this.table.delete(key);
      this.table.set(key, e);
      e.usedMs = now;
      if (e.port === port) return false;
      e.port = port;
      return true;
    }
    if (e !== undefined) this.table.delete(key);
    while (this.table.size >= this.maxEntries) {
      const oldest = this.table.keys().next().value as string;
      this.table.delete(oldest);
      this.evictions++;
    }
    this.table.set(key, { vlan, mac: fmtMac(hi, lo), port, usedMs: now });
    return true;
  }

  /** The port (vlan, mac) was learned on, or null (unknown or aged out). */
  lookup(vlan: number, hi: number, lo: number): number | null {
    const e = this.table.get(`${vlan}/${hi}/${lo}`);
    if (e === undefined) return null;
    if (this.clock() - e.usedMs >= this.agingSec * 1000) return null;
    return e.port;
  }

  /** Remove aged entries; returns how many. */
  expire(): number {
    const now = this.clock();
    let n = 0;
    for (const [k, e] of this.table) {
      if (now - e.usedMs >= this.agingSec * 1000) {
        this.table.delete(k);
        n++;
      }
    }
    return n;
  }

  /** Forget every MAC learned on `port` (port deleted or reconfigured). */
  flushPort(port: number): number {
    let n = 0;
    for (const [k, e] of this.table) {
      if (e.port === port) {
        this.table.delete(k);
        n++;
      }
    }
    return n;
  }

  flush(): void {
    this.table.clear();
  }

  /** Entries, oldest first (for fdb/show). */
  entries(): MacEntry[] {
    return [...this.table.values()].map((e) => ({ ...e }));
  }
}
