"""A tiny os-ken app for connmgr-osken.test.ts: on each switch it logs the
features, installs a table-miss flow, sends an ECHO_REQUEST and claims the
master role, then logs the replies and any packet-in, each on one
"CONNMGR-TEST ..." line of stdout that the test waits for."""
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3


def say(line):
    print("CONNMGR-TEST " + line, flush=True)


class ConnmgrProbe(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        msg = ev.msg
        say("switch features dpid=%016x n_tables=%d capabilities=0x%x" % (msg.datapath_id, msg.n_tables, msg.capabilities))
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=0, match=parser.OFPMatch(), instructions=inst))
        dp.send_msg(parser.OFPEchoRequest(dp, data=b"connmgr"))
        dp.send_msg(parser.OFPRoleRequest(dp, ofp.OFPCR_ROLE_MASTER, 7))

    @set_ev_cls(ofp_event.EventOFPEchoReply, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def echo_reply(self, ev):
        say("echo reply data=%s" % ev.msg.data.decode(errors="replace"))

    @set_ev_cls(ofp_event.EventOFPRoleReply, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def role_reply(self, ev):
        say("role reply role=%d generation_id=%d" % (ev.msg.role, ev.msg.generation_id))

    @set_ev_cls(ofp_event.EventOFPPortDescStatsReply, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def port_desc(self, ev):
        say("port desc %s" % ",".join("%d:%s" % (p.port_no, p.name.decode()) for p in ev.msg.body))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        say("packet in reason=%d total_len=%d in_port=%s" % (ev.msg.reason, ev.msg.total_len, ev.msg.match.get("in_port")))
