// ConnMgr with a manual clock: reconnect backoff of active controllers and
// their DB status. Connection failures are real (a unix socket that does not
// exist); only time is fake.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnMgr } from '../../../../ofproto/connmgr/connmgr.js';
import { FakeOfproto } from '../../../helpers/fake-ofproto.js';
import { ManualTimers } from '../../../helpers/manual-timers.js';
import { OfPeer } from '../../../helpers/of-peer.js';

let dir: string;
let mgr: ConnMgr | undefined;
let server: Server | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'connmgr-'));
});

afterEach(async () => {
  await mgr?.stop();
  mgr = undefined;
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function nextEvent<T extends unknown[]>(m: ConnMgr, ev: 'connected' | 'disconnected' | 'connect-failed'): Promise<T> {
  return new Promise((resolve) => m.once(ev, (...args: unknown[]) => resolve(args as T)));
}

describe('ConnMgr: active controller backoff', () => {
  it('retries after 1, 2, 4, 8, 8 s and reports BACKOFF with the last error', async () => {
    const timers = new ManualTimers();
    const logs: string[] = [];
    mgr = new ConnMgr({ bridge: 'br0', handler: new FakeOfproto(), timers, log: (l, m) => logs.push(m) });
    const target = `unix:${join(dir, 'nobody-here.sock')}`;
    await mgr.start();
    let failed = nextEvent(mgr, 'connect-failed');
    await mgr.setControllers([{ target, maxBackoffMs: 8000 }]);
    await failed;
    const remote = mgr.activeRemote(target)!;
    expect(remote.attempts).toBe(1);
    const st = mgr.controllerStatus()[0]!;
    expect(st).toMatchObject({ target, isConnected: false, state: 'BACKOFF', role: 'other' });
    expect(st.lastError).toMatch(/ENOENT/);
    const delays: number[] = [];
    for (let attempt = 2; attempt <= 6; attempt++) {
      let waited = 0;
      while (remote.attempts < attempt) {
        timers.advance(250);
        waited += 250;
        expect(waited).toBeLessThanOrEqual(10_000);
      }
      delays.push(waited);
      failed = nextEvent(mgr, 'connect-failed');
      await failed;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(logs.some((l) => /connection failed \(.*ENOENT.*\), retrying in 8 s/.test(l))).toBe(true);
  });

  it('connects, reports ACTIVE, and reconnects 1 s after the controller drops', async () => {
    const timers = new ManualTimers();
    const handler = new FakeOfproto();
    mgr = new ConnMgr({ bridge: 'br0', handler, timers, log: () => undefined });
    const path = join(dir, 'ctl.sock');
    const peers: OfPeer[] = [];
    const accepted: ((p: OfPeer) => void)[] = [];
    server = createServer((s: Socket) => {
      const p = new OfPeer(s);
      peers.push(p);
      accepted.shift()?.(p);
    });
    await new Promise<void>((r) => server!.listen(path, r));
    const nextPeer = (): Promise<OfPeer> => new Promise((r) => accepted.push(r));

    await mgr.start();
    let peerP = nextPeer();
    let connected = nextEvent(mgr, 'connected');
    await mgr.setControllers([`unix:${path}`]);
    let peer = await peerP;
    await peer.handshake();
    await connected;
    expect(mgr.controllerConnected()).toBe(true);
    timers.advance(3000);
    expect(mgr.controllerStatus()[0]).toMatchObject({ isConnected: true, state: 'ACTIVE', secSinceConnect: 3 });
    expect(handler.events).toEqual(['connected 1']);

    // The controller drops us: backoff 1 s, then a new connection.
    const gone = nextEvent(mgr, 'disconnected');
    peer.close();
    await gone;
    expect(mgr.controllerConnected()).toBe(false);
    expect(mgr.controllerStatus()[0]).toMatchObject({ isConnected: false, state: 'BACKOFF', secSinceDisconnect: 0 });
    peerP = nextPeer();
    connected = nextEvent(mgr, 'connected');
    timers.advance(999);
    expect(mgr.activeRemote(`unix:${path}`)!.attempts).toBe(1);
    timers.advance(1);
    peer = await peerP;
    await peer.handshake();
    await connected;
    expect(handler.events).toEqual(['connected 1', 'disconnected 1', 'connected 2']);

    // An idle controller that ignores our probe shows IDLE, then is dropped.
    peer.socket.pause();
    timers.advance(5000);
    expect(mgr.controllerStatus()[0]!.state).toBe('IDLE');
    const dropped = nextEvent<[unknown, string]>(mgr, 'disconnected');
    timers.advance(5000);
    expect((await dropped)[1]).toMatch(/inactivity probe/);
    for (const p of peers) p.close();
  });

  it('stop() leaves no timers, connections or socket files', async () => {
    const timers = new ManualTimers();
    const handler = new FakeOfproto();
    mgr = new ConnMgr({ bridge: 'br9', handler, timers, rundir: dir, log: () => undefined });
    await mgr.start();
    await mgr.setControllers([`unix:${join(dir, 'none.sock')}`, 'ptcp:0']);
    await mgr.setServices(['ptcp:0', `punix:${join(dir, 'svc.sock')}`]);
    const { connect } = await import('node:net');
    const port = Number(mgr.boundTarget('ptcp:0')!.split(':')[1]);
    const peers = [new OfPeer(connect(mgr.mgmtPath!)), new OfPeer(connect({ host: '127.0.0.1', port })), new OfPeer(connect(join(dir, 'svc.sock')))];
    for (const p of peers) await p.handshake();
    await vi.waitFor(() => expect([...mgr!.connections()]).toHaveLength(3));
    // A peer that failed negotiation and never closes its side: we linger (fake time) flushing the ERROR.
    const lingering = new OfPeer(connect({ host: '127.0.0.1', port, allowHalfOpen: true }));
    await lingering.handshake([1]);
    await lingering.nextOfType(1);
    expect(mgr.controllerConnected()).toBe(false); // services only
    await mgr.stop(); // must not wait for the lingering peer
    for (const p of peers) await p.waitClosed();
    lingering.close();
    expect(timers.size).toBe(0);
    expect([...mgr.connections()]).toEqual([]);
    expect(handler.events.filter((e) => e.startsWith('disconnected'))).toHaveLength(3);
    expect(readdirSync(dir)).toEqual([]);
    mgr = undefined;
  });
});
