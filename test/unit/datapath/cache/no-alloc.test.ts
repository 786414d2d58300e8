// The lookup path must allocate nothing. Each path (EMC hit, megaflow hit,
// miss) runs 2M lookups; one 16-byte object per lookup would be 32 MB, which
// shows either as young-generation GCs (scavenges) or as heap growth. The
// bound on growth leaves room for V8's own noise (~150-300 KB seen for an
// empty loop); major GCs may finish earlier incremental marking, so they do
// not count.
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FlowCache } from '../../../../datapath/cache/flow-cache.js';
import { hashKey } from '../../../../datapath/flow/hash.js';
import { W_ETH_TYPE, W_IN_PORT, W_NW_DST, W_TP_PORTS, newKey } from '../../../../datapath/flow/key.js';

function build(emcEntries: number): FlowCache<number> {
  const fc = new FlowCache<number>({ emcEntries });
  for (let m = 0; m < 10; m++) {
    const mask = newKey();
    mask[W_IN_PORT] = 0xffffffff;
    mask[W_ETH_TYPE] = 0xffff;
    mask[W_NW_DST] = (0xffffffff << (31 - m)) >>> 0;
    for (let f = 0; f < 50; f++) {
      const k = newKey();
      k[W_IN_PORT] = m;
      k[W_ETH_TYPE] = 0x0800;
      k[W_NW_DST] = (f << 24) >>> 0;
      fc.put(k, mask, m * 100 + f);
    }
  }
  return fc;
}

function packets(n: number, port: (i: number) => number): { keys: Uint32Array[]; hashes: Int32Array } {
  const keys: Uint32Array[] = [];
  for (let i = 0; i < n; i++) {
    const k = newKey();
    k[W_IN_PORT] = port(i);
    k[W_ETH_TYPE] = 0x0800;
    k[W_NW_DST] = ((i % 50) << 24) >>> 0;
    k[W_TP_PORTS] = i;
    keys.push(k);
  }
  return { keys, hashes: Int32Array.from(keys, (k) => hashKey(k, 0)) };
}

async function allocationSigns(fc: FlowCache<number>, keys: Uint32Array[], hashes: Int32Array, batched = false) {
  const mask = keys.length - 1;
  // Batches of 32 consecutive packets, prepared outside the measured loop.
  const batches: Uint32Array[][] = [];
  const batchHashes: Int32Array[] = [];
  for (let b = 0; b < keys.length; b += 32) {
    batches.push(keys.slice(b, b + 32));
    batchHashes.push(hashes.slice(b, b + 32));
  }
  const out: (ReturnType<FlowCache<number>['lookup']>)[] = [];
  const run = (n: number): number => {
    let sink = 0;
    if (batched) {
      for (let i = 0; i < n; i += 32) {
        const b = (i >> 5) % batches.length;
        sink = (sink + fc.lookupBatch(batches[b], (b & 1) === 0 ? batchHashes[b] : null, 32, out)) | 0;
      }
      return sink;
    }
    for (let i = 0; i < n; i++) {
      const j = i & mask;
      const f = (i & 1) === 0 ? fc.lookup(keys[j], hashes[j]) : fc.lookup(keys[j]);
      if (f !== null) sink = (sink + f.id) | 0;
    }
    return sink;
  };
  run(1_000_000); // warm up: optimized code (its code objects live on the heap)
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const gcs: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 20));
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  run(batched ? 6_000_000 : 2_000_000); // batched: also catch one small object per batch
  const t1 = performance.now();
  const heapGrowth = process.memoryUsage().heapUsed - heap0;
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  const scavenges = gcs.filter(
    (e) =>
      e.startTime >= t0 &&
      e.startTime <= t1 &&
      (e.detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MINOR,
  ).length;
  return { scavenges, heapGrowth };
}

describe('lookup allocation', () => {
  it('EMC hits allocate nothing', async () => {
    const fc = build(8192);
    const { keys, hashes } = packets(512, (i) => i % 10);
    const signs = await allocationSigns(fc, keys, hashes);
    expect(fc.emcHits).toBeGreaterThan(2_000_000);
    expect(signs.scavenges).toBe(0);
    expect(signs.heapGrowth).toBeLessThan(2 * 1024 * 1024);
  });

  it('megaflow hits allocate nothing (EMC off)', async () => {
    const fc = build(0);
    const { keys, hashes } = packets(512, (i) => i % 10);
    const signs = await allocationSigns(fc, keys, hashes);
    expect(fc.megaflowHits).toBeGreaterThan(2_000_000);
    expect(signs.scavenges).toBe(0);
    expect(signs.heapGrowth).toBeLessThan(2 * 1024 * 1024);
  });

  it('megaflow hits through a churning EMC and misses allocate nothing', async () => {
    const fc = build(256);
    const { keys, hashes } = packets(4096, (i) => i % 12); // ports 10, 11 miss
    const signs = await allocationSigns(fc, keys, hashes);
    expect(fc.misses).toBeGreaterThan(400_000);
    expect(fc.megaflowHits).toBeGreaterThan(2_000_000);
    expect(signs.scavenges).toBe(0);
    expect(signs.heapGrowth).toBeLessThan(2 * 1024 * 1024);
  });

  it('lookupBatch (EMC hits, megaflow hits, misses) allocates nothing', async () => {
    const fc = build(256);
    const { keys, hashes } = packets(4096, (i) => i % 12);
    const signs = await allocationSigns(fc, keys, hashes, true);
    expect(fc.emcHits).toBeGreaterThan(0);
    expect(fc.misses).toBeGreaterThan(400_000);
    expect(signs.scavenges).toBe(0);
    expect(signs.heapGrowth).toBeLessThan(1024 * 1024);
  });
});
