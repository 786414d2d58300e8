// The offload's persistent `tc -batch` reader against the real tc: answers
// in order, a failing command does not end the child, and a missing binary
// says so. Needs iproute2's tc (no root: it only reads).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TcBatch } from '../../datapath/offload/tc-batch.js';
import { findTc } from '../../datapath/offload/tc-runner.js';

let tcMissing = '';
try {
  execFileSync(findTc(), ['-V'], { stdio: 'ignore' });
} catch {
  tcMissing = 'tc (iproute2) not installed';
}
if (tcMissing) console.warn(`[offload-tc-batch tests] skipped: ${tcMissing}`);

describe.skipIf(tcMissing !== '')('TcBatch: one tc -batch child for statistics reads', () => {
  it('answers queries in order, survives a failing one, and restarts after close()', async () => {
    const b = new TcBatch(findTc());
    try {
      const [a, bad, c] = await Promise.all([
        b.query(['filter', 'show', 'dev', 'lo', 'ingress']),
        b.query(['filter', 'show', 'dev', 'tsvs-no-such-dev', 'ingress']),
        b.query(['filter', 'show', 'dev', 'lo', 'egress']),
      ]);
      const all = JSON.stringify([a, bad, c]);
      expect(a, all).toMatchObject({ ok: true, missing: false });
      expect(JSON.parse(a.stdout)).toBeInstanceOf(Array);
      expect(bad.ok).toBe(false);
      expect(c.ok).toBe(true);
      // A qdisc list has the sentinel's shape: refused.
      expect((await b.query(['qdisc', 'show', 'dev', 'lo'])).error).toMatch(/qdisc/);
      const again = await b.query(['filter', 'show', 'dev', 'lo', 'egress']);
      expect(again.ok, JSON.stringify(again)).toBe(true);
      expect(b.spawns).toBe(1);
      b.close();
      const after = await b.query(['filter', 'show', 'dev', 'lo', 'ingress']);
      expect(after.ok, JSON.stringify(after)).toBe(true);
      expect(b.spawns).toBe(2);
      expect((await b.query(['filter', 'show', 'dev', 'lo ingress'])).error).toMatch(/quoting/);
    } finally {
      b.close();
    }
  });

  it('a missing binary: every query fails with missing set', async () => {
    const b = new TcBatch('/nonexistent/tc');
    const r = await b.query(['filter', 'show', 'dev', 'lo', 'ingress']);
    expect(r).toMatchObject({ ok: false, missing: true });
    expect((await b.query(['filter', 'show', 'dev', 'lo', 'ingress'])).missing).toBe(true);
    b.close();
  });
});
