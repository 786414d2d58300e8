// ovs-ofctl (Open vSwitch 3.1) against ConnMgr: the handshake, echo and
// requests of the real tool over ptcp: and the bridge's .mgmt socket, with a
// fake ofproto answering FEATURES/DESC/PORT_DESC/GET_CONFIG.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConnMgr } from '../../ofproto/connmgr/connmgr.js';
import { OFP_NO_BUFFER, OFPR, OFPT, OFPXMT } from '../../ofproto/openflow/index.js';
import { FakeOfproto } from '../helpers/fake-ofproto.js';
import { hasOpenssl, makeTestPki } from '../helpers/test-pki.js';

function hasOfctl(): boolean {
  try {
    execFileSync('ovs-ofctl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs ovs-ofctl without blocking the event loop (our switch runs in this process). */
function ofctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ovs-ofctl', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(!hasOfctl())('ovs-ofctl against ConnMgr', () => {
  let dir: string;
  let mgr: ConnMgr;
  let handler: FakeOfproto;
  let tcp: string;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'connmgr-ofctl-'));
    handler = new FakeOfproto();
    mgr = new ConnMgr({ bridge: 'br0', handler, rundir: dir, log: (l, m) => logs.push(`${l}: ${m}`) });
    await mgr.start();
    await mgr.setServices(['ptcp:0']);
    const port = mgr.boundTarget('ptcp:0')!.split(':')[1];
    tcp = `tcp:127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await mgr?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('show over tcp: handshake, FEATURES, PORT_DESC', async () => {
    const r = await ofctl('-O', 'OpenFlow13', '--no-names', 'show', tcp);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OFPT_FEATURES_REPLY (OF1.3)');
    expect(r.stdout).toContain('dpid:0000000000abcdef');
    expect(r.stdout).toContain('n_tables:254');
    expect(r.stdout).toMatch(/1\(p1\): addr:02:00:00:00:00:01/);
  });

  it('dump-desc over the .mgmt unix socket', async () => {
    const r = await ofctl('-O', 'OpenFlow13', '--no-names', 'dump-desc', `unix:${mgr.mgmtPath}`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Manufacturer: tsvs');
    expect(r.stdout).toContain('DP Description: br-test');
  });

  it('show over the .mgmt socket', async () => {
    const r = await ofctl('-O', 'OpenFlow13', 'show', `unix:${mgr.mgmtPath}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OFPT_FEATURES_REPLY (OF1.3)');
  });

  it('probe: our ECHO_REPLY satisfies ovs-ofctl', async () => {
    for (const target of [tcp, `unix:${mgr.mgmtPath}`]) {
      const r = await ofctl('-O', 'OpenFlow13', 'probe', target);
      expect(r.stderr, target).toBe('');
      expect(r.code, target).toBe(0);
    }
  });

  it('a FLOW_MOD from ovs-ofctl reaches ofproto, then the barrier completes', async () => {
    const before = handler.messagesOfType(OFPT.FLOW_MOD).length;
    // --no-names: with names ovs-ofctl first asks for TABLE_FEATURES, which the fake does not describe.
    const r = await ofctl('-O', 'OpenFlow13', '--no-names', 'add-flow', tcp, 'priority=10,in_port=1,actions=drop');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(handler.messagesOfType(OFPT.FLOW_MOD).length).toBe(before + 1);
  });

  it('OpenFlow 1.0 only: ovs-ofctl reports the failed version negotiation', async () => {
    const r = await ofctl('-O', 'OpenFlow10', 'show', tcp);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/version negotiation failed/);
    expect(logs.some((l) => /version negotiation failed: We support version 0x04, you support 0x01/.test(l))).toBe(true);
  });

  it('monitor: a service connection gets packet-ins only after SET_CONFIG miss_send_len (OVS rule)', async () => {
    // OVS_RUNDIR: monitor opens a unixctl socket there (default /var/run/openvswitch).
    const mon = spawn('ovs-ofctl', ['-O', 'OpenFlow13', 'monitor', tcp, '65535'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OVS_RUNDIR: dir } });
    let out = '';
    mon.stdout.on('data', (d: Buffer) => (out += d.toString()));
    mon.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // Wait (on events, bounded) until ovs-ofctl's SET_CONFIG made the connection want packet-ins.
      const deadline = Date.now() + 10_000;
      while (![...mgr.connections()].some((c) => c.wantsAsync('packet_in', OFPR.NO_MATCH))) {
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 20));
      }
      const frame = Buffer.from('ffffffffffff020000000001080600010800060400010200000000010a000001000000000000' + '0a000002', 'hex');
      let sent = 0;
      for (const c of mgr.connections()) {
        if (!c.wantsAsync('packet_in', OFPR.NO_MATCH)) continue;
        c.send({
          type: OFPT.PACKET_IN,
          version: c.version,
          xid: 0,
          bufferId: OFP_NO_BUFFER,
          totalLen: frame.length,
          reason: OFPR.NO_MATCH,
          tableId: 0,
          cookie: 0n,
          match: [{ kind: 'basic', field: OFPXMT.IN_PORT, value: 1 }],
          data: frame,
        });
        sent++;
      }
      expect(sent).toBe(1);
      while (!out.includes('OFPT_PACKET_IN')) {
        expect(Date.now(), out).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(out).toMatch(/OFPT_PACKET_IN \(OF1\.3\).*total_len=42/);
      expect(out).toContain('arp');
    } finally {
      mon.kill('SIGTERM');
      await new Promise((r) => (mon.exitCode !== null ? r(undefined) : mon.once('exit', r)));
    }
  });

  it.skipIf(!hasOpenssl())('show over pssl: with certificates from one CA (OVS SSL client)', async () => {
    const pki = makeTestPki(mkdtempSync(join(dir, 'pki-')));
    const m2 = new ConnMgr({
      bridge: 'br-ssl',
      handler,
      ssl: { privateKeyFile: pki.switch.key, certificateFile: pki.switch.cert, caCertFile: pki.caCert },
      log: (l, m) => logs.push(`${l}: ${m}`),
    });
    try {
      await m2.start();
      await m2.setServices(['pssl:0']);
      const port = m2.boundTarget('pssl:0')!.split(':')[1];
      const ssl = ['--private-key', pki.controller.key, '--certificate', pki.controller.cert, '--ca-cert', pki.caCert];
      const r = await ofctl(...ssl, '-O', 'OpenFlow13', '--no-names', 'show', `ssl:127.0.0.1:${port}`);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('OFPT_FEATURES_REPLY (OF1.3)');
      // A client whose certificate another CA signed is refused.
      const bad = ['--private-key', pki.stranger.key, '--certificate', pki.stranger.cert, '--ca-cert', pki.caCert];
      const r2 = await ofctl(...bad, '-O', 'OpenFlow13', 'show', `ssl:127.0.0.1:${port}`);
      expect(r2.code).not.toBe(0);
    } finally {
      await m2.stop();
    }
  });

  it('left no connection behind', async () => {
    await vi.waitFor(() => expect([...mgr.connections()]).toHaveLength(0), { timeout: 5000 });
    expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
  });
});
