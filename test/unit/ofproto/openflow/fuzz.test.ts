// Fuzz: mutated corpus messages (bit flips, truncation, length-field
// changes, byte insertions) either decode or throw an OfpError; never any
// other exception, never a hang. What decodes re-encodes and decodes equal.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type OfpMessage } from '../../../../ofproto/openflow/codec.js';
import { OfpError } from '../../../../ofproto/openflow/errors.js';
import { loadCorpus, OF_CAPTURES } from '../../../helpers/of-corpus.js';
import { sampleMessages } from '../../../helpers/of-samples.js';

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ITERATIONS = 100_000;
let seeds: Buffer[] = [];

beforeAll(async () => {
  const msgs: Buffer[] = [];
  for (const c of OF_CAPTURES) msgs.push(...(await loadCorpus(c.file, c.port)).messages.map((m) => m.bytes));
  // Distinct messages only (72 hellos are nearly the same), plus the hand-built ones.
  const seen = new Set<string>();
  for (const b of [...msgs, ...sampleMessages().map(encodeMessage)]) {
    const k = b.toString('hex');
    if (!seen.has(k)) {
      seen.add(k);
      seeds.push(b);
    }
  }
});

function mutate(src: Buffer, rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  let b = Buffer.from(src);
  const rounds = 1 + int(3);
  for (let r = 0; r < rounds; r++) {
    switch (int(6)) {
      case 0: {
        // Bit flips.
        const flips = 1 + int(4);
        for (let i = 0; i < flips; i++) {
          const at = int(b.length);
          b[at]! ^= 1 << int(8);
        }
        break;
      }
      case 1: {
        // Truncation, with or without fixing the header length.
        b = b.subarray(0, int(b.length + 1));
        if (b.length >= 4 && rnd() < 0.7) b.writeUInt16BE(b.length & 0xffff, 2);
        break;
      }
      case 2: {
        // Header length field changes.
        if (b.length >= 4) b.writeUInt16BE((rnd() < 0.5 ? b.length + int(17) - 8 : int(0x10000)) & 0xffff, 2);
        break;
      }
      case 3: {
        // An inner 16-bit length/type field (any even offset past the header).
        if (b.length >= 12) {
          const at = 8 + 2 * int((b.length - 9) >> 1);
          const choices = [0, 4, 8, 16, 0xffff, b.readUInt16BE(at) + 8, b.readUInt16BE(at) - 8, int(0x10000)];
          b.writeUInt16BE(choices[int(choices.length)]! & 0xffff, at);
        }
        break;
      }
      case 4: {
        // Byte insertion, header length fixed up most of the time.
        const n = 1 + int(16);
        const at = int(b.length + 1);
        const ins = Buffer.alloc(n);
        for (let i = 0; i < n; i++) ins[i] = int(256);
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        if (b.length >= 4 && b.length <= 0xffff && rnd() < 0.8) b.writeUInt16BE(b.length, 2);
        break;
      }
      default: {
        // Random byte overwrite near the start (header, fixed fields).
        const at = int(Math.min(b.length, 48));
        if (b.length > 0) b[at] = int(256);
      }
    }
  }
  return b;
}

describe('fuzzed decoding', () => {
  it(`${ITERATIONS} mutated messages: decode or OfpError, never anything else`, () => {
    const rnd = prng(0x0f13_2026);
    let decoded = 0;
    let rejected = 0;
    const codes = new Map<string, number>();
    const started = Date.now();
    for (let i = 0; i < ITERATIONS; i++) {
      const src = seeds[Math.floor(rnd() * seeds.length)]!;
      const buf = mutate(src, rnd);
      let m: OfpMessage;
      try {
        m = decodeMessage(buf);
      } catch (e) {
        if (!(e instanceof OfpError) || e.cause !== undefined) {
          throw new Error(`iteration ${i}: ${String(e)} (cause ${String((e as Error).cause)}) on ${buf.toString('hex')}`);
        }
        rejected++;
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        continue;
      }
      decoded++;
      // Whatever decodes must encode, and be a fixed point from then on
      // (byte comparison: a deep equal per iteration would dominate the run).
      let once: Buffer;
      let twice: Buffer;
      try {
        once = encodeMessage(m);
        twice = encodeMessage(decodeMessage(once));
      } catch (e) {
        throw new Error(`iteration ${i}: re-encode/decode failed: ${String(e)} on ${buf.toString('hex')}`);
      }
      if (!once.equals(twice)) throw new Error(`iteration ${i}: not a fixed point: ${buf.toString('hex')}`);
    }
    const elapsedMs = Date.now() - started;
    if (process.env['FUZZ_STATS']) console.log({ decoded, rejected, elapsedMs, codes: Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])) });
    expect(decoded + rejected).toBe(ITERATIONS);
    // Both outcomes are exercised, and a spread of error codes is reached.
    expect(decoded).toBeGreaterThan(ITERATIONS / 20);
    expect(rejected).toBeGreaterThan(ITERATIONS / 5);
    expect(codes.size).toBeGreaterThan(15);
    expect(elapsedMs).toBeLessThan(15_000);
  });
});
