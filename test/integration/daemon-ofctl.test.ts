// bin/tsvs-ofctl against the compiled daemon, by bridge name (TSVS_RUNDIR):
// show, flows from stdin, traffic counted in dump-flows, errors.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, runTool } from '../helpers/daemon.js';

describe('tsvs-ofctl with tsvs-vswitchd', () => {
  const d = new DaemonProcess();
  const vsctl = async (...args: string[]): Promise<string> => {
    const r = await runTool('tsvs-vsctl', ['--timeout=10', ...args], d.rundir);
    if (r.code !== 0) throw new Error(`tsvs-vsctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const ofctl = async (args: string[], stdin?: string): Promise<string> => {
    const r = await runTool('tsvs-ofctl', args, d.rundir, 20_000, stdin);
    if (r.code !== 0) throw new Error(`tsvs-ofctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    expect(r.stderr).toBe('');
    return r.stdout;
  };

  beforeAll(async () => {
    ensureBuilt();
    await d.start();
    await vsctl('add-br', 'br0', '--', 'set-fail-mode', 'br0', 'secure', '--', 'add-port', 'br0', 'p1', '--', 'set', 'Interface', 'p1', 'type=guest', 'options:mac=02:00:00:00:00:01', 'options:ip=10.0.0.1/24', 'ofport_request=1',
      '--', 'add-port', 'br0', 'p2', '--', 'set', 'Interface', 'p2', 'type=guest', 'options:mac=02:00:00:00:00:02', 'options:ip=10.0.0.2/24', 'ofport_request=2');
  }, 120_000);
  afterAll(async () => {
    await d.kill('SIGKILL');
    rmSync(d.dir, { recursive: true, force: true });
  });

  it('show by bridge name; flows from stdin carry a ping; errors exit 1', async () => {
    const show = await ofctl(['show', 'br0']);
    expect(show).toMatch(/^OFPT_FEATURES_REPLY \(OF1\.3\) \(xid=0x2\): dpid:/);
    expect(show).toContain(' 1(p1): addr:02:00:00:00:00:01\n');
    await ofctl(['add-flows', 'br0', '-'], '# both ways\nin_port=1,actions=output:2\nin_port=2,actions=output:1\n');
    const ping = await runTool('tsvs-appctl', ['guest/ping', 'p1', '10.0.0.2', '2'], d.rundir);
    expect(ping.stdout).toContain('2 received');
    const flows = await ofctl(['dump-flows', 'br0', 'in_port=1']);
    expect(flows).toMatch(/^OFPST_FLOW reply \(OF1\.3\) \(xid=0x2\):\n cookie=0x0, duration=[0-9.]+s, table=0, n_packets=[1-9]\d*, n_bytes=\d+, in_port=1 actions=output:2\n$/);
    const bad = await runTool('tsvs-ofctl', ['add-flow', 'br0', 'actions=group:5'], d.rundir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('OFPT_ERROR (OF1.3) (xid=0x2): OFPBAC_BAD_OUT_GROUP\nOFPT_FLOW_MOD (OF1.3) (xid=0x2): ADD actions=group:5\n');
    const nobr = await runTool('tsvs-ofctl', ['show', 'br9'], d.rundir);
    expect(nobr.code).toBe(1);
    expect(nobr.stderr).toMatch(/^tsvs-ofctl: br9 is not a bridge or a socket \(no .*br9\.mgmt; /);
  });
});
