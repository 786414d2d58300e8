// The daemon's bridges are OpenFlow switches driven by the real tools, the way
// an Open vSwitch user drives theirs: tsvs-vsctl configures, ovs-ofctl talks to
// <rundir>/<bridge>.mgmt, set-controller points a bridge at ovs-testcontroller
// and fail_mode decides what happens without one.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, runTool } from '../helpers/daemon.js';
import { hasCommand } from '../helpers/ofbridge-interop.js';
import { freePort, PeerProcess } from '../helpers/peer-process.js';

const run = promisify(execFile);

describe.skipIf(!hasCommand('ovs-ofctl'))('tsvs-vswitchd bridges speak OpenFlow to ovs-ofctl and ovs-testcontroller', () => {
  const d = new DaemonProcess();
  let peer: PeerProcess | null = null;
  const vsctl = async (...args: string[]): Promise<string> => {
    const r = await runTool('tsvs-vsctl', ['--timeout=10', ...args], d.rundir);
    if (r.code !== 0) throw new Error(`tsvs-vsctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const ping = async (count = 2): Promise<string> => {
    const r = await runTool('tsvs-appctl', ['guest/ping', 'p1', '10.0.0.2', String(count)], d.rundir, 30_000);
    return r.stdout + r.stderr; // a failed ping reports on stderr with a non-zero exit
  };
  const ofctl = async (...args: string[]): Promise<string> =>
    (await run('ovs-ofctl', ['-O', 'OpenFlow13', '--no-names', ...args], { timeout: 15_000 })).stdout;
  const mgmt = () => `unix:${d.rundir}/br0.mgmt`;

  beforeAll(async () => {
    ensureBuilt();
    await d.start([]);
    await vsctl('add-br', 'br0', '--', 'set', 'Bridge', 'br0', 'fail_mode=secure',
      '--', 'add-port', 'br0', 'p1', '--', 'set', 'Interface', 'p1', 'type=guest', 'options:mac=02:00:00:00:00:01', 'options:ip=10.0.0.1/24', 'ofport_request=1',
      '--', 'add-port', 'br0', 'p2', '--', 'set', 'Interface', 'p2', 'type=guest', 'options:mac=02:00:00:00:00:02', 'options:ip=10.0.0.2/24', 'ofport_request=2');
  }, 120_000);
  afterAll(async () => {
    await peer?.stop();
    await d.kill('SIGKILL');
    rmSync(d.dir, { recursive: true, force: true });
  });

  it('secure and no flows: no ping; ovs-ofctl add-flow over br0.mgmt makes it ping; dump-flows shows the packets', async () => {
    expect(await ofctl('show', mgmt())).toMatch(/OFPT_FEATURES_REPLY/);
    expect(await ping(1)).toContain('100% packet loss');
    await ofctl('add-flow', mgmt(), 'priority=10,in_port=1,actions=output:2');
    await ofctl('add-flow', mgmt(), 'priority=10,in_port=2,actions=output:1');
    expect(await ping(3)).toContain('3 packets transmitted, 3 received, 0% packet loss');
    const flows = await ofctl('dump-flows', mgmt());
    expect(flows).toMatch(/n_packets=[1-9]\d*, .*priority=10,in_port=1 actions=output:2/);
    await ofctl('del-flows', mgmt());
    expect(await ofctl('dump-flows', mgmt())).not.toMatch(/priority=10/);
  });

  it('set-controller to ovs-testcontroller: it learns and the guests ping; standalone fails open', async () => {
    const port = await freePort();
    peer = new PeerProcess('ovs-testcontroller', ['-vvconn:dbg', '-O', 'OpenFlow13', `ptcp:${port}:127.0.0.1`], { OVS_RUNDIR: d.dir });
    await vsctl('set-controller', 'br0', `tcp:127.0.0.1:${port}`);
    await peer.waitFor(/OFPT_FEATURES_REPLY|sent \(Success\): OFPT_FLOW_MOD/);
    let out = '';
    for (let i = 0; i < 10 && !out.includes(' 0% packet loss'); i++) out = await ping(2);
    expect(out).toContain(' 0% packet loss');
    await peer.stop();
    peer = null;
    await vsctl('del-controller', 'br0', '--', 'set', 'Bridge', 'br0', 'fail_mode=standalone');
    await run('ovs-ofctl', ['-O', 'OpenFlow13', '--no-names', 'del-flows', mgmt()]);
    expect(await ping(2)).toContain('2 packets transmitted, 2 received, 0% packet loss');
  });
});
