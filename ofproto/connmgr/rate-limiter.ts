// Token bucket for packet-ins per controller connection, like OVS's
// controller_rate_limit / controller_burst_limit (ovs-vswitchd.conf.db(5)).
// Unlike OVS's pinsched, which queues per port, excess packet-ins are dropped
// and counted: the datapath keeps no per-controller backlog.
import type { Timers } from './timers.js';

export interface RateLimit {
  /** Sustained packets per second. OVS default 1000. */
  ratePerSec: number;
  /** Bucket depth in packets. Default 100 (OVS defaults to rate/4 when unset). */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { ratePerSec: 1000, burst: 100 };

export class TokenBucket {
  private tokens: number;
  private lastMs: number;
  /** Packets refused since creation. */
  dropped = 0;
  /** Packets let through since creation. */
  passed = 0;

  constructor(
    readonly limit: RateLimit,
    private readonly timers: Timers,
  ) {
    if (!(limit.ratePerSec > 0) || !(limit.burst >= 1)) {
      throw new RangeError(`rate limit needs ratePerSec > 0 and burst >= 1 (got ${limit.ratePerSec}/s burst ${limit.burst})`);
    }
    this.tokens = limit.burst;
    this.lastMs = timers.now();
  }

  /** Takes one token; false (and counted as a drop) when the bucket is empty. */
  take(): boolean {
    const now = this.timers.now();
    const elapsedMs = now - this.lastMs;
    if (elapsedMs > 0) {
      this.tokens = Math.min(this.limit.burst, this.tokens + (elapsedMs * this.limit.ratePerSec) / 1000);
      this.lastMs = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.passed++;
      return true;
    }
    this.dropped++;
    return false;
  }
}
