// ssl: and pssl: with certificates made by the openssl CLI at test time:
// both sides must present a certificate signed by the configured CA.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnMgr } from '../../ofproto/connmgr/connmgr.js';
import { OFPT } from '../../ofproto/openflow/index.js';
import { FakeOfproto } from '../helpers/fake-ofproto.js';
import { OfPeer } from '../helpers/of-peer.js';
import { hasOpenssl, makeTestPki, type TestPki } from '../helpers/test-pki.js';

const HAVE_OPENSSL = hasOpenssl();
if (!HAVE_OPENSSL) console.warn('connmgr-tls: openssl CLI not found, skipping TLS tests');

describe.skipIf(!HAVE_OPENSSL)('ConnMgr over TLS', () => {
  let dir: string;
  let pki: TestPki;
  let mgr: ConnMgr | undefined;
  const cleanups: (() => void | Promise<void>)[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'connmgr-tls-'));
    pki = makeTestPki(dir);
  });

  afterEach(async () => {
    await mgr?.stop();
    mgr = undefined;
    for (const c of cleanups.splice(0)) await c();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const switchSsl = (): { privateKeyFile: string; certificateFile: string; caCertFile: string } => ({
    privateKeyFile: pki.switch.key,
    certificateFile: pki.switch.cert,
    caCertFile: pki.caCert,
  });

  function tlsPeer(port: number, who: { key: string; cert: string }, ca = pki.caCert): OfPeer {
    const s = tls.connect({ host: '127.0.0.1', port, key: readFileSync(who.key), cert: readFileSync(who.cert), ca: readFileSync(ca), checkServerIdentity: () => undefined });
    const p = new OfPeer(s);
    cleanups.push(() => p.close());
    return p;
  }

  /** A TLS "controller" that requires a client certificate from our CA. */
  async function tlsController(who = pki.controller): Promise<{ port: number; peers: Promise<OfPeer>; errors: Error[] }> {
    const errors: Error[] = [];
    let resolvePeer!: (p: OfPeer) => void;
    const peers = new Promise<OfPeer>((r) => (resolvePeer = r));
    const server = tls.createServer(
      { key: readFileSync(who.key), cert: readFileSync(who.cert), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: true },
      (s) => {
        const p = new OfPeer(s);
        cleanups.push(() => p.close());
        resolvePeer(p);
      },
    );
    server.on('tlsClientError', (e) => errors.push(e));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    return { port: (server.address() as { port: number }).port, peers, errors };
  }

  it('pssl: accepts a client with a certificate from our CA', async () => {
    mgr = new ConnMgr({ bridge: 'br0', handler: new FakeOfproto(), ssl: switchSsl(), log: () => undefined });
    await mgr.start();
    await mgr.setServices(['pssl:0']);
    const port = Number(mgr.boundTarget('pssl:0')!.split(':')[1]);
    const p = tlsPeer(port, pki.controller);
    await p.handshake();
    p.send({ type: OFPT.FEATURES_REQUEST, version: 4, xid: 3 });
    expect(await p.nextOfType(OFPT.FEATURES_REPLY)).toMatchObject({ xid: 3 });
  });

  it('pssl: refuses a client whose certificate another CA signed', async () => {
    const logs: string[] = [];
    mgr = new ConnMgr({ bridge: 'br0', handler: new FakeOfproto(), ssl: switchSsl(), log: (l, m) => logs.push(m) });
    await mgr.start();
    await mgr.setServices(['pssl:0']);
    const port = Number(mgr.boundTarget('pssl:0')!.split(':')[1]);
    const p = tlsPeer(port, pki.stranger);
    await p.waitClosed();
    expect([...mgr.connections()]).toHaveLength(0);
    expect(p.inbox).toEqual([]);
  });

  it('ssl: connects to a controller and completes the handshake', async () => {
    const ctl = await tlsController();
    mgr = new ConnMgr({ bridge: 'br0', handler: new FakeOfproto(), ssl: switchSsl(), log: () => undefined });
    await mgr.start();
    const up = new Promise((r) => mgr!.once('connected', r));
    await mgr.setControllers([`ssl:127.0.0.1:${ctl.port}`]);
    const peer = await ctl.peers;
    await peer.handshake();
    await up;
    expect(mgr.controllerConnected()).toBe(true);
    expect(mgr.controllerStatus()[0]).toMatchObject({ isConnected: true, state: 'ACTIVE' });
  });

  it('ssl: refuses a controller whose certificate another CA signed', async () => {
    const ctl = await tlsController(pki.stranger);
    mgr = new ConnMgr({ bridge: 'br0', handler: new FakeOfproto(), ssl: switchSsl(), log: () => undefined });
    await mgr.start();
    const failed = new Promise<unknown[]>((r) => mgr!.once('connect-failed', (...a) => r(a)));
    await mgr.setControllers([`ssl:127.0.0.1:${ctl.port}`]);
    const [, reason] = await failed;
    expect(String(reason)).toMatch(/certificate/i);
    expect(mgr.controllerStatus()[0]).toMatchObject({ isConnected: false, state: 'BACKOFF', lastError: expect.stringMatching(/certificate/i) });
  });

  it('ssl: without key/certificate/CA the target fails with a clear error', async () => {
    mgr = new ConnMgr({ bridge: 'br0', handler: new FakeOfproto(), log: () => undefined });
    await mgr.start();
    const failed = new Promise<unknown[]>((r) => mgr!.once('connect-failed', (...a) => r(a)));
    await mgr.setControllers(['ssl:127.0.0.1:1']);
    expect(String((await failed)[1])).toMatch(/no private key, certificate and CA certificate configured/);
  });
});
