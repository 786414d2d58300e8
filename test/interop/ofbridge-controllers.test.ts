// Real controllers drive an OpenFlowBridge with two guests (fail_mode
// secure, so nothing forwards unless the controller programs it):
// ovs-testcontroller (learning switch: packet-ins, packet-outs, learned
// flows) and os-ken's simple_switch_13 (table-miss to controller, then
// per-MAC flows).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { guestBridge, hasCommand, pingUntil, type GuestBridge } from '../helpers/ofbridge-interop.js';
import { freePort, PeerProcess } from '../helpers/peer-process.js';

const PYTHON = '/usr/bin/python3';

function pythonImports(module: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hasOsKen = pythonImports('os_ken.cmd.manager') && hasCommand('osken-manager');
// Debian's python3-os-ken ships without the sample apps; then our equivalent learning switch stands in.
const OSKEN_APP = pythonImports('os_ken.app.simple_switch_13') ? 'os_ken.app.simple_switch_13' : resolve(__dirname, 'tools/osken_l2_switch.py');

describe('real controllers drive an OpenFlowBridge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ofbridge-ctl-'));
  let gb: GuestBridge | undefined;
  let peer: PeerProcess | undefined;

  afterEach(async () => {
    await gb?.br.stop();
    await peer?.stop();
    gb = undefined;
    peer = undefined;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasCommand('ovs-testcontroller'))('ovs-testcontroller: the guests ping each other through its learned flows', async () => {
    const port = await freePort();
    peer = new PeerProcess('ovs-testcontroller', ['-vvconn:dbg', '-O', 'OpenFlow13', `ptcp:${port}:127.0.0.1`], { OVS_RUNDIR: dir });
    gb = await guestBridge({ name: 'br-tc', rundir: dir, failMode: 'secure' });
    const up = new Promise((resolve) => gb!.br.connmgr.once('connected', resolve));
    await gb.br.setControllers([{ target: `tcp:127.0.0.1:${port}`, maxBackoffMs: 1000 }]);
    await up;
    await peer.waitFor(/sent \(Success\): OFPT_FLOW_MOD/);
    expect(await pingUntil(gb.g1, '10.0.0.2')).toBe(true);
    expect((await gb.g2.ping('10.0.0.1', 3, { intervalMs: 0, timeoutMs: 1000 })).received).toBe(3);
    // It learned both MACs and installed flows for them (beyond its table-miss entry).
    await peer.waitFor(/OFPT_PACKET_IN/);
    expect(gb.br.ofproto.counters.packetIns).toBeGreaterThan(0);
    expect(gb.br.ofproto.tables.ruleCount).toBeGreaterThan(1);
  });

  it.skipIf(!hasOsKen)(`os-ken ${OSKEN_APP.endsWith('.py') ? 'learning switch (simple_switch_13 equivalent)' : 'simple_switch_13'}: the guests ping each other`, async () => {
    const port = await freePort();
    peer = new PeerProcess(PYTHON, ['/usr/bin/osken-manager', '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), OSKEN_APP], {
      PYTHONUNBUFFERED: '1',
    });
    gb = await guestBridge({ name: 'br-osken', rundir: dir, failMode: 'secure' });
    const up = new Promise((resolve) => gb!.br.connmgr.once('connected', resolve));
    // osken-manager takes a moment to import and listen; the backoff retries.
    await gb.br.setControllers([{ target: `tcp:127.0.0.1:${port}`, maxBackoffMs: 1000 }]);
    await up;
    // simple_switch_13 installs its table-miss flow when it sees our features.
    const deadline = Date.now() + 10_000;
    while (gb.br.ofproto.tables.ruleCount === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(gb.br.ofproto.tables.ruleCount).toBe(1);
    expect(await pingUntil(gb.g1, '10.0.0.2')).toBe(true);
    expect((await gb.g2.ping('10.0.0.1', 3, { intervalMs: 0, timeoutMs: 1000 })).received).toBe(3);
    await peer.waitFor(/packet.in [0-9a-f]+ 02:00:00:00:00:01 02:00:00:00:00:02 1/);
    // Per-destination flows were learned (table-miss + at least one per direction).
    expect(gb.br.ofproto.tables.ruleCount).toBeGreaterThanOrEqual(3);
  });
});
