#!/usr/bin/env python3
"""os-ken (Ryu) as a second, independent OpenFlow 1.3 implementation.

  osken_codec.py encode        one line per message os-ken serialises: "<name> <hex>"
  osken_codec.py parse         reads "<name> <hex>" lines on stdin, parses each with
                               os-ken's parser, prints "<name> ok <class>" or "<name> error <why>"

Used by ofproto-osken.test.ts; needs Debian's python3-os-ken."""
import binascii
import sys

from os_ken.ofproto import ofproto_parser
from os_ken.ofproto import ofproto_v1_3 as o
from os_ken.ofproto import ofproto_v1_3_parser as p


class DP:
    ofproto = o
    ofproto_parser = p
    id = 1


dp = DP()


def messages():
    m = []
    add = lambda name, msg: m.append((name, msg))
    add('hello', p.OFPHello(dp, elements=[p.OFPHelloElemVersionBitmap([1, 4])]))
    add('echo_request', p.OFPEchoRequest(dp, data=b'ping'))
    add('echo_reply', p.OFPEchoReply(dp, data=b''))
    add('experimenter', p.OFPExperimenter(dp, experimenter=0x2320, exp_type=20, data=b'\x00' * 8))
    add('features_request', p.OFPFeaturesRequest(dp))
    add('get_config_request', p.OFPGetConfigRequest(dp))
    add('set_config', p.OFPSetConfig(dp, o.OFPC_FRAG_NORMAL, 128))
    add('barrier_request', p.OFPBarrierRequest(dp))
    add('role_request', p.OFPRoleRequest(dp, o.OFPCR_ROLE_MASTER, 7))
    add('get_async_request', p.OFPGetAsyncRequest(dp))
    add('set_async', p.OFPSetAsync(dp, [1, 0], [7, 7], [15, 0]))
    add('queue_get_config_request', p.OFPQueueGetConfigRequest(dp, o.OFPP_ANY))
    add('table_mod', p.OFPTableMod(dp, o.OFPTT_ALL, 3))
    add('port_mod', p.OFPPortMod(dp, 2, '02:00:00:00:0f:12', o.OFPPC_PORT_DOWN, o.OFPPC_PORT_DOWN, 0))

    matches = [
        p.OFPMatch(in_port=1),
        p.OFPMatch(in_port=1, in_phy_port=1, metadata=(0x10, 0xf0), eth_dst=('01:00:00:00:00:00', '01:00:00:00:00:00'),
                   eth_src='02:00:00:00:0f:01', eth_type=0x0800, vlan_vid=(0x1000 | 100, 0x1fff), vlan_pcp=5,
                   ip_dscp=46, ip_ecn=1, ip_proto=6, ipv4_src=('10.0.0.0', '255.0.0.0'), ipv4_dst='10.0.0.1',
                   tcp_src=80, tcp_dst=8080, tunnel_id=(0xdead, 0xffff)),
        p.OFPMatch(eth_type=0x0800, ip_proto=17, udp_src=53, udp_dst=5353),
        p.OFPMatch(eth_type=0x86dd, ip_proto=132, sctp_src=1, sctp_dst=2),
        p.OFPMatch(eth_type=0x0800, ip_proto=1, icmpv4_type=8, icmpv4_code=0),
        p.OFPMatch(eth_type=0x0806, arp_op=1, arp_spa='10.0.0.1', arp_tpa=('10.0.0.0', '255.255.255.0'),
                   arp_sha='02:00:00:00:00:01', arp_tha=('00:00:00:00:00:00', 'ff:ff:ff:00:00:00')),
        p.OFPMatch(eth_type=0x86dd, ipv6_src=('fe80::1', 'ffff:ffff:ffff:ffff::'), ipv6_dst='fe80::2',
                   ipv6_flabel=0x12345, ip_proto=58, icmpv6_type=135, icmpv6_code=0, ipv6_nd_target='fe80::3',
                   ipv6_nd_sll='02:00:00:00:00:03', ipv6_exthdr=(4, 0x1ff)),
        p.OFPMatch(eth_type=0x86dd, ip_proto=58, icmpv6_type=136, ipv6_nd_tll='02:00:00:00:00:04'),
        p.OFPMatch(eth_type=0x8847, mpls_label=17, mpls_tc=3, mpls_bos=1),
        p.OFPMatch(eth_type=0x88e7, pbb_isid=(0xabcd00, 0xffff00)),
    ]
    actions = [
        p.OFPActionOutput(3, o.OFPCML_NO_BUFFER),
        p.OFPActionCopyTtlOut(), p.OFPActionCopyTtlIn(),
        p.OFPActionSetMplsTtl(63), p.OFPActionDecMplsTtl(),
        p.OFPActionPushVlan(0x8100), p.OFPActionPopVlan(),
        p.OFPActionPushMpls(0x8847), p.OFPActionPopMpls(0x0800),
        p.OFPActionSetQueue(7), p.OFPActionGroup(42),
        p.OFPActionSetNwTtl(9), p.OFPActionDecNwTtl(),
        p.OFPActionSetField(vlan_vid=0x1000 | 10), p.OFPActionSetField(eth_src='02:00:00:00:00:01'),
        p.OFPActionSetField(ipv6_dst='fe80::2'), p.OFPActionSetField(tunnel_id=0x1234),
        p.OFPActionPushPbb(0x88e7), p.OFPActionPopPbb(),
        p.OFPActionExperimenterUnknown(0x2320, data=b'\x00\x0e\xff\xf8\x01\x00\x00\x00'),
    ]
    inst = [
        p.OFPInstructionMeter(5),
        p.OFPInstructionActions(o.OFPIT_APPLY_ACTIONS, actions),
        p.OFPInstructionActions(o.OFPIT_CLEAR_ACTIONS, []),
        p.OFPInstructionActions(o.OFPIT_WRITE_ACTIONS, [p.OFPActionOutput(o.OFPP_NORMAL, 0)]),
        p.OFPInstructionWriteMetadata(0xff, 0xffff),
        p.OFPInstructionGotoTable(3),
    ]
    for i, match in enumerate(matches):
        add('flow_mod_%d' % i, p.OFPFlowMod(dp, cookie=i, cookie_mask=0, table_id=0, command=o.OFPFC_ADD,
                                            idle_timeout=10, hard_timeout=20, priority=1000 + i,
                                            buffer_id=o.OFP_NO_BUFFER, out_port=o.OFPP_ANY, out_group=o.OFPG_ANY,
                                            flags=o.OFPFF_SEND_FLOW_REM, match=match, instructions=inst))
    add('flow_mod_delete', p.OFPFlowMod(dp, table_id=o.OFPTT_ALL, command=o.OFPFC_DELETE, out_port=o.OFPP_ANY,
                                        out_group=o.OFPG_ANY, match=p.OFPMatch()))
    add('packet_out', p.OFPPacketOut(dp, buffer_id=o.OFP_NO_BUFFER, in_port=o.OFPP_CONTROLLER,
                                     actions=[p.OFPActionOutput(o.OFPP_FLOOD, 0)], data=b'\xff' * 60))
    buckets = [p.OFPBucket(50, o.OFPP_ANY, o.OFPG_ANY, [p.OFPActionOutput(1, 0)]),
               p.OFPBucket(50, o.OFPP_ANY, o.OFPG_ANY, [p.OFPActionOutput(2, 0), p.OFPActionDecNwTtl()])]
    add('group_mod_select', p.OFPGroupMod(dp, o.OFPGC_ADD, o.OFPGT_SELECT, 1, buckets))
    add('group_mod_ff', p.OFPGroupMod(dp, o.OFPGC_MODIFY, o.OFPGT_FF, 2,
                                      [p.OFPBucket(0, 1, o.OFPG_ANY, [p.OFPActionOutput(1, 0)])]))
    add('group_mod_delete', p.OFPGroupMod(dp, o.OFPGC_DELETE, o.OFPGT_ALL, o.OFPG_ALL, []))
    add('meter_mod', p.OFPMeterMod(dp, o.OFPMC_ADD, o.OFPMF_KBPS | o.OFPMF_BURST, 1,
                                   [p.OFPMeterBandDrop(1000, 100), p.OFPMeterBandDscpRemark(500, 50, 2)]))
    add('meter_mod_delete', p.OFPMeterMod(dp, o.OFPMC_DELETE, 0, o.OFPM_ALL, []))

    add('mp_desc', p.OFPDescStatsRequest(dp, 0))
    add('mp_flow', p.OFPFlowStatsRequest(dp, 0, o.OFPTT_ALL, o.OFPP_ANY, o.OFPG_ANY, 0, 0, p.OFPMatch(in_port=1)))
    add('mp_aggregate', p.OFPAggregateStatsRequest(dp, 0, 1, 2, 3, 4, 0xff, matches[4]))
    add('mp_table', p.OFPTableStatsRequest(dp, 0))
    add('mp_port_stats', p.OFPPortStatsRequest(dp, 0, o.OFPP_ANY))
    add('mp_queue', p.OFPQueueStatsRequest(dp, 0, o.OFPP_ANY, o.OFPQ_ALL))
    add('mp_group', p.OFPGroupStatsRequest(dp, 0, o.OFPG_ALL))
    add('mp_group_desc', p.OFPGroupDescStatsRequest(dp, 0))
    add('mp_group_features', p.OFPGroupFeaturesStatsRequest(dp, 0))
    add('mp_meter', p.OFPMeterStatsRequest(dp, 0, o.OFPM_ALL))
    add('mp_meter_config', p.OFPMeterConfigStatsRequest(dp, 0, 1))
    add('mp_meter_features', p.OFPMeterFeaturesStatsRequest(dp, 0))
    add('mp_port_desc', p.OFPPortDescStatsRequest(dp, 0))
    add('mp_table_features_empty', p.OFPTableFeaturesStatsRequest(dp, 0, []))
    props = [
        p.OFPTableFeaturePropInstructions(type_=o.OFPTFPT_INSTRUCTIONS,
                                          instruction_ids=[p.OFPInstructionId(t) for t in (1, 2, 3, 4, 5, 6)]),
        p.OFPTableFeaturePropNextTables(type_=o.OFPTFPT_NEXT_TABLES, table_ids=[1, 2, 3]),
        p.OFPTableFeaturePropActions(type_=o.OFPTFPT_APPLY_ACTIONS,
                                     action_ids=[p.OFPActionId(t) for t in (0, 22, 25)]),
        p.OFPTableFeaturePropOxm(type_=o.OFPTFPT_MATCH,
                                 oxm_ids=[p.OFPOxmId('in_port'), p.OFPOxmId('metadata', hasmask=True)]),
        p.OFPTableFeaturePropOxm(type_=o.OFPTFPT_APPLY_SETFIELD, oxm_ids=[p.OFPOxmId('eth_dst')]),
    ]
    tf = p.OFPTableFeaturesStats(table_id=0, name=b'classifier', metadata_match=0xffffffffffffffff,
                                 metadata_write=0xffffffffffffffff, config=0, max_entries=1000000,
                                 properties=props)
    add('mp_table_features', p.OFPTableFeaturesStatsRequest(dp, 0, [tf]))
    add('mp_experimenter', p.OFPExperimenterStatsRequest(dp, 0, 0x2320, 5, b'hello!!!'))
    return m


def encode():
    for i, (name, msg) in enumerate(messages()):
        msg.set_xid(100 + i)
        msg.serialize()
        print(name, binascii.hexlify(bytes(msg.buf)).decode())


def parse():
    for line in sys.stdin:
        if not line.strip():
            continue
        name, hexstr = line.split()
        buf = binascii.unhexlify(hexstr)
        version, msg_type, msg_len, xid = ofproto_parser.header(buf)
        try:
            msg = ofproto_parser.msg(dp, version, msg_type, msg_len, xid, buf)
            if msg is None:  # os-ken logs the failure and returns nothing
                print(name, 'error', 'unparsed')
            else:
                print(name, 'ok', type(msg).__name__)
        except Exception as e:  # noqa: BLE001 - report anything os-ken chokes on
            print(name, 'error', type(e).__name__, str(e).replace('\n', ' ')[:200])


if __name__ == '__main__':
    {'encode': encode, 'parse': parse}[sys.argv[1]]()
