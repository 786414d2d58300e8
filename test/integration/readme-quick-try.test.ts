// README's "Quick try" block, run as written against a daemon in a temp dir:
// every `npx tsvs-…` line becomes `node bin/tsvs-….js` with TSVS_RUNDIR set
// (what `npx` resolves to), `npm start &` is the DaemonProcess. Each line must
// exit 0, and the outputs the README promises are checked, so the README
// stays true.

import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, REPO } from '../helpers/daemon.js';

function quickTryLines(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const m = /Quick try:\s*\n```sh\n([\s\S]*?)\n```/.exec(readme);
  if (!m) throw new Error('README.md: no "Quick try:" sh block');
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '');
}

function sh(line: string, rundir: string): Promise<{ code: number | null; out: string }> {
  const cmd = line.replace(/\bnpx (tsvs-[a-z]+)/g, (_m, tool: string) => `"${process.execPath}" "${join(REPO, 'bin', `${tool}.js`)}"`);
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', cmd], { cwd: REPO, env: { ...process.env, TSVS_RUNDIR: rundir } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${line}: no exit within 30 s`));
    }, 30_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('README quick try', () => {
  const d = new DaemonProcess();
  beforeAll(async () => {
    ensureBuilt();
    await d.start(['--metrics-address=off']);
  }, 150_000);
  afterAll(async () => {
    await d.kill('SIGTERM');
    rmSync(d.dir, { recursive: true, force: true });
  });

  it('every line works as written', async () => {
    const lines = quickTryLines();
    expect(lines[0]).toMatch(/^npm start &/);
    const outs: string[] = [];
    for (const line of lines.slice(1)) {
      if (line === 'npx tsvs-appctl exit') continue; // afterAll stops the daemon
      const r = await sh(line, d.rundir);
      expect(r.code, `${line}\n${r.out}`).toBe(0);
      outs.push(`$ ${line}\n${r.out}`);
    }
    const all = outs.join('\n');
    // Both pings (NORMAL, then the two flows of fail_mode secure) get every reply.
    expect(all.match(/3 packets transmitted, 3 received, 0% packet loss/g)?.length).toBe(2);
    expect(all).toMatch(/in_port=1 actions=output:2/);
    expect(all).toMatch(/group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2/);
    expect(all).toMatch(/meter=1 pktps bands=\s*\ntype=drop rate=100/);
    expect(all).toMatch(/Datapath actions: 2/);
    expect(all).toMatch(/sent 2000\/2000, received 2000/);
  }, 120_000);
});
