// System ports on real veths: two network namespaces, each behind a veth whose
// root-namespace end is attached to a datapath as a `system` port, ping and
// pass TCP through tsvs (checksum-offloaded TCP from the namespaces has its
// checksums completed by the addon). Needs root and the built addon.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datapath } from '../../datapath/dpif.js';
import { DpifError } from '../../datapath/dpif-error.js';
import { nativeAvailable, nativeLoadError } from '../../datapath/native/index.js';
import { createPort } from '../../datapath/ports/factory.js';
import { SystemPort } from '../../datapath/ports/system.js';
import { learningSwitch } from '../helpers/learning-switch.js';
import { NetLab, ip, isRoot } from '../helpers/netlab.js';

const run = promisify(execFile);
const skipReason = !nativeAvailable() ? String(nativeLoadError()?.message) : !isRoot() ? 'not root' : '';
if (skipReason) console.warn(`[ports-system tests] skipped: ${skipReason}`);

describe.skipIf(skipReason !== '')('system ports on veths', () => {
  const lab = new NetLab('tsp');
  const dp = new Datapath({ name: 'tspbr' });
  const sw = learningSwitch(dp);
  let nsA = '';
  let nsB = '';
  let pa: SystemPort;
  let pb: SystemPort;
  /** The namespace ends of the two veths. */
  let nsEnds: [string, string] = ['', ''];
  const net = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;

  /** Async, so the datapath in this process keeps forwarding while the command runs. */
  const inNs = (ns: string, cmd: string, args: string[], timeoutMs = 15_000) =>
    run('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: timeoutMs, encoding: 'utf8' });

  beforeAll(async () => {
    try {
      nsA = lab.netns('A');
      nsB = lab.netns('B');
      const [xa, ya] = lab.veth('a');
      const [xb, yb] = lab.veth('b');
      nsEnds = [ya, yb];
      for (const [y, ns, host] of [[ya, nsA, 1], [yb, nsB, 2]] as const) {
        ip('link', 'set', y, 'netns', ns);
        ip('-n', ns, 'addr', 'add', `${net}.${host}/24`, 'dev', y);
        ip('-n', ns, 'link', 'set', y, 'up');
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        // TSO/GSO on the sending end would hand the switch 64 KiB super-frames; TX checksum
        // offload stays on, so the addon must complete partial checksums.
        await inNs(ns, 'ethtool', ['-K', y, 'tso', 'off', 'gso', 'off']).catch(() => undefined);
      }
      pa = createPort({ name: xa, type: 'system' }) as SystemPort;
      pb = createPort({ name: xb }) as SystemPort;
      dp.setUpcallHandler(sw);
      await dp.addPort(pa);
      await dp.addPort(pb);
      await dp.start();
    } catch (e) {
      await dp.stop();
      lab.cleanup();
      throw e;
    }
  });

  afterAll(async () => {
    await dp.stop();
    lab.cleanup();
  });

  it('attaching turns GRO/GSO/TSO off and reports link state', async () => {
    expect(pa.offloads).toMatchObject({ gro: true, gso: true, tso: true });
    const k = (await run('ethtool', ['-k', pa.name], { encoding: 'utf8' })).stdout;
    expect(k).toMatch(/generic-receive-offload: off/);
    expect(k).toMatch(/tx-tcp-segmentation: off/);
    expect(k).toMatch(/generic-segmentation-offload: off/);
    expect(pa.carrier).toBe(true);
    expect(pa.mtu).toBe(1500);
    expect(pa.mac.length).toBe(6);
  });

  it('namespaces ping each other through the datapath', async () => {
    const { stdout } = await inNs(nsA, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', `${net}.2`]);
    expect(stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(dp.stats.flows).toBeGreaterThanOrEqual(2);
    expect(pa.stats.rxPackets).toBeGreaterThanOrEqual(4);
    expect(pb.stats.txPackets).toBeGreaterThanOrEqual(4);
  });

  it('TCP passes (partial checksums completed on receive)', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const bytes = 300_000;
    const server = inNs(nsB, 'node', [
      '-e',
      `const s=require('net').createServer(c=>{let n=0;c.on('data',d=>n+=d.length);c.on('end',()=>{c.end(String(n));s.close()})}).listen(${port},'${net}.2',()=>console.log('up'))`,
    ]);
    let reply = '';
    for (let attempt = 0; attempt < 20 && reply === ''; attempt++) {
      const r = await inNs(nsA, 'node', [
        '-e',
        `const c=require('net').connect(${port},'${net}.2',()=>{c.end(Buffer.alloc(${bytes},7))});let s='';c.on('data',d=>s+=d);c.on('end',()=>{console.log(s)});c.on('error',e=>{console.log('ERR '+e.code)})`,
      ]);
      reply = r.stdout.trim().startsWith('ERR') ? '' : r.stdout.trim();
      if (reply === '') await new Promise((res) => setTimeout(res, 200)); // server not listening yet
    }
    expect(reply).toBe(String(bytes));
    await server;
    const csum = (pa.nativeStats?.rxCsumCompleted ?? 0) + (pb.nativeStats?.rxCsumCompleted ?? 0);
    expect(csum).toBeGreaterThan(0);
    expect(pa.rxOversize + pb.rxOversize).toBe(0);
  });

  it('receives through recvmmsg on a TUN/TAP device (a VM NIC), through a TPACKET_V2 ring on a veth', () => {
    const tap = lab.name('tp');
    ip('tuntap', 'add', 'dev', tap, 'mode', 'tap');
    const p = new SystemPort(tap);
    try {
      p.start(dp);
      expect([p.rxRing, pa.rxRing]).toEqual([false, true]);
      expect([p.rxRingVersion, pa.rxRingVersion]).toEqual([0, 2]);
    } finally {
      p.stop();
      ip('link', 'del', tap);
    }
  });

  it('batch slots follow an MTU change after refreshLink; frames over the output MTU are tx errors', async () => {
    const setMtu = (mtu: number, which: 'all' | 'b-host') => {
      if (which === 'b-host') return ip('link', 'set', pb.name, 'mtu', String(mtu));
      ip('link', 'set', pa.name, 'mtu', String(mtu));
      ip('link', 'set', pb.name, 'mtu', String(mtu));
      ip('-n', nsA, 'link', 'set', nsEnds[0], 'mtu', String(mtu));
      ip('-n', nsB, 'link', 'set', nsEnds[1], 'mtu', String(mtu));
    };
    const bigPing = (size: number) =>
      inNs(nsA, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', '-M', 'do', '-s', String(size), `${net}.2`]).then(
        (r) => r.stdout,
        (e: { stdout?: string }) => e.stdout ?? '',
      );
    expect(pa.frameMax).toBe(1522);
    try {
      setMtu(9000, 'all');
      const truncatedBefore = pa.nativeStats!.rxTruncated;
      expect(await bigPing(8000)).toMatch(/2 packets transmitted, 0 received/); // slots still 1522 bytes
      expect(pa.nativeStats!.rxTruncated).toBeGreaterThan(truncatedBefore);
      pa.refreshLink();
      pb.refreshLink();
      expect(pa.mtu).toBe(9000);
      expect(pa.frameMax).toBe(9022);
      expect(pa.batchResizes).toBe(1);
      expect(pa.reopens).toBe(1); // the V2 ring's 2 KiB frames were too small for 9000-byte frames
      expect(pa.rxRingFrameBytes).toBe(16384);
      expect(await bigPing(8000)).toMatch(/2 packets transmitted, 2 received/);

      setMtu(1500, 'b-host'); // the output port's MTU drops under the frames
      pb.refreshLink();
      expect(pb.frameMax).toBe(1522);
      const errorsBefore = pb.stats.txErrors;
      expect(await bigPing(4000)).toMatch(/2 packets transmitted, 0 received/);
      expect(pb.txOversize).toBeGreaterThanOrEqual(2);
      expect(pb.stats.txErrors - errorsBefore).toBeGreaterThanOrEqual(2);
    } finally {
      setMtu(1500, 'all');
      pa.refreshLink();
      pb.refreshLink();
    }
    expect(await bigPing(1000)).toMatch(/2 packets transmitted, 2 received/);
  });

  it('a missing device fails with ENODEV naming it', () => {
    const p = new SystemPort(lab.name('none'));
    let err: unknown;
    try {
      p.start(dp);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DpifError);
    expect((err as DpifError).code).toBe('ENODEV');
    expect((err as Error).message).toContain(lab.name('none'));
    p.stop();
    p.stop();
  });
});
