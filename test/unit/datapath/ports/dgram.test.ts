// DgramPort over real UDP sockets on 127.0.0.1: one frame per datagram,
// batching of datagrams that arrive together, the bounded transmit ring.
import * as dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DgramPort, parseUdpEndpoint } from '../../../../datapath/ports/dgram.js';
import { RecordingSink, patternFrame, waitFor } from '../../../helpers/port-sink.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function udpSocket(port = 0): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(port, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

/** A free UDP port number (bind to 0, read, release). */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** A DgramPort and a socket standing in for QEMU at options:remote. */
async function pair(sendSlots?: number) {
  const qemu = await udpSocket();
  const local = await freePort();
  const port = new DgramPort('d1', { local: `127.0.0.1:${local}`, remote: `127.0.0.1:${qemu.address().port}`, sendSlots });
  port.portNo = 3;
  const sink = new RecordingSink();
  await port.start(sink);
  cleanups.push(() => port.stop());
  return { port, sink, qemu, local };
}

describe('DgramPort', () => {
  it('receives one frame per datagram; datagrams of one poll phase form one batch', async () => {
    const { port, sink, qemu, local } = await pair();
    const frames = [patternFrame(42, 1), patternFrame(60, 2), patternFrame(1514, 3)];
    for (const f of frames) qemu.send(f, local, '127.0.0.1');
    await waitFor(() => sink.frames.length === 3);
    expect(sink.frames).toEqual(frames);
    expect(sink.batchSizes.reduce((a, b) => a + b, 0)).toBe(3);
    expect(sink.ports.every((p) => p === 3)).toBe(true);
    expect(port.stats).toMatchObject({ rxPackets: 3, rxBytes: 42 + 60 + 1514 });
    expect(port.carrier).toBe(true);
  });

  it('a burst larger than a batch is delivered in batches of at most 32', async () => {
    const { sink, qemu, local } = await pair();
    for (let i = 0; i < 80; i++) qemu.send(patternFrame(60, i), local, '127.0.0.1');
    await waitFor(() => sink.frames.length === 80);
    expect(Math.max(...sink.batchSizes)).toBeLessThanOrEqual(32);
    expect(sink.frames[79]).toEqual(patternFrame(60, 79));
  });

  it('sends each frame as one datagram to options:remote', async () => {
    const { port, qemu } = await pair();
    const got: Buffer[] = [];
    qemu.on('message', (m) => got.push(m));
    const frames = [patternFrame(42, 1), patternFrame(1514, 2)];
    for (const f of frames) port.send(f, 0, f.length);
    port.flush();
    await waitFor(() => got.length === 2);
    expect(got).toEqual(frames);
    expect(port.stats).toMatchObject({ txPackets: 2, txBytes: 42 + 1514, txDropped: 0 });
  });

  it('ignores datagrams from anyone but options:remote, counts runts as rx errors', async () => {
    const { port, sink, qemu, local } = await pair();
    const stranger = await udpSocket();
    stranger.send(patternFrame(60, 1), local, '127.0.0.1');
    qemu.send(Buffer.alloc(10), local, '127.0.0.1');
    qemu.send(patternFrame(60, 2), local, '127.0.0.1');
    await waitFor(() => sink.frames.length === 1 && port.strangers === 1);
    expect(sink.frames).toEqual([patternFrame(60, 2)]);
    expect(port.stats.rxErrors).toBe(1);
    expect(port.status()).toMatchObject({ type: 'dgram', local: `127.0.0.1:${local}`, carrier: true, strangers: 1, txInFlight: 0 });
  });

  it('bounds the transmit ring: frames beyond its slots are dropped; slots come back after sending', async () => {
    const { port, qemu } = await pair(4);
    let got = 0;
    qemu.on('message', () => got++);
    const f = patternFrame(100, 1);
    for (let i = 0; i < 10; i++) port.send(f, 0, f.length);
    expect(port.stats).toMatchObject({ txPackets: 4, txDropped: 6 });
    port.flush();
    await waitFor(() => got === 4);
    for (let i = 0; i < 4; i++) port.send(f, 0, f.length);
    port.flush();
    await waitFor(() => got === 8);
    expect(port.stats.txDropped).toBe(6);
    port.send(patternFrame(1600, 1), 0, 1600); // above MTU + headers
    expect(port.stats.txDropped).toBe(7);
  });

  it('stop closes the socket and drops what is still queued', async () => {
    const { port, local } = await pair();
    const f = patternFrame(60, 1);
    port.send(f, 0, 60);
    await port.stop();
    expect(port.carrier).toBe(false);
    expect(port.stats).toMatchObject({ txPackets: 0, txDropped: 1 });
    // The local port is free again.
    const again = await udpSocket(local);
    expect(again.address().port).toBe(local);
  });

  it('a local port already in use fails start with EADDRINUSE', async () => {
    const taken = await udpSocket();
    const port = new DgramPort('d2', { local: `127.0.0.1:${taken.address().port}`, remote: '127.0.0.1:9' });
    await expect(port.start(new RecordingSink())).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(port.carrier).toBe(false);
  });

  it('parses HOST:PORT and refuses unix paths with ENOTSUP', () => {
    expect(parseUdpEndpoint('d', 'local', '127.0.0.1:4000')).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(() => parseUdpEndpoint('d', 'local', '/tmp/x.sock')).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
    expect(() => parseUdpEndpoint('d', 'remote', 'localhost:1')).toThrow(/IPV4:PORT/);
    expect(() => parseUdpEndpoint('d', 'remote', '127.0.0.1:70000')).toThrow(/IPV4:PORT/);
    expect(() => DgramPort.fromOptions('d', { local: '127.0.0.1:1' })).toThrow(/options:remote/);
  });
});
