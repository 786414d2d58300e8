// Real controller encodings: a minimal OpenFlow 1.3 endpoint built on the
// codec (HELLO, FEATURES/BARRIER/ECHO replies, empty multipart replies)
// accepts `ovs-ofctl` connections; every message ovs-ofctl sends for a list
// of flows, groups, meters and dumps must decode and re-encode byte for byte.
import { execFile, execFileSync } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  makeHello,
  MessageFramer,
  OFPMP,
  OFPT,
  type MultipartReplyBody,
  type OfpMessage,
} from '../../ofproto/openflow/index.js';

function hasOvsOfctl(): boolean {
  try {
    execFileSync('ovs-ofctl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** An empty reply body for a request body type. */
function emptyReply(mpType: number): MultipartReplyBody | undefined {
  switch (mpType) {
    case OFPMP.DESC:
      return { mpType, mfrDesc: 'tsvs', hwDesc: 'tsvs', swDesc: '0', serialNum: '', dpDesc: '' };
    case OFPMP.FLOW:
      return { mpType, flows: [] };
    case OFPMP.AGGREGATE:
      return { mpType, packetCount: 0n, byteCount: 0n, flowCount: 0 };
    case OFPMP.TABLE:
    case OFPMP.TABLE_FEATURES:
      return { mpType, tables: [] };
    case OFPMP.PORT_STATS:
    case OFPMP.PORT_DESC:
      return { mpType, ports: [] };
    case OFPMP.QUEUE:
      return { mpType, queues: [] };
    case OFPMP.GROUP:
    case OFPMP.GROUP_DESC:
      return { mpType, groups: [] };
    case OFPMP.METER:
    case OFPMP.METER_CONFIG:
      return { mpType, meters: [] };
    case OFPMP.GROUP_FEATURES:
      return { mpType, types: 0xf, capabilities: 0, maxGroups: [1, 1, 1, 1], actions: [1, 1, 1, 1] };
    case OFPMP.METER_FEATURES:
      return { mpType, maxMeter: 100, bandTypes: 6, capabilities: 0xf, maxBands: 8, maxColor: 0 };
    default:
      return undefined;
  }
}

function reply(m: OfpMessage): OfpMessage | undefined {
  const base = { version: 4, xid: m.xid };
  switch (m.type) {
    case OFPT.FEATURES_REQUEST:
      return { type: OFPT.FEATURES_REPLY, ...base, datapathId: 1n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 };
    case OFPT.GET_CONFIG_REQUEST:
      return { type: OFPT.GET_CONFIG_REPLY, ...base, flags: 0, missSendLen: 0 };
    case OFPT.BARRIER_REQUEST:
      return { type: OFPT.BARRIER_REPLY, ...base };
    case OFPT.ECHO_REQUEST:
      return { type: OFPT.ECHO_REPLY, ...base, data: m.data };
    case OFPT.MULTIPART_REQUEST: {
      const body = emptyReply(m.body.mpType);
      return body && { type: OFPT.MULTIPART_REPLY, ...base, flags: 0, body };
    }
    default:
      return undefined;
  }
}

const received: Buffer[] = [];
const failures: string[] = [];
let server: Server;
let port = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.write(encodeMessage(makeHello([4], 1)));
    const framer = new MessageFramer();
    sock.on('data', (chunk) => {
      for (const bytes of framer.push(chunk)) {
        received.push(Buffer.from(bytes));
        let m: OfpMessage;
        try {
          m = decodeMessage(bytes);
        } catch (e) {
          failures.push(`${(e as Error).message}: ${bytes.toString('hex')}`);
          continue;
        }
        const r = reply(m);
        if (r) sock.write(encodeMessage(r));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Runs `ovs-ofctl [--options] COMMAND tcp:127.0.0.1:PORT [ARGS]` against our endpoint. */
function ofctl(...args: string[]): Promise<void> {
  const opts = args.filter((a, i) => a.startsWith('--') && args.slice(0, i).every((x) => x.startsWith('--')));
  const [cmd, ...rest] = args.slice(opts.length);
  const argv = ['--no-names', '-O', 'OpenFlow13', ...opts, cmd!, `tcp:127.0.0.1:${port}`, ...rest];
  return new Promise((resolve, reject) => {
    execFile('ovs-ofctl', argv, { timeout: 10_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`ovs-ofctl ${argv.join(' ')}: ${stderr || err.message}`)) : resolve(),
    );
  });
}

const FLOWS = [
  'table=0,priority=100,in_port=1,actions=output:2',
  'priority=5,idle_timeout=30,hard_timeout=60,send_flow_rem,tcp,tp_dst=5001,actions=output:2',
  'ip,nw_src=10.0.0.0/8,nw_dst=10.1.2.3,nw_tos=184,nw_ecn=1,actions=dec_ttl,mod_nw_ttl:9,output:NORMAL',
  'tcp,tp_src=0x1000/0xf000,tp_dst=80,tcp_flags=+syn-ack,actions=drop',
  'udp6,ipv6_src=fe80::1/64,ipv6_dst=fe80::2,ipv6_label=0x12345,udp_dst=53,actions=set_field:fe80::3->ipv6_dst,output:IN_PORT',
  'icmp6,icmp_type=135,nd_target=fe80::5,nd_sll=02:00:00:00:00:03,actions=CONTROLLER:128',
  'arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_sha=02:00:00:00:00:01,actions=FLOOD',
  'dl_vlan=100,dl_vlan_pcp=5,dl_src=02:00:00:00:00:01,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=pop_vlan,push_vlan:0x8100,set_field:4196->vlan_vid,output:3',
  'mpls,mpls_label=17,mpls_tc=3,mpls_bos=1,actions=pop_mpls:0x0800,output:1',
  'ip,actions=push_mpls:0x8847,set_field:10->mpls_label,set_mpls_ttl(9),dec_mpls_ttl,output:1',
  'metadata=0x10/0xf0,tun_id=0x1234,actions=write_metadata:0xff/0xffff,goto_table:3',
  'table=3,priority=1,actions=clear_actions,write_actions(set_queue:7,group:1)',
  'reg0=5,reg1=0x10/0xff,actions=load:42->NXM_NX_REG2[],resubmit(,4),move:NXM_NX_REG0[]->NXM_NX_REG3[]',
  'ct_state=-trk,ip,actions=ct(table=5,zone=1)',
  'ct_state=+trk+new,ip,actions=ct(commit,zone=1),learn(table=9,hard_timeout=60,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),output:2',
  'cookie=0x1234,priority=10,udp,actions=set_field:10.99.1.2->ip_dst,set_field:1234->udp_dst,note:0102,output:2',
  'icmp,icmp_type=8,icmp_code=0,actions=meter:1,output:1',
];

describe.skipIf(!hasOvsOfctl())('ovs-ofctl encodings', () => {
  it('add-flow, add-group, add-meter, mods, dels and dumps: everything decodes and re-encodes identically', async () => {
    for (const f of FLOWS) await ofctl('add-flow', f);
    await ofctl('add-group', 'group_id=1,type=select,bucket=weight:50,actions=output:1,bucket=weight:50,actions=output:2');
    await ofctl('add-group', 'group_id=2,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2');
    await ofctl('add-group', 'group_id=3,type=all,bucket=actions=output:1,bucket=actions=set_field:02:00:00:00:00:09->eth_dst,output:2');
    await ofctl('add-group', 'group_id=4,type=indirect,bucket=actions=group:3');
    await ofctl('add-meter', 'meter=1,kbps,burst,band=type=drop,rate=1000,burst_size=100');
    await ofctl('add-meter', 'meter=2,pktps,stats,band=type=dscp_remark,rate=10,prec_level=1');
    await ofctl('--strict', 'mod-flows', 'priority=100,in_port=1,actions=output:2,output:LOCAL');
    await ofctl('--strict', 'del-flows', 'priority=100,in_port=1');
    await ofctl('del-flows', 'tcp');
    await ofctl('del-groups', 'group_id=4');
    await ofctl('del-meter', 'meter=2');
    for (const cmd of ['dump-flows', 'dump-aggregate', 'dump-tables', 'dump-ports', 'dump-ports-desc', 'dump-groups', 'dump-group-stats']) await ofctl(cmd);
    for (const cmd of ['dump-group-features', 'dump-meters', 'meter-stats', 'meter-features', 'queue-stats', 'dump-desc', 'get-frags']) await ofctl(cmd);
    await ofctl('packet-out', 'in_port=controller packet=ffffffffffff020000000f0008060001080006040001020000000f000a6301fe0000000000000a630102 actions=output:2');

    expect(failures).toEqual([]);
    const types = new Set<number>();
    let flowMods = 0;
    let nicira = 0;
    let opaqueOxms = 0;
    for (const bytes of received) {
      const m = decodeMessage(bytes);
      types.add(m.type);
      if (m.type === OFPT.FLOW_MOD) {
        flowMods++;
        opaqueOxms += m.match.filter((f) => f.kind === 'opaque').length;
        for (const ins of m.instructions) if ('actions' in ins) nicira += ins.actions.filter((a) => a.type === 0xffff).length;
      }
      expect(encodeMessage(m).toString('hex'), bytes.toString('hex')).toBe(bytes.toString('hex'));
    }
    // Nicira actions (load, resubmit, move, ct, learn, note) and NXM/experimenter
    // match fields (reg0, reg1, ct_state, tcp_flags) pass through opaque.
    expect(flowMods).toBeGreaterThanOrEqual(FLOWS.length + 3);
    expect(nicira).toBeGreaterThanOrEqual(7);
    expect(opaqueOxms).toBeGreaterThanOrEqual(5);
    for (const t of [OFPT.HELLO, OFPT.FLOW_MOD, OFPT.GROUP_MOD, OFPT.METER_MOD, OFPT.MULTIPART_REQUEST, OFPT.PACKET_OUT, OFPT.BARRIER_REQUEST]) {
      expect(types.has(t), `type ${t}`).toBe(true);
    }
  }, 60_000);
});
