// Crash safety of the daemon: SIGKILL tsvs-vswitchd at seeded moments while
// clients have transactions in flight, 1,000 transactions in all; after each
// restart every transaction the daemon acknowledged is there.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient } from '../../ctl/rpc-client.js';
import { DaemonProcess, ensureBuilt, runTool } from '../helpers/daemon.js';
import { Prng } from '../helpers/prng.js';

const TOTAL = 1000;
const IN_FLIGHT = 8;

async function externalIds(client: RpcClient): Promise<Map<string, string>> {
  const rows = (await client.request({ list: { table: 'Open_vSwitch' } })).result as Array<{ external_ids: Map<string, string> }>;
  return rows[0].external_ids;
}

describe('tsvs-vswitchd crash safety', () => {
  const d = new DaemonProcess();
  beforeAll(() => ensureBuilt(), 120_000);
  afterAll(async () => {
    await d.kill('SIGKILL');
    rmSync(d.dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged transaction across SIGKILLs', async () => {
    const rng = new Prng(0x7a5c0de);
    const acked = new Set<number>();
    const ackedViaVsctl: string[] = [];
    let sent = 0;
    let kills = 0;
    while (sent < TOTAL) {
      await d.start();
      let client = await RpcClient.connect(d.socket);
      const have = await externalIds(client);
      for (const i of acked) expect(have.get(`k${i}`), `acknowledged transaction k${i} lost after kill ${kills}`).toBe(String(i));
      for (const k of ackedViaVsctl) expect(have.get(k), `acknowledged vsctl transaction ${k} lost`).toBe('1');
      // One vsctl-acknowledged change per round too.
      const vk = `vsctl${kills}`;
      const v = await runTool('tsvs-vsctl', ['--no-wait', 'set', 'Open_vSwitch', '.', `external_ids:${vk}=1`], d.rundir);
      expect(v.code, v.stderr).toBe(0);
      ackedViaVsctl.push(vk);

      const killAfter = TOTAL - sent <= 150 ? Infinity : 100 + rng.int(250);
      let roundAcks = 0;
      let killed = false;
      await new Promise<void>((resolve) => {
        let inFlight = 0;
        const pump = (): void => {
          while (!killed && inFlight < IN_FLIGHT && sent < TOTAL) {
            const i = sent++;
            inFlight++;
            const ops = [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['external_ids', 'insert', { $map: [[`k${i}`, String(i)]] }]] }];
            client.request({ transact: { ops_json: JSON.stringify(ops) } }).then(
              () => {
                acked.add(i);
                roundAcks++;
                inFlight--;
                if (!killed && roundAcks >= killAfter) {
                  killed = true;
                  // SIGKILL with requests still in flight, after a seeded sub-millisecond-ish delay.
                  setTimeout(() => void d.kill('SIGKILL').then(() => resolve()), rng.int(3));
                  return;
                }
                if (sent >= TOTAL && inFlight === 0) resolve();
                else pump();
              },
              () => {
                inFlight--; // lost with the daemon: not acknowledged, may or may not be there
              },
            );
          }
        };
        pump();
      });
      client.close();
      if (killed) kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    // Final restart: everything acknowledged is there, the DB is sound.
    await d.kill('SIGTERM');
    await d.start();
    const client = await RpcClient.connect(d.socket);
    const have = await externalIds(client);
    for (const i of acked) expect(have.get(`k${i}`)).toBe(String(i));
    for (const k of ackedViaVsctl) expect(have.get(k)).toBe('1');
    expect(acked.size).toBeGreaterThanOrEqual(TOTAL - kills * IN_FLIGHT);
    client.close();
    await d.kill('SIGTERM');
  }, 60_000);
});
