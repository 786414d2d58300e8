// os-ken (Debian's python3-os-ken) as our controller: osken-manager listens,
// our active tcp: connection reaches it, its app logs the switch features,
// and ECHO, ROLE_REQUEST, PORT_DESC and a packet-in go both ways.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnMgr } from '../../ofproto/connmgr/connmgr.js';
import { OFP_NO_BUFFER, OFPR, OFPT, OFPXMT } from '../../ofproto/openflow/index.js';
import { FakeOfproto } from '../helpers/fake-ofproto.js';
import { freePort, PeerProcess } from '../helpers/peer-process.js';

const APP = resolve(__dirname, 'tools/connmgr_osken_app.py');
const PYTHON = '/usr/bin/python3';

function hasOsKenManager(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import os_ken.cmd.manager'], { stdio: 'ignore' });
    execFileSync('osken-manager', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasOsKenManager())('os-ken as controller', () => {
  let osken: PeerProcess | undefined;
  let mgr: ConnMgr | undefined;

  afterAll(async () => {
    await mgr?.stop();
    await osken?.stop();
  });

  it('connects to osken-manager; the app sees features, echo, role and a packet-in', async () => {
    const port = await freePort();
    osken = new PeerProcess(PYTHON, ['/usr/bin/osken-manager', '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), APP], {
      PYTHONUNBUFFERED: '1',
    });
    const handler = new FakeOfproto();
    const logs: string[] = [];
    mgr = new ConnMgr({ bridge: 'br0', handler, log: (l, m) => logs.push(`${l}: ${m}`) });
    await mgr.start();
    // osken-manager takes a moment to import and listen; our backoff retries (1, 2, 4 s...).
    await mgr.setControllers([{ target: `tcp:127.0.0.1:${port}`, maxBackoffMs: 2000 }]);
    await osken.waitFor(/CONNMGR-TEST switch features dpid=0000000000abcdef n_tables=254 capabilities=0x7/, 25_000);
    await osken.waitFor(/CONNMGR-TEST echo reply data=connmgr/);
    await osken.waitFor(/CONNMGR-TEST role reply role=2 generation_id=7/);
    await osken.waitFor(/CONNMGR-TEST port desc 1:p1/);

    const conn = [...mgr.connections()][0]!;
    expect(conn.role).toBe('master');
    expect(handler.messagesOfType(OFPT.FLOW_MOD)).toHaveLength(1);
    expect(conn.wantsAsync('packet_in', OFPR.NO_MATCH)).toBe(true);
    const frame = Buffer.alloc(60, 0x11);
    conn.send({
      type: OFPT.PACKET_IN,
      version: conn.version,
      xid: 0,
      bufferId: OFP_NO_BUFFER,
      totalLen: frame.length,
      reason: OFPR.NO_MATCH,
      tableId: 0,
      cookie: 0n,
      match: [{ kind: 'basic', field: OFPXMT.IN_PORT, value: 1 }],
      data: frame,
    });
    await osken.waitFor(/CONNMGR-TEST packet in reason=0 total_len=60 in_port=1/);
    expect(mgr.controllerStatus()[0]).toMatchObject({ isConnected: true, role: 'master', state: 'ACTIVE' });
    expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
  });
});
