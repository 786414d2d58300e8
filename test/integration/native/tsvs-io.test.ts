// Integration tests of the tsvs_io addon on real veth pairs, TAPs and a
// network namespace. Needs root (CAP_NET_ADMIN/CAP_NET_RAW) and the built addon;
// otherwise skipped with a message.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NativePort,
  completeChecksum,
  linkInfo,
  nativeAvailable,
  nativeLoadError,
  openPacketSocket,
  openTap,
  setLinkUp,
  addonPath,
  type PacketSocketOptions,
} from '../../../datapath/native/index.js';
import { PacketBatch } from '../../../datapath/packet-batch.js';
import { fmtPct, idleCpuWindows } from '../../helpers/idle-cpu.js';
import { NetLab, isRoot } from '../../helpers/netlab.js';

const ETH_TEST = 0x88b5; // IEEE local experimental ethertype
const MAGIC = 0x7473766e; // "tsvn"
const noAddon = nativeAvailable() ? '' : String(nativeLoadError()?.message);
/** The three receive paths of a packet socket. */
const RX_MODES = [
  ['TPACKET_V3 ring', { ring: true, ringVersion: 3 }],
  ['TPACKET_V2 ring', { ring: true, ringVersion: 2 }],
  ['recvmmsg', { ring: false }],
] as const satisfies readonly (readonly [string, PacketSocketOptions])[];
const skipReason = noAddon || (isRoot() ? '' : 'not root');
if (noAddon) console.warn(`[tsvs-io tests] skipped: ${noAddon}`);
else if (skipReason) console.warn(`[tsvs-io tests] tests on real interfaces skipped: ${skipReason}`);

function testFrame(seq: number, len: number): Buffer {
  const f = Buffer.alloc(len);
  Buffer.from([2, 0, 0, 0, 0, 0xbb, 2, 0, 0, 0, 0, 0xaa]).copy(f, 0);
  f.writeUInt16BE(ETH_TEST, 12);
  f.writeUInt32BE(MAGIC, 14);
  f.writeUInt32BE(seq, 18);
  for (let i = 22; i < len; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}

/** Offset of the ethertype after any VLAN tags. */
function innerTypeOffset(f: Buffer): number {
  let o = 12;
  while (o + 4 <= f.length && (f.readUInt16BE(o) === 0x8100 || f.readUInt16BE(o) === 0x88a8)) o += 4;
  return o;
}

function isOurs(f: Buffer): boolean {
  const o = innerTypeOffset(f);
  return f.length >= o + 10 && f.readUInt16BE(o) === ETH_TEST && f.readUInt32BE(o + 2) === MAGIC;
}

/** Collect copies of the frames a port receives that pass `keep`. */
function collect(port: NativePort, keep: (f: Buffer) => boolean = isOurs): Buffer[] {
  const got: Buffer[] = [];
  port.start((b) => {
    for (let i = 0; i < b.count; i++) {
      const f = b.frame(i);
      if (keep(f)) got.push(Buffer.from(f));
    }
  });
  return got;
}

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function sendFrames(port: NativePort, frames: Buffer[]): number {
  const b = new PacketBatch(64);
  let sent = 0;
  for (let i = 0; i < frames.length; i++) {
    b.push(frames[i]);
    if (b.full || i === frames.length - 1) {
      sent += port.sendBatch(b);
      b.clear();
    }
  }
  return sent;
}

/** Independent RFC 1071 check of an IPv4 UDP frame: true if the checksum verifies. */
function udp4ChecksumOk(f: Buffer): boolean {
  const ipOff = innerTypeOffset(f) + 2;
  const ihl = (f[ipOff] & 15) * 4;
  const tot = f.readUInt16BE(ipOff + 2);
  const l4 = ipOff + ihl;
  const ulen = tot - ihl;
  if (f.readUInt16BE(l4 + 6) === 0) return false; // "no checksum" is not what we want to see
  let s = 17 + ulen;
  for (let i = 0; i < 8; i += 2) s += f.readUInt16BE(ipOff + 12 + i);
  for (let i = 0; i < ulen; i += 2) s += i + 1 < ulen ? f.readUInt16BE(l4 + i) : f[l4 + i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

describe.skipIf(noAddon !== '')('tsvs_io addon without interfaces', () => {
  it('completeChecksum fixes TCP over IPv6 and UDP over VLAN+IPv4', () => {
    // IPv4/UDP inside 802.1Q, checksum field garbage
    const f = Buffer.alloc(18 + 20 + 8 + 11);
    Buffer.from('0200000000bb0200000000aa8100000a0800', 'hex').copy(f, 0);
    Buffer.from('4500001d0000400040110000c0a80001c0a80002', 'hex').copy(f, 18);
    f.writeUInt16BE(f.length - 18, 20);
    Buffer.from('3039303900131234', 'hex').copy(f, 38);
    f.write('hello world', 46);
    expect(completeChecksum(f)).toBe(true);
    expect(udp4ChecksumOk(f)).toBe(true);
    // IPv6/TCP: verify by summing pseudo header + segment = 0xffff
    const t = Buffer.alloc(14 + 40 + 20 + 5);
    Buffer.from('0200000000bb0200000000aa86dd', 'hex').copy(t, 0);
    t.writeUInt32BE(0x60000000, 14);
    t.writeUInt16BE(25, 18);
    t[20] = 6;
    t[21] = 64;
    for (let i = 0; i < 32; i++) t[22 + i] = i;
    Buffer.from('04d2162e00000001000000005002ffff55550000', 'hex').copy(t, 54);
    t.write('abcde', 74);
    expect(completeChecksum(t)).toBe(true);
    let s = 6 + 25;
    for (let i = 0; i < 32; i += 2) s += t.readUInt16BE(22 + i);
    for (let i = 0; i < 25; i += 2) s += i + 1 < 25 ? t.readUInt16BE(54 + i) : t[54 + i] << 8;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    expect(s).toBe(0xffff);
    expect(completeChecksum(Buffer.from(testFrame(1, 60)))).toBe(false); // not IP
  });

  it('a bad interface name throws ENODEV naming the interface', () => {
    expect(() => openPacketSocket('tsnnosuchif0')).toThrow(
      expect.objectContaining({ code: 'ENODEV', message: expect.stringContaining('tsnnosuchif0') }),
    );
    expect(() => openPacketSocket('a-name-much-too-long-for-linux')).toThrow(expect.objectContaining({ code: 'ENODEV' }));
  });

  it('without CAP_NET_RAW/CAP_NET_ADMIN the errors carry the errno code and name the interface', () => {
    // a plain node child (no TypeScript loader) loads the built addon; as root it drops to nobody first
    const addon = addonPath()!;
    const code =
      `const a=require(${JSON.stringify(addon)});const st=new Float64Array(a.statNames.length);const out=[];` +
      `for (const f of [()=>a.openPacket('lo',{},st),()=>a.openTap('tsnperm0',{},st)]) ` +
      `{try{f();out.push('ok')}catch(e){out.push(e.code+'|'+e.message)}}console.log(JSON.stringify(out))`;
    const drop = isRoot() ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] : [];
    const argv = [...drop, process.execPath, '-e', code];
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const [pkt, tap] = JSON.parse(r.stdout) as string[];
    expect(pkt).toMatch(/^EPERM\|interface lo: socket\(AF_PACKET\)/);
    expect(tap).toMatch(/^(EPERM|EACCES)\|TAP tsnperm0: (TUNSETIFF|open \/dev\/net\/tun)/); // EACCES if /dev/net/tun is 0600
  });
});

describe.skipIf(skipReason !== '')('tsvs_io addon', () => {
  const lab = new NetLab();
  const open: NativePort[] = [];
  const track = <T extends NativePort>(p: T): T => (open.push(p), p);
  let va: string, vb: string;

  beforeAll(() => {
    [va, vb] = lab.veth('v');
  });
  afterAll(() => {
    for (const p of open) p.close();
    lab.cleanup();
  });

  for (const [mode, rxOpts] of RX_MODES) {
    it(`AF_PACKET ${mode}: receives every frame sent from the peer, byte for byte`, async () => {
      const rx = track(openPacketSocket(va, rxOpts));
      const tx = track(openPacketSocket(vb, rxOpts));
      expect(rx.rxRingVersion).toBe(rxOpts.ring ? rxOpts.ringVersion : 0);
      const got = collect(rx);
      const frames: Buffer[] = [];
      for (let i = 0; i < 1000; i++) frames.push(testFrame(i, 60 + ((i * 37) % 1400)));
      // a few bursts, so the receive ring is never the bottleneck
      let sent = 0;
      for (let k = 0; k < frames.length; k += 100) {
        sent += sendFrames(tx, frames.slice(k, k + 100));
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(sent).toBe(1000);
      await waitFor(() => got.length >= 1000);
      expect(got.length).toBe(1000);
      for (let i = 0; i < 1000; i++) expect(got[i].equals(frames[i]), `frame ${i}`).toBe(true);
      const s = rx.stats;
      expect(s.rxPackets).toBeGreaterThanOrEqual(1000);
      expect(s.rxBatches).toBeLessThan(s.rxPackets); // batched, not one callback per frame
      expect(tx.stats.txPackets).toBe(1000);
      expect(tx.stats.txSyscalls).toBeLessThanOrEqual(20); // one sendmmsg per 64-frame batch
      rx.close();
      tx.close();
    });

    it(`AF_PACKET ${mode}: VLAN tags stripped by the kernel are put back`, async () => {
      const rx = track(openPacketSocket(va, rxOpts));
      const tx = track(openPacketSocket(vb, rxOpts));
      const got = collect(rx);
      const frames: Buffer[] = [];
      for (const [tpid, tci] of [[0x8100, 0x0064], [0x8100, 0xe00a], [0x88a8, 0x0123], [0x8100, 0x0000]]) {
        const inner = testFrame(tci, 80);
        const f = Buffer.concat([inner.subarray(0, 12), Buffer.from([tpid >> 8, tpid & 255, tci >> 8, tci & 255]), inner.subarray(12)]);
        frames.push(f);
      }
      frames.push(testFrame(99, 64)); // untagged stays untagged
      expect(sendFrames(tx, frames)).toBe(frames.length);
      await waitFor(() => got.length >= frames.length);
      expect(got.map((f) => f.toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
      expect(rx.stats.rxVlanRestored).toBeGreaterThanOrEqual(3);
      rx.close();
      tx.close();
    });
  }

  for (const [what, opts] of [
    ['TX ring (default)', {}],
    ['sendmmsg on a socket of its own', { txRing: 0 }],
    ['sendmmsg on the receive socket', { txRing: 0, txSocket: false }],
  ] as const) {
    it(`transmit by ${what}: 2000 frames of 60-1514 bytes arrive intact, in order, counted`, async () => {
      const rx = track(openPacketSocket(va));
      const tx = track(openPacketSocket(vb, opts));
      expect(tx.txRing).toBe('txRing' in opts ? 0 : 512);
      expect(tx.txSocket).toBe(!('txSocket' in opts));
      const got = collect(rx);
      const frames: Buffer[] = [];
      for (let i = 0; i < 2000; i++) frames.push(testFrame(i, 60 + ((i * 101) % 1455)));
      let sent = 0;
      for (let k = 0; k < frames.length; k += 200) {
        sent += sendFrames(tx, frames.slice(k, k + 200));
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(sent).toBe(2000);
      await waitFor(() => got.length >= 2000);
      expect(got.length).toBe(2000);
      for (let i = 0; i < 2000; i++) expect(got[i].equals(frames[i]), `frame ${i}`).toBe(true);
      const s = tx.stats;
      expect(s.txPackets).toBe(2000);
      expect(s.txBytes).toBe(frames.reduce((n, f) => n + f.length, 0));
      expect(s.txDropped + s.txErrors).toBe(0);
      expect(s.txSyscalls).toBe(10 * Math.ceil(200 / 64)); // one sendto / sendmmsg per batch of 64
      // the transmit socket receives nothing: the sender's own frames are not read back
      expect(tx.stats.rxPackets).toBe(0);
      rx.close();
      tx.close();
    });
  }

  for (const [mode, rxOpts] of RX_MODES) {
    it(`AF_PACKET ${mode}: a batch with MTU-1500 slots drops longer frames (rxTruncated), then restarts into a jumbo batch`, async () => {
      const [sa, sb] = lab.veth(rxOpts.ring ? `s${rxOpts.ringVersion}` : 'm');
      for (const v of [sa, sb]) spawnSync('ip', ['link', 'set', v, 'mtu', '9000']);
      // A V2 ring's fixed frames must hold the largest frame too (SystemPort sizes them from the MTU).
      const rx = track(openPacketSocket(sa, { ...rxOpts, ringFrameBytes: 16384 }));
      const tx = track(openPacketSocket(sb));
      const small = new PacketBatch(16, 1522);
      const got: number[] = [];
      const onBatch = (b: PacketBatch) => {
        for (let i = 0; i < b.count; i++) if (isOurs(b.frame(i))) got.push(b.len[i]);
      };
      rx.start(onBatch, undefined, small);
      expect(rx.batch).toBe(small);
      expect(sendFrames(tx, [testFrame(1, 1522), testFrame(2, 1523), testFrame(3, 8000), testFrame(4, 60)])).toBe(4);
      await waitFor(() => got.length >= 2);
      await new Promise((r) => setTimeout(r, 50));
      expect(got).toEqual([1522, 60]);
      expect(rx.stats.rxTruncated).toBe(2);
      const jumbo = new PacketBatch(16, 9022);
      rx.start(onBatch, undefined, jumbo);
      expect(sendFrames(tx, [testFrame(5, 8000)])).toBe(1);
      await waitFor(() => got.length >= 3);
      expect(got).toEqual([1522, 60, 8000]);
      rx.close();
      tx.close();
    });
  }

  it('TX ring: wraps around a small ring many times; jumbo frames go out by sendmsg, order kept', async () => {
    const [ja, jb] = lab.veth('j');
    for (const v of [ja, jb]) spawnSync('ip', ['link', 'set', v, 'mtu', '9000']);
    const rx = track(openPacketSocket(ja));
    const tx = track(openPacketSocket(jb, { txRing: 64 }));
    expect(tx.txRing).toBe(64);
    const got = collect(rx);
    const frames: Buffer[] = [];
    for (let i = 0; i < 3000; i++) frames.push(testFrame(i, i % 50 === 7 ? 9014 : i % 50 === 8 ? 1519 : 64 + (i % 1400)));
    let sent = 0;
    for (let k = 0; k < frames.length; k += 50) {
      sent += sendFrames(tx, frames.slice(k, k + 50));
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(sent).toBe(3000);
    await waitFor(() => got.length >= 3000);
    expect(got.length).toBe(3000);
    for (let i = 0; i < 3000; i++) expect(got[i].equals(frames[i]), `frame ${i}`).toBe(true);
    expect(tx.stats.txPackets).toBe(3000);
    rx.close();
    tx.close();
  });

  it('TX ring: frames sent while the link is down are dropped and counted, never sent later', async () => {
    const [da, db] = lab.veth('k');
    const rx = track(openPacketSocket(da));
    const tx = track(openPacketSocket(db));
    const got = collect(rx);
    spawnSync('ip', ['link', 'set', db, 'down']);
    const early: Buffer[] = [];
    for (let i = 0; i < 10; i++) early.push(testFrame(i, 100));
    expect(sendFrames(tx, early)).toBe(0);
    expect(tx.stats.txDropped).toBe(10);
    expect(tx.stats.txBytes).toBe(0);
    spawnSync('ip', ['link', 'set', db, 'up']);
    await waitFor(() => tx.carrier);
    const late: Buffer[] = [];
    for (let i = 100; i < 110; i++) late.push(testFrame(i, 100));
    expect(sendFrames(tx, late)).toBe(10);
    await waitFor(() => got.length >= 10);
    await new Promise((r) => setTimeout(r, 50));
    expect(got.map((f) => f.readUInt32BE(18))).toEqual(late.map((_, i) => 100 + i));
    expect(tx.stats.txPackets).toBe(10);
    rx.close();
    tx.close();
  });

  it('TPACKET_V2 ring: a lone frame is handed over at once, where a V3 block waits for its retire timer', async () => {
    const tx = track(openPacketSocket(vb));
    const delay = async (opts: PacketSocketOptions): Promise<number> => {
      const rx = track(openPacketSocket(va, opts));
      let at = 0;
      rx.start((b) => {
        for (let i = 0; i < b.count; i++) if (at === 0 && isOurs(b.frame(i))) at = performance.now();
      });
      const t0 = performance.now();
      expect(sendFrames(tx, [testFrame(7, 60)])).toBe(1);
      await waitFor(() => at > 0);
      rx.close();
      return at - t0;
    };
    const v3 = await delay({ ring: true, ringVersion: 3, retireMs: 300 });
    const v2 = await delay({ ring: true, ringVersion: 2 });
    console.log(`[tsvs-io] one frame: V2 ring ${v2.toFixed(2)} ms, V3 ring (300 ms retire timer) ${v3.toFixed(2)} ms`);
    expect(v3).toBeGreaterThan(100); // the block waited for the timer
    expect(v2).toBeLessThan(100); // no timer in the way
    tx.close();
  });

  it('TPACKET_V2 ring: a frame longer than a ring frame is dropped and counted, the next one arrives', async () => {
    const [sa, sb] = lab.veth('w');
    for (const v of [sa, sb]) spawnSync('ip', ['link', 'set', v, 'mtu', '9000']);
    const rx = track(openPacketSocket(sa, { ring: true, ringVersion: 2, ringFrameBytes: 2048 }));
    const tx = track(openPacketSocket(sb));
    const got: number[] = [];
    rx.start((b) => {
      for (let i = 0; i < b.count; i++) if (isOurs(b.frame(i))) got.push(b.len[i]);
    }, undefined, new PacketBatch(16, 9022));
    expect(sendFrames(tx, [testFrame(1, 1514), testFrame(2, 4000), testFrame(3, 60)])).toBe(3);
    await waitFor(() => got.length >= 2);
    expect(got).toEqual([1514, 60]);
    expect(rx.stats.rxTruncated).toBe(1);
    rx.close();
    tx.close();
  });

  for (const [mode, rxOpts] of RX_MODES) {
    it(`AF_PACKET ${mode}: a burst switches to busy mode (drained per loop turn, not woken per frame) and back to wake-ups when quiet`, async () => {
      // A wake-up hands over at most 64 frames; the rest of the burst is drained in busy mode.
      const rx = track(openPacketSocket(va, { ...rxOpts, batchSize: 64, wakeBudget: 64 }));
      const tx = track(openPacketSocket(vb));
      let got = 0;
      let sawBusy = false;
      rx.start((b) => {
        for (let i = 0; i < b.count; i++) if (isOurs(b.frame(i))) got++;
        if (rx.busy) sawBusy = true;
      });
      const burst: Buffer[] = [];
      for (let i = 0; i < 200; i++) burst.push(testFrame(i, 60)); // fits a default socket receive buffer
      // Hold the loop while the burst lands, so the first wake-up finds it all queued.
      expect(sendFrames(tx, burst)).toBe(200);
      const until = Date.now() + 20;
      while (Date.now() < until) { /* let the kernel queue all 200 */ }
      await waitFor(() => got >= 200);
      expect(got).toBe(200);
      expect(sawBusy).toBe(true);
      await waitFor(() => !rx.busy); // a pass that found (almost) nothing re-armed the wake-up
      const w0 = rx.stats.rxWakeups;
      expect(sendFrames(tx, [testFrame(9, 60)])).toBe(1);
      await waitFor(() => got >= 201);
      expect(rx.stats.rxWakeups - w0).toBe(1); // a lone frame wakes the port again
      const idle = await idleCpuWindows(1, 300);
      expect(idle[0]).toBeLessThan(5); // not left spinning in busy mode
      rx.close();
      tx.close();
    });
  }

  it('bad ring settings are refused with EINVAL; nothing is opened', () => {
    expect(() => openPacketSocket(va, { ring: true, ringVersion: 4 as 3 })).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('ringVersion') }));
    expect(() => openPacketSocket(va, { ring: true, ringVersion: 2, ringFrameBytes: 1000 })).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('ringFrameBytes') }));
    expect(() => openPacketSocket(va, { ring: true, ringVersion: 2, ringFrameBytes: 1 << 20 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('a TX ring that is not a multiple of 32 frames is refused; nothing is opened', () => {
    expect(() => openPacketSocket(va, { txRing: 33 })).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('txRing') }));
    expect(() => openPacketSocket(va, { txRing: 1 << 20 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('completes the UDP checksum of CHECKSUM_PARTIAL frames from a namespace with TX offload', async () => {
    const [ca, cb] = lab.veth('c');
    const ns = lab.netns('n');
    spawnSync('ip', ['link', 'set', cb, 'netns', ns]);
    lab.exec(ns, 'ip', ['addr', 'add', '10.77.0.1/24', 'dev', cb]);
    lab.exec(ns, 'ip', ['link', 'set', cb, 'up']);
    lab.exec(ns, 'ip', ['neigh', 'add', '10.77.0.2', 'lladdr', '02:00:00:00:77:02', 'dev', cb]);
    const offload = lab.exec(ns, 'ethtool', ['-k', cb]);
    expect(offload).toMatch(/tx-checksumming: on/);
    const rx = track(openPacketSocket(ca));
    const udp = collect(rx, (f) => f.length > 34 && f.readUInt16BE(innerTypeOffset(f)) === 0x0800 && f[innerTypeOffset(f) + 11] === 17);
    const script =
      "const s=require('dgram').createSocket('udp4');const m=Buffer.alloc(333,7);let n=0;" +
      "(function go(){s.send(m,4789,'10.77.0.2',()=>{if(++n<5)go();else s.close()})})()";
    lab.exec(ns, process.execPath, ['-e', script]);
    await waitFor(() => udp.length >= 5);
    expect(udp.length).toBe(5);
    for (const f of udp) expect(udp4ChecksumOk(f)).toBe(true);
    expect(rx.stats.rxCsumCompleted).toBeGreaterThanOrEqual(5);
    rx.close();
  });

  it('forwards TCP and UDP between two namespaces through a JS forwarder (veth -> addon -> veth)', async () => {
    const [x1a, x1b] = lab.veth('x');
    const [y1a, y1b] = lab.veth('y');
    const n1 = lab.netns('1');
    const n2 = lab.netns('2');
    for (const [dev, ns, addr] of [[x1b, n1, '10.78.0.1/24'], [y1b, n2, '10.78.0.2/24']]) {
      spawnSync('ip', ['link', 'set', dev, 'netns', ns]);
      lab.exec(ns, 'ip', ['addr', 'add', addr, 'dev', dev]);
      lab.exec(ns, 'ip', ['link', 'set', dev, 'up']);
      // TX checksum offload stays on (CHECKSUM_PARTIAL frames); segmentation off: frames must fit the MTU
      lab.exec(ns, 'ethtool', ['-K', dev, 'tso', 'off', 'gso', 'off']);
    }
    const a = track(openPacketSocket(x1a));
    const b = track(openPacketSocket(y1a));
    a.start((batch) => b.sendBatch(batch));
    b.start((batch) => a.sendBatch(batch));
    const run = promisify(execFile);
    const server = run('ip', ['netns', 'exec', n2, process.execPath, '-e',
      "const s=require('net').createServer(c=>{let n=0;c.on('data',d=>{n+=d.length;if(n>=1e6){c.end(String(n));s.close()}})}).listen(5001,'10.78.0.2');" +
      "const u=require('dgram').createSocket('udp4');u.on('message',(m,r)=>u.send(m,r.port,r.address,()=>u.close()));u.bind(5002,'10.78.0.2')"],
      { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 500));
    const client = await run('ip', ['netns', 'exec', n1, process.execPath, '-e',
      "const u=require('dgram').createSocket('udp4');u.on('message',m=>{process.stdout.write('udp:'+m.length+' ');u.close();" +
      "const c=require('net').connect(5001,'10.78.0.2',()=>c.end(Buffer.alloc(1e6,1)));let r='';c.on('data',d=>r+=d);c.on('end',()=>process.stdout.write('tcp:'+r))});" +
      "u.send(Buffer.alloc(1200,3),5002,'10.78.0.2')"],
      { timeout: 20_000 });
    await server;
    expect(client.stdout).toBe('udp:1200 tcp:1000000');
    expect(a.stats.rxCsumCompleted + b.stats.rxCsumCompleted).toBeGreaterThan(10);
    expect(a.stats.rxTruncated + b.stats.rxTruncated).toBe(0);
    a.close();
    b.close();
  });

  it('TAP: frames written by the addon reach the kernel netdev, frames sent on the netdev are read', async () => {
    const name = lab.name('t');
    const tap = track(openTap(name));
    expect(tap.name).toBe(name);
    expect(tap.ifindex).toBeGreaterThan(0);
    spawnSync('sysctl', ['-qw', `net.ipv6.conf.${name}.disable_ipv6=1`]);
    const sock = track(openPacketSocket(name, { ring: false }));
    const fromTap = collect(sock);
    const fromSock = collect(tap);
    const a = [testFrame(1, 60), testFrame(2, 1514), testFrame(3, 200)];
    const b = [testFrame(10, 60), testFrame(11, 999)];
    expect(sendFrames(tap, a)).toBe(3);
    expect(sendFrames(sock, b)).toBe(2);
    await waitFor(() => fromTap.length >= 3 && fromSock.length >= 2);
    expect(fromTap.map((f) => f.toString('hex'))).toEqual(a.map((f) => f.toString('hex')));
    expect(fromSock.map((f) => f.toString('hex'))).toEqual(b.map((f) => f.toString('hex')));
    expect(tap.carrier).toBe(true);
    expect(tap.mtu).toBe(1500);
    expect(tap.mac.length).toBe(6);
    setLinkUp(name, false);
    expect(tap.carrier).toBe(false);
    expect(linkInfo(name).up).toBe(false);
    setLinkUp(name, true);
    sock.close();
    tap.close();
    // a non-persistent TAP disappears with its fd
    expect(() => linkInfo(name)).toThrow(expect.objectContaining({ code: 'ENODEV' }));
  });

  it('TAP with IFF_MULTI_QUEUE takes several fds', () => {
    const name = lab.name('m');
    const q0 = track(openTap(name, { multiQueue: true }));
    const q1 = track(openTap(name, { multiQueue: true }));
    expect(q1.ifindex).toBe(q0.ifindex);
    expect(() => openTap(name)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining(name) }));
    q0.close();
    q1.close();
  });

  it('link state, MTU and MAC of a veth end', async () => {
    const p = track(openPacketSocket(va));
    const li = linkInfo(va);
    expect(p.carrier).toBe(true);
    expect(p.mtu).toBe(li.mtu);
    expect(Buffer.from(p.mac).toString('hex')).toBe(li.mac.toString('hex'));
    spawnSync('ip', ['link', 'set', vb, 'down']);
    // The kernel updates carrier asynchronously (linkwatch): wait for it, bounded.
    await waitFor(() => p.carrier === false); // peer down: no carrier
    spawnSync('ip', ['link', 'set', vb, 'up']);
    await waitFor(() => p.carrier === true);
    p.close();
  });

  it('close twice is safe; send and stats after close do nothing', () => {
    const p = openPacketSocket(va);
    p.start(() => {});
    p.close();
    p.close();
    expect(p.closed).toBe(true);
    expect(p.sendBatch(new PacketBatch(1))).toBe(0);
    expect(p.stats.rxPackets).toBe(0);
    expect(() => p.start(() => {})).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const t = openTap(lab.name('c2'));
    t.close();
    t.close();
  });

  it('survives its interface going down and being deleted while polling', async () => {
    const [da, db] = lab.veth('d');
    for (const [, rxOpts] of RX_MODES) {
      const ring = rxOpts.ring;
      const p = openPacketSocket(da, rxOpts);
      let errors = 0;
      p.start(() => {}, () => errors++);
      spawnSync('ip', ['link', 'set', da, 'down']);
      await waitFor(() => p.stats.pollErrors >= 1);
      spawnSync('ip', ['link', 'set', da, 'up']);
      await new Promise((r) => setTimeout(r, 50));
      if (!ring) {
        spawnSync('ip', ['link', 'del', da]); // also removes db
        await waitFor(() => {
          try {
            void p.carrier;
            return false;
          } catch {
            return true;
          }
        });
        expect(() => p.carrier).toThrow(expect.objectContaining({ code: 'ENODEV' }));
        const b = new PacketBatch(1);
        b.push(testFrame(1, 60));
        expect(p.sendBatch(b)).toBe(0);
      }
      expect(p.stats.pollErrors).toBeGreaterThanOrEqual(1); // link down: ENETDOWN as POLLERR
      expect(errors).toBe(0); // POLLERR from a packet socket is cleared, not fatal
      p.close();
    }
    void db;
  });

  it('closing a port from inside its own batch callback stops delivery at once', async () => {
    for (const [, rxOpts] of RX_MODES) {
      const rx = openPacketSocket(va, { ...rxOpts, batchSize: 8 });
      const tx = track(openPacketSocket(vb));
      let calls = 0;
      rx.start(() => {
        calls++;
        rx.close();
      });
      const frames: Buffer[] = [];
      for (let i = 0; i < 200; i++) frames.push(testFrame(i, 60));
      sendFrames(tx, frames);
      await waitFor(() => calls >= 1);
      await new Promise((r) => setTimeout(r, 50)); // room for a wrong second delivery
      expect(calls).toBe(1);
      expect(rx.closed).toBe(true);
      tx.close();
    }
  });

  it('idle ports cost no CPU: 4 started ports do not wake and stay under 1% CPU', async () => {
    const [ia, ib] = lab.veth('i');
    const ports = [va, vb, ia, ib].map((n) => track(openPacketSocket(n)));
    let frames = 0;
    for (const p of ports) p.start((b) => (frames += b.count));
    await new Promise((r) => setTimeout(r, 100));
    const wakeups = () => ports.reduce((t, p) => t + p.stats.rxWakeups, 0);
    const w0 = wakeups();
    const f0 = frames;
    const windows = await idleCpuWindows(3, 1000);
    const woke = wakeups() - w0;
    const stray = frames - f0;
    console.log(`[tsvs-io] idle CPU with 4 ports, three 1 s windows: ${fmtPct(windows)} (${woke} wake-ups, ${stray} stray frames)`);
    // Event-driven: no wake-up without a frame to deliver (no timer, no spinning).
    expect(woke).toBeLessThanOrEqual(stray);
    expect(Math.min(...windows)).toBeLessThan(1);
    for (const p of ports) p.close();
  });
});
