// Every one of the 271 corpus messages against the line OVS's own decoder
// printed for it (`ovs-ofctl ofp-parse-pcap`, in the fixtures' .txt): same
// message type and xid per connection and direction, and for flow mods,
// packet-ins and packet-outs the numbers on that line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMessage, type OfpMessage } from '../../../../ofproto/openflow/codec.js';
import { OFPMP, OFPP, OFPT, OFPXMT } from '../../../../ofproto/openflow/constants.js';
import { fixture } from '../../../helpers/pcap.js';
import { loadCorpus, OF_CAPTURES } from '../../../helpers/of-corpus.js';

interface Printed {
  key: string;
  line: string;
}

/** The ofp-parse-pcap section: per "src > dst" (ports), the first line of each message. */
function printedMessages(txt: string): Map<string, string[]> {
  const lines = txt.split('\n');
  const start = lines.findIndex((l) => l.startsWith('## ovs-ofctl ofp-parse-pcap'));
  const out = new Map<string, string[]>();
  const list: Printed[] = [];
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith('## '); i++) {
    const m = /^[\d.]+\.(\d+) > [\d.]+\.(\d+):$/.exec(lines[i]!);
    if (m) list.push({ key: `${m[1]}>${m[2]}`, line: lines[i + 1]! });
  }
  for (const p of list) {
    if (!out.has(p.key)) out.set(p.key, []);
    out.get(p.key)!.push(p.line);
  }
  return out;
}

const TYPE_NAMES = new Map<number, string>(Object.entries(OFPT).map(([k, v]) => [v, `OFPT_${k}`]));
const MP_NAMES = new Map<number, string>(Object.entries(OFPMP).map(([k, v]) => [v, k === 'PORT_STATS' ? 'PORT' : k]));

/** How ofp-print names a message: OFPT_X, or OFPST_X request/reply. */
function printedName(m: OfpMessage): string {
  if (m.type === OFPT.MULTIPART_REQUEST) return `OFPST_${MP_NAMES.get(m.body.mpType)} request`;
  if (m.type === OFPT.MULTIPART_REPLY) return `OFPST_${MP_NAMES.get(m.body.mpType)} reply`;
  return TYPE_NAMES.get(m.type)!;
}

function num(line: string, re: RegExp): number | undefined {
  const m = re.exec(line);
  return m ? Number(m[1]) : undefined;
}

function portName(port: number): string {
  return port === OFPP.CONTROLLER ? 'CONTROLLER' : port === OFPP.LOCAL ? 'LOCAL' : String(port);
}

describe('corpus against ofp-parse-pcap, message by message', () => {
  for (const cap of OF_CAPTURES) {
    it(`${cap.file}: type, xid and key numbers of all ${cap.expected} messages`, async () => {
      const printed = printedMessages(readFileSync(fixture(cap.file.replace('.pcap', '.txt')), 'utf8'));
      const { messages } = await loadCorpus(cap.file, cap.port);
      let checked = 0;
      for (const c of messages) {
        const key = c.direction === 'c2s' ? `${c.peerPort}>${cap.port}` : `${cap.port}>${c.peerPort}`;
        const line = printed.get(key)?.[c.index];
        expect(line, `${key} #${c.index}`).toBeDefined();
        const m = decodeMessage(c.bytes);
        const where = `${key} #${c.index}: ${line}`;
        expect(line!.startsWith(`${printedName(m)} (OF1.3) (xid=0x${m.xid.toString(16)})`), where).toBe(true);
        if (m.type === OFPT.FLOW_MOD) {
          expect(m.priority, where).toBe(num(line!, /priority=(\d+)/) ?? 0x8000);
          expect(m.tableId, where).toBe(num(line!, /\stable:(\d+)/) ?? 0);
          expect(m.idleTimeout, where).toBe(num(line!, /idle:(\d+)/) ?? 0);
          expect(m.hardTimeout, where).toBe(num(line!, /hard:(\d+)/) ?? 0);
          const inPort = m.match.find((f) => f.kind === 'basic' && f.field === OFPXMT.IN_PORT);
          expect(inPort?.kind === 'basic' ? inPort.value : undefined, where).toBe(num(line!, /in_port=(\d+)/));
        } else if (m.type === OFPT.PACKET_IN) {
          expect(m.totalLen, where).toBe(num(line!, /total_len=(\d+)/));
          expect(m.data.length, where).toBe(num(line!, /data_len=(\d+)/));
          const inPort = m.match.find((f) => f.kind === 'basic' && f.field === OFPXMT.IN_PORT);
          expect(inPort?.kind === 'basic' ? inPort.value : undefined, where).toBe(num(line!, /in_port=(\d+)/));
        } else if (m.type === OFPT.PACKET_OUT) {
          expect(m.data.length, where).toBe(num(line!, /data_len=(\d+)/));
          expect(line!, where).toContain(`in_port=${portName(m.inPort)} `);
        }
        checked++;
      }
      expect(checked).toBe(cap.expected);
      expect([...printed.values()].reduce((a, l) => a + l.length, 0)).toBe(cap.expected);
    });
  }
});
