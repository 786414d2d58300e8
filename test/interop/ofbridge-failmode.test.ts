// fail_mode on a whole OpenFlowBridge with two guests: standalone without a
// controller forwards as a learning switch (fail-open); secure without one
// forwards nothing; secure, once a real controller (ovs-testcontroller)
// connects and installs flows, forwards again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { guestBridge, hasCommand, pingUntil, type GuestBridge } from '../helpers/ofbridge-interop.js';
import { freePort, PeerProcess } from '../helpers/peer-process.js';

describe('fail_mode on an OpenFlowBridge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ofbridge-fail-'));
  let gb: GuestBridge | undefined;
  let peer: PeerProcess | undefined;
  const logs: string[] = [];
  const log = (level: string, m: string): void => void logs.push(`${level}: ${m}`);

  afterEach(async () => {
    await gb?.br.stop();
    await peer?.stop();
    gb = undefined;
    peer = undefined;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('standalone, no controller: the guests ping (fail-open learning switch)', async () => {
    gb = await guestBridge({ name: 'br-sa', rundir: dir, failMode: 'standalone', connmgrOptions: { log } });
    expect(gb.br.ofproto.failOpen()).toBe(true);
    expect((await gb.g1.ping('10.0.0.2', 3, { intervalMs: 0, timeoutMs: 1000 })).received).toBe(3);
    expect(gb.br.ofproto.tables.ruleCount).toBe(0);
  });

  it('standalone with an unreachable controller: still fail-open', async () => {
    const port = await freePort(); // nobody listens
    gb = await guestBridge({ name: 'br-sa2', rundir: dir, failMode: 'standalone', controllers: [{ target: `tcp:127.0.0.1:${port}`, maxBackoffMs: 1000 }], connmgrOptions: { log } });
    expect(gb.br.connmgr.controllerConnected()).toBe(false);
    expect((await gb.g2.ping('10.0.0.1', 3, { intervalMs: 0, timeoutMs: 1000 })).received).toBe(3);
  });

  it.skipIf(!hasCommand('ovs-testcontroller'))('secure, no controller: no ping; then a controller connects and adds flows: ping', async () => {
    const port = await freePort();
    gb = await guestBridge({ name: 'br-sec', rundir: dir, failMode: 'secure', controllers: [{ target: `tcp:127.0.0.1:${port}`, maxBackoffMs: 1000 }], connmgrOptions: { log } });
    expect(gb.br.ofproto.failOpen()).toBe(false);
    const r = await gb.g1.ping('10.0.0.2', 2, { intervalMs: 0, timeoutMs: 300 });
    expect(r.received).toBe(0);
    expect(gb.br.ofproto.tables.ruleCount).toBe(0);
    // Now the controller comes up; our backoff (≤ 1 s) reconnects.
    const up = new Promise((resolve) => gb!.br.connmgr.once('connected', resolve));
    peer = new PeerProcess('ovs-testcontroller', ['-vvconn:dbg', '-O', 'OpenFlow13', `ptcp:${port}:127.0.0.1`], { OVS_RUNDIR: dir });
    await up;
    await peer.waitFor(/sent \(Success\): OFPT_FLOW_MOD/);
    expect(await pingUntil(gb.g1, '10.0.0.2')).toBe(true);
    expect(gb.br.ofproto.tables.ruleCount).toBeGreaterThan(1);
    // The controller goes away: secure does not fall back to the learning switch.
    await peer.stop();
    await new Promise((resolve) => (gb!.br.connmgr.controllerConnected() ? gb!.br.connmgr.once('disconnected', resolve) : resolve(undefined)));
    expect(gb.br.ofproto.failOpen()).toBe(false);
    expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
  });
});
