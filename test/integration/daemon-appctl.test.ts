// ofproto/trace, fdb/flush and guest/traffic through the compiled daemon and
// tsvs-appctl: a standalone bridge (fail-open NORMAL) with two guests.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, runTool } from '../helpers/daemon.js';

describe('tsvs-appctl ofproto/trace, fdb/flush, guest/traffic', () => {
  const d = new DaemonProcess();
  const vsctl = async (...args: string[]): Promise<string> => {
    const r = await runTool('tsvs-vsctl', ['--timeout=10', ...args], d.rundir);
    if (r.code !== 0) throw new Error(`tsvs-vsctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const appctl = async (...args: string[]): Promise<string> => {
    const r = await runTool('tsvs-appctl', args, d.rundir);
    if (r.code !== 0) throw new Error(`tsvs-appctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const fails = async (...args: string[]): Promise<string> => {
    const r = await runTool('tsvs-appctl', args, d.rundir);
    expect(r.code, r.stdout).toBe(2);
    return r.stderr.split('\n')[0]!;
  };

  beforeAll(async () => {
    ensureBuilt();
    await d.start();
    await vsctl('add-br', 'br0', '--', 'add-port', 'br0', 'p1', '--', 'set', 'Interface', 'p1', 'type=guest', 'options:mac=02:00:00:00:00:01', 'options:ip=10.0.0.1/24', 'ofport_request=1',
      '--', 'add-port', 'br0', 'p2', '--', 'set', 'Interface', 'p2', 'type=guest', 'options:mac=02:00:00:00:00:02', 'options:ip=10.0.0.2/24', 'ofport_request=2');
  }, 120_000);
  afterAll(async () => {
    await d.kill('SIGKILL');
    rmSync(d.dir, { recursive: true, force: true });
  });

  it('ofproto/trace floods, then forwards to the learned port; fdb/flush forgets', async () => {
    const flow = 'in_port=p1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02';
    const flood = await appctl('ofproto/trace', 'br0', flow);
    expect(flood).toMatch(/^Flow: in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,dl_type=0x0000\n\nbridge\("br0"\)\n-------------\n/);
    expect(flood).toContain('NORMAL\n     -> no learned MAC for destination, flooding\n');
    // Flooding reaches the bridge's own port too (LOCAL, datapath port 0; device-less with --no-internal-devices).
    expect(flood).toMatch(/\nDatapath actions: 2,0\n$/);
    expect(await appctl('guest/ping', 'p1', '10.0.0.2', '1')).toContain('1 received');
    const fwd = await appctl('ofproto/trace', 'br0', flow);
    expect(fwd).toContain(' -> forwarding to learned port\n');
    expect(await appctl('fdb/show', 'br0')).toContain('02:00:00:00:00:02');
    expect(await appctl('fdb/flush', 'br0')).toBe('table successfully flushed\n');
    expect((await appctl('fdb/show', 'br0')).trim()).toBe('port  VLAN  MAC                Age');
    expect(await appctl('dpctl/dump-flows')).toBe('');
    expect(await appctl('ofproto/trace', 'br0', flow)).toContain('no learned MAC for destination, flooding');
    expect(await appctl('fdb/flush')).toBe('table successfully flushed\n');
    expect(await appctl('list-commands')).toContain('ofproto/trace BRIDGE FLOW [-generate | PACKET]');
  });

  it('errors are one clear line with exit status 2', async () => {
    expect(await fails('ofproto/trace', 'nobr', 'in_port=1')).toBe('nobr: unknown bridge');
    expect(await fails('ofproto/trace', 'br0', 'in_port=1,bogus=1')).toBe('Bad openflow flow syntax: bogus: unknown field');
    expect(await fails('fdb/flush', 'nobr')).toBe('no such bridge');
    expect(await fails('guest/traffic', 'p1', '10.0.0.2', '--rate', '0')).toBe('--rate "0" is not a whole number in 1..100000');
    expect(await fails('guest/traffic', 'nope')).toBe('nope: no such guest interface');
  });

  it('guest/traffic runs, reports and stops', async () => {
    expect(await appctl('guest/traffic', 'p1', '10.0.0.2', '--rate', '1000', '--count', '40')).toBe('p1: started udp to 10.0.0.2 port 7, 1 flow, 40 packets of 64 bytes at 1000 pps\n');
    let status = '';
    for (let i = 0; i < 100 && !/received 40 /.test(status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await appctl('guest/traffic', 'p1');
    }
    expect(status).toMatch(/^p1: done, .*: sent 40\/40, received 40 in /);
    await appctl('guest/traffic', 'p2', '10.0.0.1', '--rate', '50', '--duration', '60');
    expect(await appctl('guest/traffic', 'p2', 'stop')).toMatch(/^p2: stopped, .* sent \d+\/3000/);
    expect(await fails('guest/traffic', 'p2', 'stop')).toBe('p2: no traffic running');
  });
});
