// ofproto benchmarks: FLOW_MOD (ADD) rate, OpenFlow classifier lookups with
// wildcard accumulation, and full translations (upcall cost) through a
// two-table pipeline. Single-threaded, in-process; no datapath I/O.
import { extractFlow } from '../datapath/flow/extract.js';
import { newKey, newLayout } from '../datapath/flow/key.js';
import { buildEthernet } from '../datapath/packet/ethernet.js';
import { buildIpv4 } from '../datapath/packet/ipv4.js';
import { buildUdp } from '../datapath/packet/udp.js';
import { Datapath } from '../datapath/dpif.js';
import { newOfFlow, W_OF_IN_PORT } from '../ofproto/classifier/of-match.js';
import type { ConnectionSet, OfConn } from '../ofproto/ofconn.js';
import { GuestPort } from '../datapath/ports/guest.js';
import { Ofproto } from '../ofproto/ofproto.js';
import { OFP_NO_BUFFER, OFPAT, OFPFC, OFPG, OFPIT, OFPP, OFPT, OFPXMT as X } from '../ofproto/openflow/constants.js';
import type { FlowModMsg } from '../ofproto/openflow/flow-mod.js';
import { oxm } from '../ofproto/openflow/oxm.js';

interface Row {
  case: string;
  ops: number;
  opsPerSec: number;
  usPerOp: number;
}

const noConns: ConnectionSet = { connections: () => [], controllerConnected: () => false };

function fm(o: Partial<FlowModMsg>): FlowModMsg {
  return {
    type: OFPT.FLOW_MOD, version: 4, xid: 0, cookie: 0n, cookieMask: 0n, tableId: 0, command: OFPFC.ADD, idleTimeout: 0, hardTimeout: 0,
    priority: 100, bufferId: OFP_NO_BUFFER, outPort: OFPP.ANY, outGroup: OFPG.ANY, flags: 0, match: [], instructions: [], ...o,
  };
}

function time(name: string, ops: number, fn: () => void): Row {
  const t0 = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return { case: name, ops, opsPerSec: Math.round((ops * 1e9) / ns), usPerOp: ns / ops / 1000 };
}

export async function runOfprotoBench(o: { quick: boolean }): Promise<Row[]> {
  const n = o.quick ? 10_000 : 100_000;
  const dp = new Datapath({ name: 'bench' });
  const of = new Ofproto({ name: 'bench', datapath: dp, datapathId: 1n, connections: noConns, failMode: 'secure', runIntervalMs: 0, maxRulesPerTable: 1_000_000 });
  for (let i = 1; i <= 4; i++) of.addPort(await dp.addPort(new GuestPort(`g${i}`, { mac: `02:00:00:00:00:0${i}` })));
  const conn: OfConn = {
    id: 1, name: 'bench', version: 4, role: 'equal', service: true, missSendLen: 128,
    asyncConfig: { packetInMask: [0, 0], portStatusMask: [0, 0], flowRemovedMask: [0, 0] },
    send: (m) => {
      if (m.type === OFPT.ERROR) throw new Error(`bench: unexpected error ${m.errType}/${m.errCode}`);
    },
    wantsAsync: () => false,
  };
  const rows: Row[] = [];
  // Rules: /32 destinations (one subtable) plus a few masked subtables, in two tables.
  rows.push(
    time('FLOW_MOD ADD ipv4_dst/32 via handleMessage', n, () => {
      for (let i = 0; i < n; i++) {
        of.handleMessage(
          conn,
          fm({ match: [oxm(X.ETH_TYPE, 0x800), oxm(X.IPV4_DST, (0x0a000000 + i) >>> 0)], instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: 1 + (i % 4), maxLen: 0 }] }] }),
        );
      }
    }),
  );
  for (let p = 8; p <= 24; p += 8) {
    of.tables.flowMod(fm({ priority: p, match: [oxm(X.ETH_TYPE, 0x800), oxm(X.IPV4_SRC, 0xc0a80000, (0xffffffff << (32 - p)) >>> 0)], instructions: [{ type: OFPIT.GOTO_TABLE, tableId: 1 }] }), 0, () => {});
  }
  of.tables.flowMod(fm({ tableId: 1, priority: 0, instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: OFPP.FLOOD, maxLen: 0 }] }] }), 0, () => {});
  const flow = newOfFlow();
  flow[8] = 0x800;
  flow[W_OF_IN_PORT] = 1;
  const wc = newOfFlow();
  const table0 = of.tables.tables[0]!;
  rows.push(
    time(`classifier lookup (${table0.count} rules, ${table0.subtableCount} subtables, with wc)`, n * 10, () => {
      for (let i = 0; i < n * 10; i++) {
        flow[18] = (0x0a000000 + (i % (n * 2))) >>> 0;
        wc.fill(0);
        table0.lookup(flow, wc);
      }
    }),
  );
  // Full translation through the Ofproto upcall handler (what a megaflow miss costs).
  const frame = buildEthernet({
    dst: '02:00:00:00:00:02',
    src: '02:00:00:00:00:01',
    type: 0x800,
    payload: buildIpv4({ src: '192.168.1.1', dst: '10.0.0.5', protocol: 17, payload: buildUdp({ srcPort: 1, dstPort: 2 }) }),
  });
  const key = newKey();
  const layout = newLayout();
  extractFlow(frame, 0, frame.length, 1, key, layout);
  rows.push(
    time('upcall: xlate + megaflow mask (2 tables, output)', n, () => {
      for (let i = 0; i < n; i++) {
        key[18] = (0x0a000000 + (i % n)) >>> 0;
        of.miss(1, key, frame);
      }
    }),
  );
  return rows;
}
