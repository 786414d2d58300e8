#!/usr/bin/python3
"""osken-manager with an optional settle delay before each test packet.

Used by test/interop/conformance/rig.ts. Arguments are osken-manager's.
TSVS_CONF_SETTLE_SEC=<seconds> (default 0 = the stock tester) makes the
installed os_ken.tests.switch.tester wait that long after a test's flows are
installed and checked, before its one-shot test packet goes out. A switch
whose datapath cache is updated after the barrier reply (Open vSwitch's
revalidators, or any switch that revalidates lazily) could otherwise still
forward that packet with the previous test's flows. Throughput streams
(group and meter cases) are not delayed: the delay would skew their rates.
"""

import os
import sys

# The manager module monkey-patches (eventlet) on import: keep it first.
from os_ken.cmd import manager  # noqa: E402

settle_sec = float(os.environ.get('TSVS_CONF_SETTLE_SEC') or 0)
if settle_sec > 0:
    from os_ken.lib import hub
    from os_ken.tests.switch import tester

    stock_send = tester.OfTester._one_time_packet_send

    def settled_send(self, pkt):
        hub.sleep(settle_sec)
        return stock_send(self, pkt)

    tester.OfTester._one_time_packet_send = settled_send
    sys.stderr.write('tester_launch: %.3f s settle before test packets\n' % settle_sec)

if __name__ == '__main__':
    sys.exit(manager.main())
