// A stand-in for ofproto behind connmgr: records what it is given and answers
// the few requests tools send right after connecting (ovs-ofctl show/dump-desc:
// GET_CONFIG, DESC, PORT_DESC), so handshakes with real peers complete.
import type { OfConn, OfprotoHandler } from '../../ofproto/ofconn.js';
import { OFPMP, OFPT, OFPC, type OfpMessage } from '../../ofproto/openflow/index.js';

export class FakeOfproto implements OfprotoHandler {
  readonly received: { conn: OfConn; msg: OfpMessage }[] = [];
  readonly events: string[] = [];
  /** Called for each message after recording; may throw to test error paths. */
  onMessage: ((conn: OfConn, msg: OfpMessage) => void) | undefined;
  datapathId = 0x0000_0000_00ab_cdefn;

  handleMessage(conn: OfConn, msg: OfpMessage): void {
    this.received.push({ conn, msg });
    if (this.onMessage) {
      this.onMessage(conn, msg);
      return;
    }
    const base = { version: conn.version, xid: msg.xid };
    if (msg.type === OFPT.GET_CONFIG_REQUEST) {
      conn.send({ type: OFPT.GET_CONFIG_REPLY, ...base, flags: 0, missSendLen: conn.missSendLen });
    } else if (msg.type === OFPT.MULTIPART_REQUEST && msg.body.mpType === OFPMP.DESC) {
      conn.send({
        type: OFPT.MULTIPART_REPLY,
        ...base,
        flags: 0,
        body: { mpType: OFPMP.DESC, mfrDesc: 'tsvs', hwDesc: 'fake ofproto', swDesc: 'connmgr test', serialNum: 'none', dpDesc: 'br-test' },
      });
    } else if (msg.type === OFPT.MULTIPART_REQUEST && msg.body.mpType === OFPMP.PORT_DESC) {
      conn.send({
        type: OFPT.MULTIPART_REPLY,
        ...base,
        flags: 0,
        body: {
          mpType: OFPMP.PORT_DESC,
          ports: [
            {
              portNo: 1,
              hwAddr: Buffer.from('020000000001', 'hex'),
              name: 'p1',
              config: 0,
              state: 0,
              curr: 0,
              advertised: 0,
              supported: 0,
              peer: 0,
              currSpeedKbps: 0,
              maxSpeedKbps: 0,
            },
          ],
        },
      });
    }
  }

  connected(conn: OfConn): void {
    this.events.push(`connected ${conn.id}`);
  }

  disconnected(conn: OfConn): void {
    this.events.push(`disconnected ${conn.id}`);
  }

  features(): ReturnType<OfprotoHandler['features']> {
    return { datapathId: this.datapathId, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS };
  }

  messagesOfType(type: number): OfpMessage[] {
    return this.received.filter((r) => r.msg.type === type).map((r) => r.msg);
  }
}
