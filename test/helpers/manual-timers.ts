// A manual clock implementing connmgr's Timers: time moves only by advance(),
// which fires due timers in order (timers they set are honoured too).
import type { TimerHandle, Timers } from '../../ofproto/connmgr/timers.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

export class ManualTimers implements Timers {
  private t = 0;
  private nextId = 1;
  private pending = new Map<number, Pending>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { id, at: this.t + Math.max(0, delayMs), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** Timers still pending (a stopped component should leave none). */
  get size(): number {
    return this.pending.size;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending.values()) if (p.at <= end && (!next || p.at < next.at || (p.at === next.at && p.id < next.id))) next = p;
      if (!next) break;
      this.pending.delete(next.id);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}
