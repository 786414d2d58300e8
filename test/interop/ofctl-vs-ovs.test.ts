// Real peer: ovs-ofctl and ovs-vswitchd of Open vSwitch 3.1. Both tools talk
// to both switches: tsvs-ofctl loads a few hundred flows of many match/action
// kinds, groups and meters into a private Open vSwitch (dummy datapath, ptcp:
// controller listener) and ovs-ofctl loads the same into an in-process tsvs
// bridge; on each switch, every dump printed by tsvs-ofctl must equal
// `ovs-ofctl -O OpenFlow13 --no-names`'s byte for byte (durations aside).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ofctl as tsvsOfctl } from '../../ctl/ofctl.js';
import { guestBridge, hasCommand, type GuestBridge } from '../helpers/ofbridge-interop.js';
import { dummyOvsEnv, startDummyOvs, stopDummyOvs } from '../helpers/dummy-ovs.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvs-ofctl-vs-ovs-'));
const env = dummyOvsEnv(dir);
const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** ovs-ofctl without blocking the event loop (the tsvs bridge runs in this process). */
function ovsOfctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ovs-ofctl', ['-O', 'OpenFlow13', '--no-names', ...args], { env, timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Variations of each of the 20 kinds below: 801 flows, more than one 64 kB reply part. */
const N_KINDS = 40;
const N_FLOWS = 20 * N_KINDS + 1;

/** Hundreds of flows over many match and action kinds, in three tables. */
export function flowFile(): string {
  const lines: string[] = ['# tsvs-ofctl vs ovs-ofctl'];
  for (let i = 1; i <= N_KINDS; i++) {
    const h = i.toString(16);
    lines.push(
      `priority=${1000 + i},in_port=${(i % 2) + 1},dl_src=02:00:00:00:00:${h.padStart(2, '0')},actions=output:${2 - (i % 2)}`,
      `priority=${900 + i},ip,nw_src=10.${i}.0.0/16,nw_dst=192.168.${i}.1,actions=set_field:10.0.0.${i}->ip_dst,output:2`,
      `priority=${800 + i},tcp,tp_dst=${8000 + i},actions=set_field:${9000 + i}->tcp_dst,dec_ttl,output:1`,
      `priority=${800 + i},udp,nw_dst=10.9.${i}.0/24,tp_src=${5000 + i},actions=mod_nw_tos:${(i * 4) % 256},output:2`,
      `priority=${700 + i},dl_vlan=${i},actions=pop_vlan,output:1`,
      `priority=${700 + i},dl_dst=02:00:00:00:01:${h.padStart(2, '0')},actions=push_vlan:0x8100,set_field:${4096 + i}->vlan_vid,output:2`,
      `priority=${600 + i},ipv6,ipv6_dst=2001:db8::${h},actions=dec_ttl,output:2`,
      `priority=${600 + i},icmp6,icmp_type=135,nd_target=fe80::${h},actions=output:1`,
      `priority=${500 + i},arp,arp_tpa=10.0.${i}.1,arp_op=1,actions=output:1`,
      `priority=${500 + i},icmp,icmp_type=8,icmp_code=0,nw_dst=10.7.${i}.1,actions=output:controller`,
      `priority=${400 + i},tcp,nw_src=172.16.${i}.0/255.255.255.128,tp_src=${i},actions=drop`,
      `priority=${400 + i},cookie=0x${(0xa000 + i).toString(16)},idle_timeout=3000,hard_timeout=6000,send_flow_rem,ip,nw_proto=47,actions=output:2`,
      `table=1,priority=${300 + i},metadata=0x${h}/0xff,actions=write_metadata:0x${(i * 256).toString(16)}/0xff00,goto_table:2`,
      `table=1,priority=${200 + i},ip,nw_ecn=${i % 4},actions=clear_actions,write_actions(output:1),goto_table:2`,
      `table=2,priority=${100 + i},mpls,mpls_label=${i},actions=pop_mpls:0x0800,output:1`,
      `table=2,priority=${100 + i},ip,nw_dst=10.8.${i}.0/24,actions=push_mpls:0x8847,set_field:${i}->mpls_label,output:2`,
      `table=2,priority=${50 + i},sctp,tp_dst=${i},actions=set_queue:${i},output:1`,
      `priority=${300 + i},ip,nw_dst=10.6.${i}.0/24,actions=group:${(i % 3) + 1}`,
      `priority=${200 + i},ip,nw_dst=10.5.${i}.0/24,actions=meter:${(i % 2) + 1},output:2`,
      `priority=${100 + i},dl_type=0x88b5,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:${(i % 2) + 1}`,
    );
  }
  lines.push('priority=0,actions=drop');
  return lines.join('\n') + '\n';
}

const GROUPS = `group_id=1,type=all,bucket=output:1,bucket=set_field:02:00:00:00:00:99->eth_src,output:2
group_id=2,type=select,bucket=weight:30,actions=output:1,bucket=weight:70,actions=output:2
group_id=3,type=indirect,bucket=actions=dec_ttl,output:2
group_id=4,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2
`;
const METERS = ['meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100', 'meter=2,pktps,band=type=drop,rate=50', 'meter=3,kbps,stats,band=type=drop,rate=200'];

/** Commands whose output both tools must print identically. */
const DUMPS: string[][] = [
  ['dump-flows'],
  ['dump-flows', 'table=1'],
  ['dump-flows', 'tcp'],
  ['dump-aggregate'],
  ['dump-groups'],
  ['dump-group-stats'],
  ['dump-meters'],
  ['meter-stats', 'meter=1'],
  ['dump-ports-desc'],
  ['dump-desc'],
  ['show'],
  ['dump-tables'],
  ['dump-group-features'],
  ['meter-features'],
  ['dump-ports', '1'],
];

const steady = (s: string): string => s.replace(/duration[=:][0-9.]+s/g, 'duration=X');

describe.skipIf(!hasCommand('ovs-vswitchd') || !hasCommand('ovs-ofctl'))('tsvs-ofctl and ovs-ofctl against Open vSwitch and tsvs', () => {
  let ovs = '';
  let gb: GuestBridge | undefined;
  let tsvs = '';

  beforeAll(async () => {
    const port = await freePort();
    const vsctl = startDummyOvs(dir, join(dir, 'vswitchd.ctl'));
    run('ovs-vsctl', [...vsctl, 'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=dummy', 'fail-mode=secure', 'protocols=OpenFlow13']);
    for (const i of [1, 2]) run('ovs-vsctl', [...vsctl, 'add-port', 'br0', `p${i}`, '--', 'set', 'interface', `p${i}`, 'type=dummy', `ofport_request=${i}`]);
    run('ovs-vsctl', [...vsctl, 'set-controller', 'br0', `ptcp:${port}:127.0.0.1`]);
    ovs = `tcp:127.0.0.1:${port}`;
    // Wait until the listener is up.
    for (let i = 0; i < 100; i++) {
      if ((await ovsOfctl('dump-desc', ovs)).code === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    mkdirSync(join(dir, 'tsvs'));
    gb = await guestBridge({ name: 'br0', rundir: join(dir, 'tsvs'), failMode: 'secure', services: ['ptcp:0:127.0.0.1'] });
    tsvs = `tcp:127.0.0.1:${gb.br.boundPort('ptcp:0:127.0.0.1')}`;
    writeFileSync(join(dir, 'flows.txt'), flowFile());
    writeFileSync(join(dir, 'groups.txt'), GROUPS);
  }, 60_000);

  afterAll(async () => {
    await gb?.br.stop();
    stopDummyOvs(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  const ts = async (...argv: string[]) => {
    const r = await tsvsOfctl(['-O', 'OpenFlow13', '--no-names', ...argv], { env });
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };

  it('tsvs-ofctl programs Open vSwitch: add-groups, add-meter, add-flows over tcp:', async () => {
    let r = await ts('add-groups', ovs, join(dir, 'groups.txt'));
    expect(r.stderr).toBe('');
    for (const m of METERS) {
      r = await ts('add-meter', ovs, m);
      expect(r.stderr, m).toBe('');
    }
    r = await ts('add-flows', ovs, join(dir, 'flows.txt'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const agg = await ovsOfctl('dump-aggregate', ovs);
    expect(agg.stdout).toMatch(new RegExp(`flow_count=${N_FLOWS}\\n$`));
  });

  it('ovs-ofctl programs tsvs the same way', async () => {
    let r = await ovsOfctl('add-groups', tsvs, join(dir, 'groups.txt'));
    expect(r.stderr).toBe('');
    for (const m of METERS) {
      r = await ovsOfctl('add-meter', tsvs, m);
      expect(r.stderr, m).toBe('');
    }
    r = await ovsOfctl('add-flows', tsvs, join(dir, 'flows.txt'));
    expect(r.stderr).toBe('');
    expect(gb!.br.ofproto.tables.ruleCount).toBe(N_FLOWS);
  });

  it('diff-flows: Open vSwitch, tsvs and the file hold the same flows; differences print as ovs-ofctl prints them', async () => {
    const file = join(dir, 'flows.txt');
    for (const [a, b] of [[ovs, tsvs], [ovs, file], [file, tsvs]] as const) {
      const t = await ts('diff-flows', a, b);
      expect(t.stdout, `${a} ${b}`).toBe('');
      expect(t.code).toBe(0);
    }
    // Make tsvs differ: one flow more, one with other actions (mod-flows below rewrites the sctp flows on both).
    expect((await ovsOfctl('add-flow', tsvs, 'table=9,priority=3,udp,actions=drop')).stderr).toBe('');
    expect((await ovsOfctl('add-flow', tsvs, 'table=2,priority=51,sctp,tp_dst=1,actions=drop')).stderr).toBe('');
    const o = await ovsOfctl('diff-flows', ovs, tsvs);
    const t = await ts('diff-flows', ovs, tsvs);
    expect(o.code).toBe(2);
    expect(t.code).toBe(2);
    // Same lines; ovs-ofctl lists them in hash order, tsvs-ofctl sorted.
    expect(t.stdout.split('\n').sort()).toEqual(o.stdout.split('\n').sort());
    expect(t.stdout).toBe('-table=2 priority=51,sctp,tp_dst=1 actions=set_queue:1,output:1\n+table=2 priority=51,sctp,tp_dst=1 actions=drop\n+table=9 priority=3,udp actions=drop\n');
    expect((await ovsOfctl('del-flows', tsvs, 'table=9')).stderr).toBe('');
  });

  for (const sw of ['Open vSwitch', 'tsvs'] as const) {
    it.each(DUMPS)(`${sw}: tsvs-ofctl %s prints what ovs-ofctl prints`, async (cmd, ...rest) => {
      const target = sw === 'tsvs' ? tsvs : ovs;
      const o = await ovsOfctl(cmd!, target, ...rest);
      const t = await ts(cmd!, target, ...rest);
      expect(t.stderr).toBe(o.stderr);
      expect(o.code).toBe(0);
      expect(t.code).toBe(0);
      expect(steady(t.stdout)).toBe(steady(o.stdout));
      if (cmd === 'dump-flows' && rest.length === 0) {
        expect(o.stdout.split('\n').filter((l) => l.startsWith(' cookie=')).length).toBe(N_FLOWS);
        expect(o.stdout).toContain('flags=[more]');
      }
    });
  }

  it('both tools print the same ERROR for the same bad request, on both switches', async () => {
    for (const target of [ovs, tsvs]) {
      const o = await ovsOfctl('add-flow', target, 'priority=9,actions=group:77');
      const t = await ts('add-flow', target, 'priority=9,actions=group:77');
      expect(o.code).toBe(1);
      expect(t.code).toBe(1);
      expect(t.stderr).toBe(o.stderr);
    }
  });

  it('mod-flows, del-flows --strict and del-groups/del-meters by tsvs-ofctl on Open vSwitch agree with ovs-ofctl on tsvs', async () => {
    const steps: string[][] = [
      ['mod-flows', 'table=2,sctp,actions=output:2'],
      ['--strict', 'del-flows', 'priority=1001,in_port=2,dl_src=02:00:00:00:00:01'],
      ['del-flows', 'table=1'],
      ['mod-group', 'group_id=3,type=indirect,bucket=actions=output:1'],
      ['del-meters', 'meter=3'],
    ];
    for (const s of steps) {
      expect((await ts(...s.slice(0, -1), ovs, s.at(-1)!)).stderr, s.join(' ')).toBe('');
      expect((await ovsOfctl(...s.slice(0, -1), tsvs, s.at(-1)!)).stderr, s.join(' ')).toBe('');
    }
    for (const cmd of ['dump-flows', 'dump-groups', 'dump-meters']) {
      for (const target of [ovs, tsvs]) {
        const o = await ovsOfctl(cmd, target);
        const t = await ts(cmd, target);
        expect(steady(t.stdout), `${cmd} ${target}`).toBe(steady(o.stdout));
      }
    }
  });
});
