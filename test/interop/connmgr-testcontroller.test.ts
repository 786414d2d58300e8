// ovs-testcontroller (Open vSwitch 3.1) as our controller: the active tcp:
// connection reaches it, completes HELLO/FEATURES, receives its SET_CONFIG
// and table-miss FLOW_MOD, and keeps the connection through echo probes.
// ovs-testcontroller's own probe interval is longer than this test's bound
// (no ECHO_REQUEST from it in 13 s idle when tried), so the reverse direction
// is checked here (our probe, its ECHO_REPLY); our answering of ECHO is
// checked against `ovs-ofctl probe` in connmgr-ofctl.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnMgr } from '../../ofproto/connmgr/connmgr.js';
import { OFPT } from '../../ofproto/openflow/index.js';
import { FakeOfproto } from '../helpers/fake-ofproto.js';
import { freePort, PeerProcess } from '../helpers/peer-process.js';
import { hasOpenssl, makeTestPki } from '../helpers/test-pki.js';

function has(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!has('ovs-testcontroller'))('ovs-testcontroller as controller', () => {
  const dir = mkdtempSync(join(tmpdir(), 'connmgr-tc-'));
  let tc: PeerProcess | undefined;
  let mgr: ConnMgr | undefined;
  let tcSsl: PeerProcess | undefined;

  afterAll(async () => {
    await mgr?.stop();
    await tc?.stop();
    await tcSsl?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasOpenssl())('ssl: reaches ovs-testcontroller on pssl: (mutual certificates from one CA)', async () => {
    const pki = makeTestPki(mkdtempSync(join(dir, 'pki-')));
    const port = await freePort();
    tcSsl = new PeerProcess(
      'ovs-testcontroller',
      ['-vvconn:dbg', '-p', pki.controller.key, '-c', pki.controller.cert, '-C', pki.caCert, '-O', 'OpenFlow13', `pssl:${port}:127.0.0.1`],
      { OVS_RUNDIR: dir },
    );
    const handler = new FakeOfproto();
    const m = new ConnMgr({ bridge: 'br-ssl', handler, ssl: { privateKeyFile: pki.switch.key, certificateFile: pki.switch.cert, caCertFile: pki.caCert }, log: () => undefined });
    try {
      await m.start();
      const up = new Promise((resolve) => m.once('connected', resolve));
      await m.setControllers([{ target: `ssl:127.0.0.1:${port}`, maxBackoffMs: 2000 }]);
      await up;
      await tcSsl.waitFor(/received: OFPT_FEATURES_REPLY \(OF1\.3\)/);
      expect(m.controllerStatus()[0]).toMatchObject({ isConnected: true, state: 'ACTIVE' });
    } finally {
      await m.stop();
      await tcSsl.stop();
    }
  });

  it('connects, handshakes, gets SET_CONFIG and FLOW_MOD, answers and is answered by echo', async () => {
    const port = await freePort();
    // OVS_RUNDIR: its unixctl socket goes to our temp dir, not /var/run/openvswitch.
    tc = new PeerProcess('ovs-testcontroller', ['-vvconn:dbg', '-vconsole:dbg', '-O', 'OpenFlow13', `ptcp:${port}:127.0.0.1`], { OVS_RUNDIR: dir });
    const handler = new FakeOfproto();
    const logs: string[] = [];
    mgr = new ConnMgr({ bridge: 'br0', handler, log: (l, m) => logs.push(`${l}: ${m}`) });
    await mgr.start();
    const up = new Promise((resolve) => mgr!.once('connected', resolve));
    // Probe every second so the testcontroller must answer our ECHOs within the test.
    await mgr.setControllers([{ target: `tcp:127.0.0.1:${port}`, inactivityProbeMs: 1000 }]);
    await up; // may take a backoff round if we dialled before it listened
    await tc.waitFor(/received: OFPT_FEATURES_REPLY \(OF1\.3\).*dpid:0000000000abcdef/);
    await tc.waitFor(/sent \(Success\): OFPT_FLOW_MOD/);
    // Its SET_CONFIG and FLOW_MOD reach ofproto; the 1.3 table-miss entry sends to the controller.
    const deadline = Date.now() + 10_000;
    while (handler.messagesOfType(OFPT.FLOW_MOD).length === 0) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(handler.messagesOfType(OFPT.SET_CONFIG)[0]).toMatchObject({ missSendLen: 128 });
    expect(handler.messagesOfType(OFPT.FLOW_MOD)[0]).toMatchObject({ command: 0, priority: 0 });
    const conn = [...mgr.connections()][0]!;
    expect(conn.missSendLen).toBe(128);
    // Idle: we probe after 1 s; it answers; still connected after several probe intervals.
    await tc.waitFor(/received: OFPT_ECHO_REQUEST[\s\S]*sent \(Success\): OFPT_ECHO_REPLY/);
    await tc.waitFor(/(received: OFPT_ECHO_REQUEST[\s\S]*){3}/, 10_000);
    expect(mgr.controllerConnected()).toBe(true);
    expect(mgr.controllerStatus()[0]).toMatchObject({ isConnected: true, role: 'other' });
    expect(handler.events.filter((e) => e.startsWith('disconnected'))).toEqual([]);
    expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
  });
});
