// The clock and timers connmgr runs on. Production uses the monotonic clock
// and Node's timers; tests inject a manual clock so probes, backoff and rate
// limits are exercised in fake time instead of seconds of sleep.

export type TimerHandle = unknown;

export interface Timers {
  /** Milliseconds on a monotonic clock (only differences matter). */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** One restartable timer; `arm()` replaces any pending expiry. */
export class OneShotTimer {
  private handle: TimerHandle | undefined;

  constructor(
    private readonly timers: Timers,
    private readonly fn: () => void,
  ) {}

  get armed(): boolean {
    return this.handle !== undefined;
  }

  arm(delayMs: number): void {
    this.cancel();
    this.handle = this.timers.setTimeout(() => {
      this.handle = undefined;
      this.fn();
    }, Math.max(0, delayMs));
  }

  cancel(): void {
    if (this.handle !== undefined) {
      this.timers.clearTimeout(this.handle);
      this.handle = undefined;
    }
  }
}
