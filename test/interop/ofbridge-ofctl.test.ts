// ovs-ofctl (Open vSwitch 3.1) programming a whole tsvs OpenFlowBridge over
// its ptcp: listener and its .mgmt socket: flows, 10,000 flows from a file,
// statistics, groups, meters and packet-out, with guests as the traffic.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestBridge, hasCommand, ofctl, type GuestBridge } from '../helpers/ofbridge-interop.js';

const N = 10_000;

describe.skipIf(!hasCommand('ovs-ofctl'))('ovs-ofctl against an OpenFlowBridge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ofbridge-ofctl-'));
  let gb: GuestBridge | undefined;
  let tcp = '';
  let mgmt = '';
  const of = (...args: string[]) => ofctl('-O', 'OpenFlow13', '--no-names', ...args);
  const flowLines = (out: string) => out.split('\n').filter((l) => l.includes('cookie='));

  beforeAll(async () => {
    gb = await guestBridge({ name: 'br0', rundir: dir, failMode: 'secure', services: ['ptcp:0:127.0.0.1'], ofprotoOptions: { maxRulesPerTable: 200_000 } });
    tcp = `tcp:127.0.0.1:${gb.br.boundPort('ptcp:0:127.0.0.1')}`;
    mgmt = `unix:${gb.br.mgmtPath}`;
  });

  afterAll(async () => {
    await gb?.br.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('show over tcp: and the .mgmt socket', async () => {
    for (const t of [tcp, mgmt]) {
      const r = await of('show', t);
      expect(r.stderr, t).toBe('');
      expect(r.stdout).toContain('OFPT_FEATURES_REPLY (OF1.3)');
      expect(r.stdout).toMatch(/ 1\(g1\): addr:02:00:00:00:00:01/);
      expect(r.stdout).toMatch(/ 2\(g2\): addr:02:00:00:00:00:02/);
    }
  });

  it('secure and no flows: the guests cannot ping; add-flow both ways: they can', async () => {
    const { g1 } = gb!;
    expect((await g1.ping('10.0.0.2', 1, { timeoutMs: 200 })).received).toBe(0);
    for (const f of ['in_port=1,actions=output:2', 'in_port=2,actions=output:1']) {
      const r = await of('add-flow', tcp, f);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const p = await g1.ping('10.0.0.2', 3, { intervalMs: 0, timeoutMs: 1000 });
    expect(p.received).toBe(3);
  });

  it(`add-flows of ${N} flows from a file over .mgmt, then dump-flows counts ${N + 2}`, async () => {
    const lines: string[] = [];
    for (let i = 0; i < N; i++) lines.push(`priority=5,ip,nw_dst=10.1.${i >> 8}.${i & 255},actions=drop`);
    const file = join(dir, 'flows.txt');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await of('add-flows', mgmt, file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    console.log(`ovs-ofctl add-flows of ${N} flows into tsvs: ${(r.ms / 1000).toFixed(3)} s (${Math.round(N / (r.ms / 1000))} flows/s, including process start)`);
    expect(gb!.br.ofproto.tables.ruleCount).toBe(N + 2);
    const d = await of('dump-flows', tcp);
    expect(d.stderr).toBe('');
    const fl = flowLines(d.stdout);
    expect(fl).toHaveLength(N + 2);
    // The ping flows carried the ping (ARP + 3 ICMP each way).
    for (const inPort of [1, 2]) {
      const line = fl.find((l) => l.includes(`in_port=${inPort} actions=output:`))!;
      expect(line, d.stdout.slice(0, 2000)).toBeDefined();
      expect(Number(/n_packets=(\d+)/.exec(line)![1])).toBeGreaterThan(0);
    }
  });

  it('dump-aggregate, dump-tables, dump-ports, dump-ports-desc', async () => {
    const a = await of('dump-aggregate', tcp);
    expect(a.stderr).toBe('');
    expect(a.stdout).toMatch(new RegExp(`flow_count=${N + 2}\\b`));
    const t = await of('dump-tables', tcp);
    expect(t.stderr).toBe('');
    expect(t.stdout).toMatch(new RegExp(`table 0:\\s*\\n\\s*active=${N + 2}, lookup=\\d+, matched=\\d+`));
    const p = await of('dump-ports', tcp);
    expect(p.stderr).toBe('');
    expect(p.stdout).toMatch(/port {2}1: rx pkts=[1-9]\d*, bytes=\d+/);
    expect(p.stdout).toMatch(/port {2}2: rx pkts=[1-9]\d*, bytes=\d+/);
    const pd = await of('dump-ports-desc', tcp);
    expect(pd.stderr).toBe('');
    expect(pd.stdout).toMatch(/ 1\(g1\): addr:02:00:00:00:00:01/);
    expect(pd.stdout).toMatch(/ 2\(g2\): addr:02:00:00:00:00:02/);
  });

  it('mod-flows changes actions; del-flows removes what matches', async () => {
    let r = await of('mod-flows', tcp, 'ip,nw_dst=10.1.0.7,actions=output:2');
    expect(r.stderr).toBe('');
    let d = await of('dump-flows', tcp, 'ip,nw_dst=10.1.0.7');
    expect(flowLines(d.stdout)).toHaveLength(1);
    expect(d.stdout).toMatch(/nw_dst=10\.1\.0\.7 actions=output:2/);
    r = await of('del-flows', tcp, 'ip');
    expect(r.stderr).toBe('');
    d = await of('dump-flows', tcp);
    expect(flowLines(d.stdout)).toHaveLength(2);
    expect(gb!.br.ofproto.tables.ruleCount).toBe(2);
    // The in_port flows survived and still forward.
    expect((await gb!.g2.ping('10.0.0.1', 2, { intervalMs: 0, timeoutMs: 1000 })).received).toBe(2);
  });

  it('add-group/dump-groups and add-meter/dump-meters', async () => {
    let r = await of('add-group', tcp, 'group_id=1,type=all,bucket=output:1,bucket=output:2');
    expect(r.stderr).toBe('');
    r = await of('dump-groups', tcp);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2/);
    r = await of('add-meter', tcp, 'meter=1,kbps,band=type=drop,rate=1000');
    expect(r.stderr).toBe('');
    r = await of('dump-meters', tcp);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/meter=1 kbps bands=\s*\n?\s*type=drop rate=1000/);
  });

  it('packet-out: an ARP request to port 2 reaches guest 2', async () => {
    const { g2 } = gb!;
    const before = g2.stats.txPackets;
    // who-has 10.0.0.2 tell 10.0.0.99 (02:00:00:00:00:99)
    const arp =
      'ffffffffffff' + '020000000099' + '0806' + '0001080006040001' + '020000000099' + '0a000063' + '000000000000' + '0a000002';
    const r = await of('packet-out', tcp, `in_port=controller,packet=${arp},actions=output:2`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(g2.stats.txPackets).toBe(before + 1);
    expect(g2.neighbourTable()).toContainEqual({ ip: '10.0.0.99', mac: '02:00:00:00:00:99' });
  });

  it('with port names (ovs-ofctl reads TABLE_FEATURES and PORT_DESC first): add-flow, dump-flows --names, mod-port', async () => {
    const named = (...args: string[]) => ofctl('-O', 'OpenFlow13', ...args);
    let r = await named('add-flow', tcp, 'priority=50,in_port=g1,actions=output:g2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    r = await named('dump-flows', tcp, '--names', 'in_port=g1');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/table=table0, .*priority=50,in_port=g1 actions=output:g2/);
    // PORT_MOD by name: no-forward sets OFPPC_NO_FWD (0x20) and guest 2 no longer gets frames out of port 1's flows.
    r = await named('mod-port', tcp, 'g2', 'no-forward');
    expect(r.stderr).toBe('');
    expect(gb!.br.ofproto.port(2)!.config & 0x20).toBe(0x20);
    expect((await gb!.g1.ping('10.0.0.2', 1, { timeoutMs: 300 })).received).toBe(0);
    r = await named('mod-port', tcp, 'g2', 'forward');
    expect(r.stderr).toBe('');
    expect(gb!.br.ofproto.port(2)!.config & 0x20).toBe(0);
    expect((await gb!.g1.ping('10.0.0.2', 1, { timeoutMs: 1000 })).received).toBe(1);
  });
});
