// tsvs-ofctl: command-line errors, SWITCH resolution, and every command
// against an in-process OpenFlowBridge (guests on ports 1 and 2) over its
// .mgmt unix socket, addressed by bridge name with --rundir.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ofctl, parseOfctlArgs, resolveTarget } from '../../../ctl/ofctl.js';
import { preprocessedLines } from '../../../ctl/ofctl-commands.js';
import { encodeMessage, makeHello } from '../../../ofproto/openflow/index.js';
import { guestBridge, type GuestBridge } from '../../helpers/ofbridge-interop.js';

const dir = mkdtempSync(join(tmpdir(), 'ctl-ofctl-'));
const BR = `br${Math.random().toString(36).slice(2, 7)}`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tsvs-ofctl command line', () => {
  it.each([
    [['frob', BR], "unknown command 'frob'; use --help for help"],
    [[], 'missing command name; use --help for help'],
    [['dump-flows'], "'dump-flows' command requires at least 1 arguments"],
    [['dump-flows', BR, 'ip', 'x'], "'dump-flows' command takes at most 2 arguments"],
    [['add-flow', BR], "'add-flow' command requires at least 2 arguments"],
    [['-O', 'OpenFlow10', 'show', BR], 'OpenFlow10: only OpenFlow 1.3 is supported (use -O OpenFlow13 or leave -O out)'],
    [['--protocols=OpenFlow13,OpenFlow15', 'show', BR], 'OpenFlow15: only OpenFlow 1.3 is supported (use -O OpenFlow13 or leave -O out)'],
    [['--frob', 'show', BR], "unrecognized option '--frob'"],
    [['--timeout=x', 'show', BR], 'value x on -t or --timeout is invalid'],
    [['--strict=1', 'show', BR], "option '--strict' doesn't allow an argument"],
    [['--sort', 'dump-flows', BR], '--sort is not supported by tsvs-ofctl'],
    [['show', 'ssl:1.2.3.4:6653'], 'ssl:1.2.3.4:6653: unsupported connection method (use unix:PATH, tcp:HOST[:PORT] or a bridge name)'],
    [['show', 'tcp:1.2.3.4:99999'], 'tcp:1.2.3.4:99999: bad port number "99999"'],
    [['show', 'tcp::6653'], 'tcp::6653: tcp: needs a host (tcp:HOST[:PORT])'],
    [['show', './no/such.sock'], './no/such.sock is not a bridge or a socket'],
  ])('%j -> %s', async (argv, message) => {
    const r = await ofctl(argv, { env: { TSVS_RUNDIR: dir } });
    expect(r.stderr).toBe(`tsvs-ofctl: ${message}\n`);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('an unknown bridge names the socket it looked for', async () => {
    const r = await ofctl(['--rundir', dir, 'show', 'nosuchbr']);
    expect(r.stderr).toBe(`tsvs-ofctl: nosuchbr is not a bridge or a socket (no ${join(dir, 'nosuchbr.mgmt')}; is tsvs-vswitchd running with this --rundir?)\n`);
  });

  it('options anywhere, -O OpenFlow13 accepted, --help and --version', async () => {
    const a = parseOfctlArgs(['dump-flows', '-O', 'OpenFlow13', 'br0', '--no-names', '--strict', 'ip', '-t', '3']);
    expect(a.words).toEqual(['dump-flows', 'br0', 'ip']);
    expect(a.opts).toEqual({ strict: true, names: false, acceptNames: false, stats: true });
    expect(a.timeoutSec).toBe(3);
    expect(parseOfctlArgs(['-OOpenFlow13', 'add-flows', 'br0', '-']).words).toEqual(['add-flows', 'br0', '-']);
    expect((await ofctl(['--help'])).stdout).toMatch(/^tsvs-ofctl: OpenFlow switch management utility/);
    expect((await ofctl(['-V'])).stdout).toMatch(/OpenFlow versions 0x4:0x4/);
  });

  it('SWITCH: bridge name, unix:, tcp: with the default port 6653 and IPv6', () => {
    writeFileSync(join(dir, 'brx.mgmt'), '');
    expect(resolveTarget('brx', dir, '/')).toMatchObject({ kind: 'unix', path: join(dir, 'brx.mgmt') });
    expect(resolveTarget('unix:/run/x.sock', dir, '/')).toMatchObject({ kind: 'unix', path: '/run/x.sock' });
    expect(resolveTarget('tcp:127.0.0.1', dir, '/')).toMatchObject({ kind: 'tcp', path: '127.0.0.1', port: 6653 });
    expect(resolveTarget('tcp:10.0.0.1:6633', dir, '/')).toMatchObject({ kind: 'tcp', path: '10.0.0.1', port: 6633 });
    expect(resolveTarget('tcp:[::1]:700', dir, '/')).toMatchObject({ kind: 'tcp', path: '::1', port: 700 });
    expect(resolveTarget('tcp:::1', dir, '/')).toMatchObject({ kind: 'tcp', path: '::1', port: 6653 });
  });

  it('flow files: comments, blank lines and continuations as ovs-ofctl reads them', () => {
    expect(preprocessedLines('a=1 # c\n\n  # only\n b=2,\\\nc=3\n')).toEqual([
      { line: 'a=1', lineNo: 1 },
      { line: 'b=2,c=3', lineNo: 4 },
    ]);
  });
});

/** A unix socket peer that behaves badly: sends `hello` (or nothing). */
async function fakeSwitch(path: string, hello: Buffer | null): Promise<Server> {
  const sockets: Socket[] = [];
  const srv = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    if (hello) s.write(hello);
  });
  srv.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((r) => srv.listen(path, r));
  const close = srv.close.bind(srv);
  srv.close = ((cb?: (e?: Error) => void) => {
    sockets.forEach((s) => s.destroy());
    return close(cb);
  }) as typeof srv.close;
  return srv;
}

describe('tsvs-ofctl connection failures', () => {
  it('a switch that only speaks OpenFlow 1.0: version negotiation fails', async () => {
    const path = join(dir, 'of10.sock');
    const srv = await fakeSwitch(path, encodeMessage(makeHello([1], 1)));
    try {
      const r = await ofctl(['show', `unix:${path}`]);
      expect(r.stderr).toBe(`tsvs-ofctl: unix:${path}: version negotiation failed (we support version 0x04, peer supports version 0x01)\n`);
      expect(r.exitCode).toBe(1);
    } finally {
      srv.close();
    }
  });

  it('--timeout gives up on a switch that never answers', async () => {
    const path = join(dir, 'mute.sock');
    const srv = await fakeSwitch(path, null);
    try {
      const r = await ofctl(['--timeout=1', 'dump-flows', `unix:${path}`]);
      expect(r.stderr).toBe('tsvs-ofctl: timeout after 1 seconds\n');
      expect(r.exitCode).toBe(1);
    } finally {
      srv.close();
    }
  });

  it('nobody listening', async () => {
    const r = await ofctl(['show', 'tcp:127.0.0.1:1']);
    expect(r.stderr).toBe('tsvs-ofctl: tcp:127.0.0.1:1: failed to connect to socket (Connection refused)\n');
  });
});

describe('tsvs-ofctl against an OpenFlowBridge', () => {
  let gb: GuestBridge;
  const run = (...argv: string[]) => ofctl(['--rundir', dir, ...argv]);
  const ok = async (...argv: string[]): Promise<string> => {
    const r = await run(...argv);
    expect(r.stderr, argv.join(' ')).toBe('');
    expect(r.exitCode).toBe(0);
    return r.stdout;
  };
  const noDur = (s: string) => s.replace(/duration[=:][0-9.]+s/g, 'duration=X');

  beforeAll(async () => {
    gb = await guestBridge({ name: BR, rundir: dir, failMode: 'secure', ofprotoOptions: { maxRulesPerTable: 200_000 } });
  });
  afterAll(async () => {
    await gb?.br.stop();
  });

  it('show: features, ports and config, with ovs-ofctl xids 2, 3 and 5', async () => {
    const out = await ok('show', BR);
    expect(out).toMatch(/^OFPT_FEATURES_REPLY \(OF1\.3\) \(xid=0x2\): dpid:[0-9a-f]{16}\nn_tables:\d+, n_buffers:\d+\ncapabilities: /);
    expect(out).toContain('OFPST_PORT_DESC reply (OF1.3) (xid=0x3):\n 1(g1): addr:02:00:00:00:00:01\n');
    expect(out).toContain(' 2(g2): addr:02:00:00:00:00:02\n');
    expect(out).toMatch(/OFPT_GET_CONFIG_REPLY \(OF1\.3\) \(xid=0x5\): frags=normal miss_send_len=\d+\n$/);
  });

  it('dump-desc, dump-tables, dump-ports [PORT], dump-ports-desc (and the dump-port-desc alias)', async () => {
    expect(await ok('dump-desc', BR)).toMatch(/^OFPST_DESC reply \(OF1\.3\) \(xid=0x2\):\nManufacturer: .*\nHardware: .*\nSoftware: .*\nSerial Num: .*\nDP Description: .*\n$/);
    expect(await ok('dump-tables', BR)).toMatch(/^OFPST_TABLE reply \(OF1\.3\) \(xid=0x2\):\n {2}table 0:\n {4}active=0, lookup=\d+, matched=\d+\n/);
    expect(await ok('dump-ports', BR)).toMatch(/^OFPST_PORT reply \(OF1\.3\) \(xid=0x2\): 2 ports\n {2}port {2}1: rx pkts=/);
    expect(await ok('dump-ports', BR, '2')).toMatch(/^OFPST_PORT reply \(OF1\.3\) \(xid=0x2\): 1 ports\n {2}port {2}2: rx pkts=/);
    expect(await ok('dump-ports', BR, 'g2')).toMatch(/^OFPST_PORT reply \(OF1\.3\) \(xid=0x3\): 1 ports\n {2}port {2}2: rx pkts=/);
    const desc = await ok('dump-ports-desc', BR);
    expect(desc).toMatch(/^OFPST_PORT_DESC reply \(OF1\.3\) \(xid=0x2\):\n 1\(g1\): addr:02:00:00:00:00:01\n {5}config: {5}0\n/);
    expect(await ok('dump-port-desc', BR)).toBe(desc);
  });

  it('mod-port by number and by name; unknown port and OpenFlow 1.0-only flags are errors', async () => {
    await ok('mod-port', BR, '2', 'down');
    expect(gb.br.ofproto.port(2)!.config & 1).toBe(1);
    expect(await ok('dump-ports-desc', BR)).toMatch(/ 2\(g2\): addr:02:00:00:00:00:02\n {5}config: {5}PORT_DOWN\n/);
    await ok('mod-port', BR, 'g2', 'up');
    expect(gb.br.ofproto.port(2)!.config & 1).toBe(0);
    await ok('mod-port', BR, 'g1', 'no-packet-in');
    expect(gb.br.ofproto.port(1)!.config & 0x40).toBe(0x40);
    await ok('mod-port', BR, '1', 'packet-in');
    let r = await run('mod-port', BR, '9', 'down');
    expect(r.stderr).toBe(`tsvs-ofctl: unix:${join(dir, `${BR}.mgmt`)}: couldn't find port \`9'\n`);
    r = await run('mod-port', BR, '1', 'no-flood');
    expect(r.stderr).toBe('tsvs-ofctl: no-flood: this port flag exists only in OpenFlow 1.0\n');
    r = await run('mod-port', BR, '1', 'sideways');
    expect(r.stderr).toBe("tsvs-ofctl: unknown mod-port command 'sideways'\n");
  });

  it('add-flow, dump-flows [FLOW], dump-aggregate, mod-flows, del-flows --strict; traffic counts', async () => {
    await ok('add-flow', BR, 'in_port=1,actions=output:2');
    await ok('add-flow', BR, 'in_port=2,actions=output:1');
    await ok('add-flow', BR, 'table=1,priority=7,tcp,tp_dst=80,cookie=0x5,actions=drop');
    expect((await gb.g1.ping('10.0.0.2', 2, { intervalMs: 0, timeoutMs: 1000 })).received).toBe(2);
    const all = noDur(await ok('dump-flows', BR));
    expect(all).toMatch(/^OFPST_FLOW reply \(OF1\.3\) \(xid=0x2\):\n/);
    expect(all).toMatch(/\n cookie=0x0, duration=X, table=0, n_packets=[1-9]\d*, n_bytes=\d+, in_port=1 actions=output:2\n/);
    expect(all).toContain('\n cookie=0x5, duration=X, table=1, n_packets=0, n_bytes=0, priority=7,tcp,tp_dst=80 actions=drop\n');
    expect(noDur(await ok('dump-flows', BR, 'table=1'))).toBe(
      'OFPST_FLOW reply (OF1.3) (xid=0x2):\n cookie=0x5, duration=X, table=1, n_packets=0, n_bytes=0, priority=7,tcp,tp_dst=80 actions=drop\n',
    );
    expect(await ok('dump-flows', BR, '--no-stats', 'table=1')).toBe(' cookie=0x5, table=1, priority=7,tcp,tp_dst=80 actions=drop\n');
    expect(await ok('dump-aggregate', BR, 'table=1')).toBe('OFPST_AGGREGATE reply (OF1.3) (xid=0x2): packet_count=0 byte_count=0 flow_count=1\n');
    await ok('mod-flows', BR, 'table=1,tcp,actions=output:1');
    expect(await ok('dump-flows', BR, 'table=1')).toMatch(/priority=7,tcp,tp_dst=80 actions=output:1\n$/);
    // --strict with the wrong priority deletes nothing; with the right one, the flow.
    await ok('del-flows', BR, '--strict', 'table=1,tcp,tp_dst=80');
    expect(gb.br.ofproto.tables.ruleCount).toBe(3);
    await ok('del-flows', BR, '--strict', 'table=1,priority=7,tcp,tp_dst=80');
    expect(gb.br.ofproto.tables.ruleCount).toBe(2);
  });

  it('add-flows FILE pipelines 20,000 flows; "-" reads stdin; a bad line changes nothing', async () => {
    const N = 20_000;
    const lines = ['# generated', ''];
    for (let i = 0; i < N; i++) lines.push(`table=2,priority=5,ip,nw_dst=10.1.${i >> 8}.${i & 255},actions=drop`);
    const file = join(dir, 'flows.txt');
    writeFileSync(file, lines.join('\n') + '\n');
    const before = gb.br.ofproto.tables.ruleCount;
    await ok('add-flows', BR, file);
    expect(gb.br.ofproto.tables.ruleCount).toBe(before + N);
    const d = await ok('dump-flows', BR, 'table=2');
    expect(d.split('\n').filter((l) => l.startsWith(' cookie=')).length).toBe(N);
    // Split into parts of at most 64 kB, each with its own header, all but the last "flags=[more]".
    expect(d).toMatch(/^OFPST_FLOW reply \(OF1\.3\) \(xid=0x2\): flags=\[more\]\n/);
    expect(await ok('dump-aggregate', BR, 'table=2')).toMatch(new RegExp(`flow_count=${N}\\n$`));
    await ok('del-flows', BR, 'table=2');
    expect(gb.br.ofproto.tables.ruleCount).toBe(before);

    const stdin = 'table=3,priority=1,actions=drop\ntable=3,priority=2,actions=drop\n';
    const r = await ofctl(['--rundir', dir, 'add-flows', BR, '-'], { readStdin: async () => stdin });
    expect(r.stderr).toBe('');
    expect(gb.br.ofproto.tables.ruleCount).toBe(before + 2);

    writeFileSync(file, 'table=4,actions=drop\ntable=4,frob=1,actions=drop\n');
    const bad = await run('add-flows', BR, file);
    expect(bad.stderr).toBe(`tsvs-ofctl: ${file}:2: column 9: unknown keyword frob\n`);
    expect(bad.exitCode).toBe(1);
    expect(gb.br.ofproto.tables.ruleCount).toBe(before + 2);
    await ok('del-flows', BR, 'table=3');
  });

  it('replace-flows makes the switch equal a file; diff-flows shows -/+ lines and exits 2 on differences', async () => {
    const file = join(dir, 'replace.txt');
    writeFileSync(file, 'table=6,priority=5,ip,actions=drop\ntable=6,priority=7,tcp,tp_dst=80,cookie=0x9,actions=output:2\n');
    await ok('add-flow', BR, 'table=7,priority=1,actions=drop');
    const before = gb.br.ofproto.tables.ruleCount;
    const diff = await run('diff-flows', BR, file);
    expect(diff.exitCode).toBe(2);
    expect(diff.stdout).toContain('+table=6 priority=5,ip actions=drop\n');
    expect(diff.stdout).toContain('+table=6 priority=7,tcp,tp_dst=80 cookie=0x9 actions=output:2\n');
    expect(diff.stdout).toContain('-table=7 priority=1 actions=drop\n');
    await ok('replace-flows', BR, file);
    expect(gb.br.ofproto.tables.ruleCount).toBe(2);
    expect(await ok('diff-flows', BR, file)).toBe('');
    writeFileSync(file, 'table=6,priority=5,ip,actions=output:1\ntable=6,priority=7,tcp,tp_dst=80,cookie=0x9,actions=output:2\n');
    expect((await run('diff-flows', file, BR)).stdout).toBe('-table=6 priority=5,ip actions=output:1\n+table=6 priority=5,ip actions=drop\n');
    await ok('replace-flows', BR, file);
    expect(await ok('dump-flows', BR, '--no-stats')).toBe(' cookie=0x9, table=6, priority=7,tcp,tp_dst=80 actions=output:2\n table=6, priority=5,ip actions=output:1\n');
    await ok('del-flows', BR);
    expect(before).toBeGreaterThan(0);
  });

  it('port names in flows, dump filters, groups and packet-out are looked up, unless --no-names', async () => {
    await ok('add-flow', BR, 'table=8,priority=3,in_port=g1,actions=output:g2,set_queue:3,output:g1');
    expect(await ok('dump-flows', BR, 'table=8,in_port=g1')).toMatch(/ priority=3,in_port=1 actions=output:2,set_queue:3,output:1\n$/);
    const file = join(dir, 'named.txt');
    writeFileSync(file, 'table=8,priority=4,in_port=g2,actions=output:LOCAL\ntable=8,priority=5,in_port=2,actions=output:g1\n');
    await ok('add-flows', BR, file);
    expect(await ok('dump-aggregate', BR, 'table=8')).toMatch(/flow_count=3\n$/);
    await ok('add-group', BR, 'group_id=9,type=ff,bucket=watch_port:g2,output:g2');
    expect(await ok('dump-groups', BR)).toContain('group_id=9,type=ff,bucket=watch_port:2,actions=output:2');
    await ok('del-groups', BR, 'group_id=9');
    const before = gb.g2.stats.txPackets;
    await ok('packet-out', BR, 'controller', 'output:g2', 'ffffffffffff02000000009908060001080006040001020000000099' + '0a000063000000000000' + '0a000002');
    expect(gb.g2.stats.txPackets).toBe(before + 1);
    let r = await run('--no-names', 'add-flow', BR, 'table=8,in_port=g1,actions=drop');
    expect(r.stderr).toBe('tsvs-ofctl: column 17: g1: invalid or unknown port for in_port\n');
    r = await run('add-flow', BR, 'table=8,in_port=nosuch,actions=drop');
    expect(r.stderr).toBe('tsvs-ofctl: column 17: nosuch: invalid or unknown port for in_port\n');
    await ok('del-flows', BR, 'table=8');
  });

  it('an OpenFlow ERROR prints like ovs-ofctl (the error, then the request) and exits 1', async () => {
    const r = await run('add-flow', BR, 'priority=9,actions=group:77');
    expect(r.stderr).toBe('OFPT_ERROR (OF1.3) (xid=0x2): OFPBAC_BAD_OUT_GROUP\nOFPT_FLOW_MOD (OF1.3) (xid=0x2): ADD priority=9 actions=group:77\n');
    expect(r.exitCode).toBe(1);
    // In a file, the failing flow carries ovs-ofctl's xid (2 per flow: the flow and its barrier); the others are applied.
    const file = join(dir, 'bad-group.txt');
    writeFileSync(file, 'table=5,priority=1,actions=drop\ntable=5,priority=2,actions=group:77\ntable=5,priority=3,actions=drop\n');
    const f = await run('add-flows', BR, file);
    expect(f.stderr).toBe('OFPT_ERROR (OF1.3) (xid=0x4): OFPBAC_BAD_OUT_GROUP\nOFPT_FLOW_MOD (OF1.3) (xid=0x4): ADD table:5 priority=2 actions=group:77\n');
    expect(await ok('dump-aggregate', BR, 'table=5')).toMatch(/flow_count=2\n$/);
    await ok('del-flows', BR, 'table=5');
    const s = await run('add-flow', BR, 'priority=9,frob=1,actions=drop');
    expect(s.stderr).toBe('tsvs-ofctl: column 12: unknown keyword frob\n');
  });

  it('groups: add-group, mod-group, dump-groups, dump-group-stats, dump-group-features, del-groups', async () => {
    await ok('add-group', BR, 'group_id=1,type=all,bucket=output:1,bucket=output:2');
    await ok('add-group', BR, 'group_id=2,type=select,bucket=weight:5,actions=output:1,bucket=output:2');
    expect(await ok('dump-groups', BR)).toBe(
      'OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):\n group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2\n group_id=2,type=select,bucket=weight:5,actions=output:1,bucket=actions=output:2\n',
    );
    await ok('mod-group', BR, 'group_id=1,type=indirect,bucket=output:2');
    expect(await ok('dump-groups', BR)).toContain('\n group_id=1,type=indirect,bucket=actions=output:2\n');
    expect(noDur(await ok('dump-group-stats', BR, 'group_id=2'))).toBe(
      'OFPST_GROUP reply (OF1.3) (xid=0x2):\n group_id=2,duration=X,ref_count=0,packet_count=0,byte_count=0,bucket0:packet_count=0,byte_count=0,bucket1:packet_count=0,byte_count=0\n',
    );
    expect(await ok('dump-group-features', BR)).toMatch(/^OFPST_GROUP_FEATURES reply \(OF1\.3\) \(xid=0x2\):\n Group table:\n {4}Types: {2}0x[0-9a-f]+\n/);
    const file = join(dir, 'groups.txt');
    writeFileSync(file, 'group_id=3,type=all,bucket=output:1\ngroup_id=4,type=ff,bucket=watch_port:1,output:1\n');
    await ok('add-groups', BR, file);
    expect(gb.br.ofproto.groups.get(4)).toBeDefined();
    await ok('del-groups', BR, 'group_id=1');
    expect(gb.br.ofproto.groups.get(1)).toBeUndefined();
    await ok('del-groups', BR);
    expect(await ok('dump-groups', BR)).toBe('OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):\n');
    const r = await run('mod-group', BR, 'group_id=9,type=all,bucket=output:1');
    expect(r.stderr).toMatch(/^OFPT_ERROR \(OF1\.3\) \(xid=0x2\): OFPGMFC_UNKNOWN_GROUP\nOFPT_GROUP_MOD \(OF1\.3\) \(xid=0x2\):\n MOD group_id=9/);
  });

  it('meters: add-meter, mod-meter, dump-meters, meter-stats, meter-features, del-meters', async () => {
    await ok('add-meter', BR, 'meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=10');
    await ok('add-meter', BR, 'meter=2,pktps,band=type=drop,rate=5');
    expect(await ok('dump-meters', BR)).toBe(
      'OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):\nmeter=1 kbps burst stats bands=\ntype=drop rate=1000 burst_size=10\n\nmeter=2 pktps bands=\ntype=drop rate=5\n',
    );
    await ok('mod-meter', BR, 'meter=2,pktps,band=type=drop,rate=50');
    expect(await ok('dump-meters', BR, 'meter=2')).toBe('OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):\nmeter=2 pktps bands=\ntype=drop rate=50\n');
    expect(noDur(await ok('meter-stats', BR, 'meter=1'))).toBe(
      'OFPST_METER reply (OF1.3) (xid=0x2):\nmeter:1 flow_count:0 packet_in_count:0 byte_in_count:0 duration=X bands:\n0: packet_count:0 byte_count:0\n',
    );
    expect(await ok('meter-features', BR)).toMatch(/^OFPST_METER_FEATURES reply \(OF1\.3\) \(xid=0x2\):\nmax_meter:\d+ max_bands:\d+ max_color:\d+\nband_types: drop/);
    await ok('del-meters', BR, 'meter=1');
    expect(gb.br.ofproto.meters.get(1)).toBeUndefined();
    await ok('del-meters', BR);
    expect(gb.br.ofproto.meters.get(2)).toBeUndefined();
    const r = await run('meter-stats', BR, 'meter=99');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^OFPT_ERROR \(OF1\.3\) \(xid=0x2\): OFPMMFC_UNKNOWN_METER\nOFPST_METER request \(OF1\.3\) \(xid=0x2\): meter=99\n$/);
  });

  it('packet-out in both syntaxes reaches guest 2', async () => {
    const arp = 'ffffffffffff' + '020000000099' + '0806' + '0001080006040001' + '020000000099' + '0a000063' + '000000000000' + '0a000002';
    const before = gb.g2.stats.txPackets;
    await ok('packet-out', BR, `in_port=controller,packet=${arp},actions=output:2`);
    await ok('packet-out', BR, 'controller', 'output:2', arp, arp);
    expect(gb.g2.stats.txPackets).toBe(before + 3);
    const r = await run('packet-out', BR, 'in_port=1,packet=0000,actions=drop');
    expect(r.stderr).toBe('tsvs-ofctl: column 18: packet: Packet data too short for Ethernet\n');
  });
});
