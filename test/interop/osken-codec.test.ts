// os-ken (Ryu), a second OpenFlow 1.3 implementation, both ways: every
// controller-to-switch message os-ken serialises decodes and re-encodes
// byte for byte here, and every switch-to-controller message we encode parses
// in os-ken. Needs Debian's python3-os-ken; skipped without it.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, OFPIT, OFPMP, OFPT, type OfpMessage } from '../../ofproto/openflow/index.js';
import { sampleMessages } from '../helpers/of-samples.js';

const SCRIPT = resolve(__dirname, 'osken_codec.py');
// Debian's interpreter, where python3-os-ken lives (a pyenv python3 may shadow it).
const PYTHON = '/usr/bin/python3';

function hasOsKen(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import os_ken.ofproto.ofproto_v1_3_parser'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const SWITCH_TO_CONTROLLER = new Set<number>([
  OFPT.HELLO,
  OFPT.ERROR,
  OFPT.ECHO_REQUEST,
  OFPT.ECHO_REPLY,
  OFPT.EXPERIMENTER,
  OFPT.FEATURES_REPLY,
  OFPT.GET_CONFIG_REPLY,
  OFPT.PACKET_IN,
  OFPT.FLOW_REMOVED,
  OFPT.PORT_STATUS,
  OFPT.MULTIPART_REPLY,
  OFPT.BARRIER_REPLY,
  OFPT.QUEUE_GET_CONFIG_REPLY,
  OFPT.ROLE_REPLY,
  OFPT.GET_ASYNC_REPLY,
]);

function label(m: OfpMessage): string {
  return `t${m.type}${'body' in m ? `-mp${m.body.mpType}` : ''}-x${m.xid}`;
}

describe.skipIf(!hasOsKen())('os-ken interop', () => {
  it('os-ken encodings decode and re-encode identically', () => {
    const out = execFileSync(PYTHON, [SCRIPT, 'encode'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(40);
    for (const line of lines) {
      const [name, hex] = line.split(' ');
      let m: OfpMessage;
      try {
        m = decodeMessage(Buffer.from(hex!, 'hex'));
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
      expect(encodeMessage(m).toString('hex'), name).toBe(hex);
    }
  });

  it('os-ken parses every switch-to-controller message we encode', () => {
    // Two things os-ken cannot read, both its limitations: hello elements it
    // does not know with their 8-byte padding (it steps by the unpadded
    // length), and experimenter instructions (its parser has none).
    const ours = sampleMessages()
      .filter((m) => SWITCH_TO_CONTROLLER.has(m.type))
      .filter((m) => m.type !== OFPT.HELLO || m.elements.every((e) => e.kind === 'versionBitmap'))
      .map((m): OfpMessage => {
        if (m.type !== OFPT.MULTIPART_REPLY || m.body.mpType !== OFPMP.FLOW) return m;
        const flows = m.body.flows.map((f) => ({ ...f, instructions: f.instructions.filter((i) => i.type !== OFPIT.EXPERIMENTER) }));
        return { ...m, body: { ...m.body, flows } };
      });
    const input = ours.map((m) => `${label(m)} ${encodeMessage(m).toString('hex')}`).join('\n') + '\n';
    const out = execFileSync(PYTHON, [SCRIPT, 'parse'], { input, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
    const results = out.trim().split('\n');
    expect(results).toHaveLength(ours.length);
    expect(results.filter((r) => !r.split(' ')[1]!.startsWith('ok'))).toEqual([]);
  });
});
