// StreamPort framing and connection handling over real unix sockets in a temp
// dir. Chunk boundaries the kernel would choose at random are forced by
// emitting 'data' on the port's own accepted socket.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SLOT_FRAME_MAX } from '../../../../datapath/packet-batch.js';
import type { PortTimers } from '../../../../datapath/ports/port-options.js';
import { StreamPort, type StreamPortOptions } from '../../../../datapath/ports/stream.js';
import { RecordingSink, patternFrame, streamRecord, waitFor } from '../../../helpers/port-sink.js';

let dir = '';
const cleanups: Array<() => unknown> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsvs-stream-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function newPort(opts: Partial<StreamPortOptions> = {}): { port: StreamPort; logs: string[] } {
  const logs: string[] = [];
  const port = new StreamPort('s1', { path: join(dir, 's1.sock'), log: (l) => logs.push(l), ...opts });
  port.portNo = 7;
  cleanups.push(() => port.stop());
  return { port, logs };
}

async function connectPeer(path: string): Promise<net.Socket> {
  const s = net.createConnection(path);
  cleanups.push(() => s.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/** Server-role port with a connected peer; returns the port's side of the connection too. */
async function serverWithPeer(opts: Partial<StreamPortOptions> = {}) {
  const { port, logs } = newPort(opts);
  const sink = new RecordingSink();
  await port.start(sink);
  const peer = await connectPeer(port.path);
  await waitFor(() => port.carrier, 2000, 'accept');
  const inner = (port as unknown as { sock: net.Socket }).sock;
  return { port, logs, sink, peer, inner };
}

describe('StreamPort (server role)', () => {
  it('listens with mode 0600, reports carrier, and removes its socket on stop', async () => {
    const { port, peer } = await serverWithPeer();
    expect(statSync(port.path).mode & 0o777).toBe(0o600);
    expect(port.carrier).toBe(true);
    peer.destroy();
    await waitFor(() => !port.carrier, 2000, 'carrier down');
    await port.stop();
    expect(existsSync(port.path)).toBe(false);
  });

  it('delivers several frames of one read as one batch', async () => {
    const { sink, peer, port } = await serverWithPeer();
    const frames = [patternFrame(42, 1), patternFrame(60, 2), patternFrame(1514, 3)];
    peer.write(Buffer.concat(frames.map(streamRecord)));
    await waitFor(() => sink.frames.length === 3);
    expect(sink.frames).toEqual(frames);
    expect(sink.batchSizes).toEqual([3]);
    expect(sink.ports).toEqual([7]);
    expect(port.stats).toMatchObject({ rxPackets: 3, rxBytes: 42 + 60 + 1514, rxErrors: 0 });
  });

  it('reassembles records split at every byte position, headers included', async () => {
    const { sink, inner, port } = await serverWithPeer();
    const frames = [patternFrame(60, 10), patternFrame(7, 20), patternFrame(300, 30)];
    const wire = Buffer.concat(frames.map(streamRecord));
    for (let cut = 1; cut < wire.length; cut++) {
      inner.emit('data', wire.subarray(0, cut));
      inner.emit('data', wire.subarray(cut));
    }
    const rounds = wire.length - 1;
    expect(sink.frames.length).toBe(3 * rounds);
    for (let r = 0; r < rounds; r++) expect(sink.frames.slice(3 * r, 3 * r + 3)).toEqual(frames);
    expect(port.stats.rxErrors).toBe(0);
  });

  it('reassembles a stream fed one byte at a time, and three-way splits', async () => {
    const { sink, inner } = await serverWithPeer();
    const frames = [patternFrame(64, 1), patternFrame(65, 2)];
    const wire = Buffer.concat(frames.map(streamRecord));
    for (let i = 0; i < wire.length; i++) inner.emit('data', wire.subarray(i, i + 1));
    expect(sink.frames).toEqual(frames);
    sink.frames.length = 0;
    for (let a = 1; a < 12; a++) {
      for (let b = a + 1; b < wire.length; b += 7) {
        inner.emit('data', wire.subarray(0, a));
        inner.emit('data', wire.subarray(a, b));
        inner.emit('data', wire.subarray(b));
      }
    }
    for (let i = 0; i < sink.frames.length; i += 2) expect(sink.frames.slice(i, i + 2)).toEqual(frames);
  });

  it('a read of more than a batch is delivered in batches of at most 32', async () => {
    const { sink, inner } = await serverWithPeer();
    const frames = Array.from({ length: 70 }, (_, i) => patternFrame(60, i));
    inner.emit('data', Buffer.concat(frames.map(streamRecord)));
    expect(sink.frames).toEqual(frames);
    expect(sink.batchSizes).toEqual([32, 32, 6]);
  });

  it('a zero length closes only that connection (rx error, log); frames before it still arrive', async () => {
    const { sink, peer, port, logs } = await serverWithPeer();
    const good = patternFrame(60, 5);
    peer.write(Buffer.concat([streamRecord(good), Buffer.from([0, 0, 0, 0]), streamRecord(good)]));
    await waitFor(() => !port.carrier, 2000, 'connection closed');
    expect(sink.frames).toEqual([good]);
    expect(port.stats.rxErrors).toBe(1);
    expect(logs.some((l) => /bad frame length 0/.test(l))).toBe(true);
    // The listener survives: a new peer is served.
    const peer2 = await connectPeer(port.path);
    await waitFor(() => port.carrier);
    peer2.write(streamRecord(good));
    await waitFor(() => sink.frames.length === 2);
  });

  it('an oversized length closes the connection, also when its header was split', async () => {
    const { sink, inner, port, logs } = await serverWithPeer({ maxFrameBytes: 2000 });
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(2001);
    inner.emit('data', hdr.subarray(0, 2));
    inner.emit('data', hdr.subarray(2));
    await waitFor(() => !port.carrier, 2000, 'connection closed');
    expect(port.stats.rxErrors).toBe(1);
    expect(logs.join('\n')).toMatch(/bad frame length 2001 .*allowed 1\.\.2000/);
    expect(sink.frames).toEqual([]);
  });

  it('a frame legal on the wire but larger than a batch slot is dropped, the stream goes on', async () => {
    const { sink, peer, port } = await serverWithPeer();
    const big = patternFrame(SLOT_FRAME_MAX + 1, 1);
    const small = patternFrame(60, 2);
    peer.write(Buffer.concat([streamRecord(big), streamRecord(small)]));
    await waitFor(() => sink.frames.length === 1);
    expect(sink.frames).toEqual([small]);
    expect(port.stats).toMatchObject({ rxDropped: 1, rxErrors: 0 });
    expect(port.carrier).toBe(true);
  });

  it('a peer that vanishes mid-frame costs one rx error and no frame', async () => {
    const { sink, peer, port, logs } = await serverWithPeer();
    const rec = streamRecord(patternFrame(100, 1));
    peer.end(rec.subarray(0, 50));
    await waitFor(() => !port.carrier, 2000, 'carrier down');
    expect(sink.frames).toEqual([]);
    expect(port.stats.rxErrors).toBe(1);
    expect(logs.join('\n')).toMatch(/mid-frame \(50 of 104 bytes\)/);
  });

  it('a new connection replaces the current one', async () => {
    const { sink, peer, port } = await serverWithPeer();
    const closed = new Promise<void>((r) => peer.once('close', () => r()));
    const peer2 = await connectPeer(port.path);
    await closed;
    expect(port.replaced).toBe(1);
    expect(port.connections).toBe(2);
    expect(port.status()).toMatchObject({ type: 'stream', role: 'server', carrier: true, connections: 2, replaced: 1 });
    peer2.write(streamRecord(patternFrame(60, 9)));
    await waitFor(() => sink.frames.length === 1);
    expect(port.carrier).toBe(true);
  });

  it('sends framed records, one socket write per flush', async () => {
    const { peer, port, inner } = await serverWithPeer();
    let writes = 0;
    const orig = inner.write.bind(inner);
    (inner as unknown as { write: typeof inner.write }).write = ((...args: Parameters<typeof inner.write>) => {
      writes++;
      return orig(...args);
    }) as typeof inner.write;
    const chunks: Buffer[] = [];
    peer.on('data', (c: Buffer) => chunks.push(c));
    const frames = [patternFrame(42, 1), patternFrame(1500, 2), patternFrame(60, 3)];
    for (const f of frames) port.send(f, 0, f.length);
    port.flush();
    expect(writes).toBe(1);
    const want = Buffer.concat(frames.map(streamRecord));
    await waitFor(() => Buffer.concat(chunks).length === want.length);
    expect(Buffer.concat(chunks)).toEqual(want);
    expect(port.stats).toMatchObject({ txPackets: 3, txBytes: 42 + 1500 + 60, txDropped: 0 });
  });

  it('frames sent while a write is outstanding go out with the next write', async () => {
    const { peer, port } = await serverWithPeer();
    const chunks: Buffer[] = [];
    peer.on('data', (c: Buffer) => chunks.push(c));
    const frames = Array.from({ length: 10 }, (_, i) => patternFrame(100 + i, i));
    for (const f of frames) {
      port.send(f, 0, f.length);
      port.flush(); // only the first flush writes; the rest wait for its callback
    }
    const want = Buffer.concat(frames.map(streamRecord));
    await waitFor(() => Buffer.concat(chunks).length === want.length);
    expect(Buffer.concat(chunks)).toEqual(want);
  });

  it('bounds the send queue and counts drops while the peer does not read', async () => {
    const { peer, port } = await serverWithPeer({ sendQueueBytes: 16 * 1024 });
    peer.pause();
    const f = patternFrame(1500, 1);
    for (let round = 0; round < 2000 && port.stats.txDropped === 0; round++) {
      for (let i = 0; i < 8; i++) port.send(f, 0, f.length);
      port.flush();
      await new Promise((r) => setImmediate(r));
    }
    expect(port.stats.txDropped).toBeGreaterThan(0);
    // Everything not dropped arrives once the peer reads again.
    let got = 0;
    peer.on('data', (c: Buffer) => (got += c.length));
    peer.resume();
    await waitFor(() => got === port.stats.txPackets * 1504, 10_000, 'queued frames');
  });

  it('drops frames while nobody is connected, and refuses length 0 or oversized frames', async () => {
    const { port } = newPort({ maxFrameBytes: 2000 });
    await port.start(new RecordingSink());
    const f = patternFrame(60, 1);
    port.send(f, 0, 60);
    expect(port.stats.txDropped).toBe(1);
    await connectPeer(port.path);
    await waitFor(() => port.carrier);
    port.send(f, 0, 0);
    port.send(patternFrame(2001, 1), 0, 2001);
    expect(port.stats.txDropped).toBe(3);
  });

  it('replaces a stale socket file but refuses to remove a regular file', async () => {
    const path = join(dir, 'stale.sock');
    // Leave a socket file behind like a crashed process would (libuv unlinks on close; a killed process does not).
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(statSync(path).isSocket()).toBe(true);
    const { port } = newPort({ path });
    await port.start(new RecordingSink());
    await connectPeer(path);
    await waitFor(() => port.carrier);
    await port.stop();
    writeFileSync(join(dir, 'plain'), 'x');
    const { port: p2 } = newPort({ path: join(dir, 'plain') });
    await expect(p2.start(new RecordingSink())).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('a listen that fails leaves the port stopped and startable', async () => {
    const { port } = newPort({ path: join(dir, 'no-such-dir', 's.sock') });
    await expect(port.start(new RecordingSink())).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(port.carrier).toBe(false);
    await port.stop();
  });

  it('rejects bad options with stable codes', () => {
    expect(() => new StreamPort('x', { path: '' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => new StreamPort('x', { path: '/tmp/' + 'a'.repeat(120) })).toThrow(/107 bytes/);
    expect(() => StreamPort.fromOptions('x', { path: '/tmp/a', role: 'listen' })).toThrow(/role "listen"/);
    expect(() => new StreamPort('x', { path: '/tmp/a', mac: 'zz' })).toThrow(/options:mac/);
    const p = StreamPort.fromOptions('x', { path: '/tmp/a', role: 'client', mac: '52:54:00:00:00:01' });
    expect([p.role, Buffer.from(p.mac).toString('hex'), p.mtu]).toEqual(['client', '525400000001', 1500]);
  });
});

/** Timers that only fire when the test says so; records every delay asked for. */
class ManualTimers implements PortTimers {
  readonly delays: number[] = [];
  private pending: Array<{ fn: () => void; id: number }> = [];
  private next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    const id = this.next++;
    this.pending.push({ fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== h);
  }
  get count(): number {
    return this.pending.length;
  }
  fireAll(): void {
    const p = this.pending;
    this.pending = [];
    for (const t of p) t.fn();
  }
}

describe('StreamPort (client role)', () => {
  it('connects to a listening peer, retries with bounded backoff, reconnects after the peer restarts', async () => {
    const timers = new ManualTimers();
    const path = join(dir, 'qemu.sock');
    const { port, logs } = newPort({ path, role: 'client', timers, backoffMinMs: 100, backoffMaxMs: 400 });
    const sink = new RecordingSink();
    await port.start(sink);
    // Nobody listens: each failure schedules the next try, 100, 200, 400, 400 ms.
    for (let i = 0; i < 4; i++) {
      await waitFor(() => timers.count === 1, 2000, `retry ${i}`);
      timers.fireAll();
    }
    await waitFor(() => timers.count === 1);
    expect(timers.delays).toEqual([100, 200, 400, 400, 400]);
    expect(port.connectFailures).toBe(5);
    expect(port.carrier).toBe(false);
    expect(logs.filter((l) => /cannot connect/.test(l))).toHaveLength(1);

    // "QEMU" starts listening; the next try connects and backoff resets.
    const accepted: net.Socket[] = [];
    let server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(path, r));
    timers.fireAll();
    await waitFor(() => port.carrier, 2000, 'connected');
    expect(port.nextBackoffMs).toBe(100);
    accepted[0].write(streamRecord(patternFrame(60, 1)));
    await waitFor(() => sink.frames.length === 1);
    const f = patternFrame(80, 2);
    port.send(f, 0, f.length);
    port.flush();
    const got = await new Promise<Buffer>((r) => accepted[0].once('data', r));
    expect(got).toEqual(streamRecord(f));

    // "QEMU" restarts: connection drops, listener gone and back.
    accepted[0].destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await waitFor(() => !port.carrier && timers.count === 1, 2000, 'reconnect scheduled');
    expect(timers.delays.at(-1)).toBe(100);
    server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(path, r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    timers.fireAll();
    await waitFor(() => port.carrier, 2000, 'reconnected');
    expect(port.connections).toBe(2);
    accepted[1].write(streamRecord(patternFrame(60, 3)));
    await waitFor(() => sink.frames.length === 2);

    // stop() cancels everything: no timer left, connection closed.
    await port.stop();
    expect(timers.count).toBe(0);
    await waitFor(() => accepted[1].destroyed || accepted[1].readableEnded, 2000, 'peer sees close');
  });
});
