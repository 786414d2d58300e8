// `npm start` needs nothing else: with no options and no TSVS_* variables the
// daemon and the CLIs meet under ./var of the working directory.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO } from '../helpers/daemon.js';

describe('defaults under ./var', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'tsvs-defaults-'));
  const env = { ...process.env };
  delete env['TSVS_RUNDIR'];
  delete env['TSVS_DBDIR'];
  const cli = (tool: string, ...args: string[]) => spawnSync(process.execPath, [join(REPO, 'bin', `${tool}.js`), ...args], { cwd, env, encoding: 'utf8' });

  beforeAll(() => ensureBuilt(), 120_000);
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('daemon, vsctl and appctl find each other with no configuration', async () => {
    const daemon = spawn(process.execPath, [join(REPO, 'dist', 'vswitchd', 'main.js')], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        let log = '';
        daemon.stderr!.on('data', (d: Buffer) => {
          log += d.toString();
          if (log.includes(' ready: ')) resolve();
        });
        daemon.once('exit', (c) => reject(new Error(`daemon exited ${c}: ${log}`)));
      });
      expect(existsSync(join(cwd, 'var', 'run', 'tsvs-vswitchd.ctl'))).toBe(true);
      expect(existsSync(join(cwd, 'var', 'db', 'conf.journal'))).toBe(true);
      expect(cli('tsvs-vsctl', 'add-br', 'br0').status).toBe(0);
      expect(cli('tsvs-vsctl', 'list-br').stdout).toBe('br0\n');
      expect(cli('tsvs-appctl', 'version').stdout).toMatch(/^tsvs-vswitchd \d+\.\d+\.\d+\n$/);
    } finally {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGINT');
      await exited;
    }
    expect(daemon.exitCode).toBe(0);
  });
});
