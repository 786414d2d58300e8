// An in-process OpenFlowBridge for ofproto/trace tests: guests p1..pN on
// OpenFlow ports 1..N (fail-mode secure), flows and groups loaded from
// ovs-ofctl text, and ofproto/trace run as the daemon runs it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestPort } from '../../datapath/ports/guest.js';
import { OpenFlowBridge } from '../../ofproto/bridge.js';
import { OFPT } from '../../ofproto/openflow/constants.js';
import { parseFlowMod, parseGroupMod } from '../../ofproto/openflow/text/index.js';
import { ofprotoTrace } from '../../vswitchd/ofproto-appctl.js';
import { FakeConn } from './ofproto-fixture.js';

export interface TraceBridge {
  br: OpenFlowBridge;
  guests: GuestPort[];
  conn: FakeConn;
  /** ofproto/trace BRIDGE ...args */
  trace(...args: string[]): string;
  addFlows(lines: string): void;
  addGroups(lines: string): void;
  stop(): Promise<void>;
}

export async function traceBridge(name: string, nPorts = 3, o: { failMode?: 'secure' | 'standalone' } = {}): Promise<TraceBridge> {
  const rundir = mkdtempSync(join(tmpdir(), 'tsvs-trace-'));
  const br = new OpenFlowBridge({ name, rundir, failMode: o.failMode ?? 'secure', ofprotoOptions: { runIntervalMs: 0 } });
  const guests: GuestPort[] = [];
  await br.start();
  for (let i = 1; i <= nPorts; i++) {
    const g = new GuestPort(`p${i}`, { mac: `02:00:00:00:00:0${i}`, ip: `10.0.0.${i}/24` });
    guests.push(g);
    await br.addPort(g, { ofPort: i });
  }
  const conn = new FakeConn();
  const send = (m: Parameters<typeof br.ofproto.handleMessage>[1]): void => {
    br.ofproto.handleMessage(conn, m);
    const errs = conn.take(OFPT.ERROR);
    if (errs.length > 0) throw new Error(`OpenFlow error ${JSON.stringify(errs[0])}`);
  };
  const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return {
    br,
    guests,
    conn,
    trace: (...args) => ofprotoTrace({ list: () => [{ name: br.name, of: br }] }, [name, ...args]),
    addFlows: (text) => {
      for (const l of lines(text)) send(parseFlowMod(l, { command: 'add' }));
    },
    addGroups: (text) => {
      for (const l of lines(text)) send(parseGroupMod(l, { command: 'add' }));
    },
    stop: async () => {
      await br.stop();
      rmSync(rundir, { recursive: true, force: true });
    },
  };
}
