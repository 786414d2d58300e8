// Real peer: Open vSwitch's own flow extraction (`ovs-ofctl parse-pcap`)
// against tsvs's extractFlow() on the fixture captures and a generated zoo of
// headers (VLAN, QinQ, MPLS, IPv6 extension headers, ND, fragments, 802.3/SNAP,
// truncations and random corruptions).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractFlow } from '../../datapath/flow/extract.js';
import { newKey, newLayout } from '../../datapath/flow/key.js';
import { formatLikeParsePcap } from '../helpers/ovs-match-format.js';
import { fixture, readPcap } from '../helpers/pcap.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvs-extract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function compare(pcap: string): Promise<number> {
  const ovs = execFileSync('ovs-ofctl', ['parse-pcap', pcap], { encoding: 'utf8', maxBuffer: 64 << 20 })
    .split('\n')
    .filter((l) => l.length > 0);
  const { packets } = await readPcap(pcap);
  expect(ovs.length).toBe(packets.length);
  const key = newKey();
  const layout = newLayout();
  const diffs: string[] = [];
  packets.forEach((p, i) => {
    extractFlow(p.data, 0, p.data.length, 0, key, layout);
    const mine = formatLikeParsePcap(key, layout);
    if (mine !== ovs[i]) diffs.push(`frame ${i + 1} (${p.data.toString('hex')}):\n  ovs : ${ovs[i]}\n  tsvs: ${mine}`);
  });
  expect(diffs.slice(0, 10).join('\n')).toBe('');
  return packets.length;
}

describe('flow extraction matches ovs-ofctl parse-pcap', () => {
  for (const name of ['flow-traffic-dxv1.pcap', 'lacp-ovs.pcap', 'cfm-ovs.pcap', 'openflow13-ovs-ofctl.pcap']) {
    it(name, async () => {
      expect(await compare(fixture(name))).toBeGreaterThan(0);
    });
  }
  it('generated header zoo with truncations and corruptions', async () => {
    const out = join(dir, 'zoo.pcap');
    execFileSync('/usr/bin/python3', [resolve(__dirname, 'tools/gen-frames.py'), out]);
    expect(await compare(out)).toBeGreaterThan(600);
  });
});
