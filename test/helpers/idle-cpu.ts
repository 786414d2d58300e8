// CPU share of this process over a few consecutive wall-clock windows.
//
// One window can catch a major GC of the worker's heap or vitest's own reporting
// (tens of ms, i.e. several % of a 1 s window) that has nothing to do with the
// ports under test. A port that spins or wakes on a timer costs CPU in *every*
// window, so tests assert on the quietest window and on deterministic wake-up
// counters, and print all windows.
export async function idleCpuWindows(windows: number, ms: number): Promise<number[]> {
  const out: number[] = [];
  for (let w = 0; w < windows; w++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, ms));
    const c = process.cpuUsage(c0);
    const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
    out.push((100 * (c.user + c.system)) / wallUs);
  }
  return out;
}

export const fmtPct = (xs: number[]): string => xs.map((x) => `${x.toFixed(3)}%`).join(' / ');
