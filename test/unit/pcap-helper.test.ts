import { describe, expect, it } from 'vitest';
import { fixture, readPcap } from '../helpers/pcap.js';

describe('pcap fixtures', () => {
  it('reads the standard traffic capture', async () => {
    const f = await readPcap(fixture('flow-traffic-dxv1.pcap'));
    expect(f.linkLayerType).toBe(1);
    expect(f.packets.length).toBe(42);
  });
});
