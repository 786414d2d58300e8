// The compiled daemon and CLIs end to end: vsctl configures two guests on a
// bridge, appctl pings between them and dumps the datapath flows; ofport
// requests, unsupported types, patch ports, statistics, vlog, clean SIGTERM.
import { appendFileSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, runTool } from '../helpers/daemon.js';

describe('tsvs-vswitchd with tsvs-vsctl and tsvs-appctl', () => {
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

  beforeAll(async () => {
    ensureBuilt();
    await d.start(['--stats-interval=200']);
  }, 120_000);
  afterAll(async () => {
    await d.kill('SIGKILL');
    rmSync(d.dir, { recursive: true, force: true });
  });

  it('serves its socket with mode 0600 and writes a pidfile', () => {
    expect(statSync(d.socket).mode & 0o777).toBe(0o600);
    expect(existsSync(`${d.rundir}/tsvs-vswitchd.pid`)).toBe(true);
  });

  it('two guests on one bridge ping each other; the flows are in the datapath', async () => {
    await vsctl('add-br', 'br0', '--', 'add-port', 'br0', 'p1', '--', 'set', 'Interface', 'p1', 'type=guest', 'options:mac=02:00:00:00:00:01', 'options:ip=10.0.0.1/24',
      '--', 'add-port', 'br0', 'p2', '--', 'set', 'Interface', 'p2', 'type=guest', 'options:mac=02:00:00:00:00:02', 'options:ip=10.0.0.2/24');
    // Without --no-wait vsctl returned only after the daemon applied it:
    expect(await vsctl('get', 'Interface', 'p1', 'ofport', 'link_state', 'mac_in_use')).toBe('1\nup\n"02:00:00:00:00:01"\n');
    const ping = await appctl('guest/ping', 'p1', '10.0.0.2', '3');
    expect(ping).toContain('3 packets transmitted, 3 received, 0% packet loss');
    expect(ping).toMatch(/rtt min\/avg\/max = [\d.]+\/[\d.]+\/[\d.]+ ms/);
    const flows = await appctl('dpctl/dump-flows');
    expect(flows).toContain('in_port(1),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02), packets:');
    expect(flows).toMatch(/in_port\(2\),eth\(src=02:00:00:00:00:02,dst=02:00:00:00:00:01\), packets:\d+, bytes:\d+, used:[\d.]+s, actions:1/);
    expect(await appctl('dpctl/show')).toContain('port 2: p2 (guest)');
    await appctl('bridge/refresh-stats');
    expect(Number((await vsctl('get', 'Interface', 'p1', 'statistics:tx_packets')).trim())).toBeGreaterThanOrEqual(3);
  });

  it('a failed ping reports 100% loss and a non-zero exit', async () => {
    const r = await runTool('tsvs-appctl', ['guest/ping', 'p1', '10.0.0.99', '1'], d.rundir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('1 packets transmitted, 0 received, 100% packet loss');
  });

  it('honours ofport_request; a bad type gets an error, not a port', async () => {
    await vsctl('add-port', 'br0', 'p3', '--', 'set', 'Interface', 'p3', 'type=guest', 'options:mac=02:00:00:00:00:03', 'ofport_request=10');
    expect(await vsctl('get', 'Interface', 'p3', 'ofport')).toBe('10\n');
    await vsctl('add-port', 'br0', 'x0', '--', 'set', 'Interface', 'x0', 'type=bogus');
    expect(await vsctl('get', 'Interface', 'x0', 'ofport', 'error')).toBe('-1\n"unsupported interface type \\"bogus\\" (tsvs-vswitchd creates system, tap, internal, guest, patch, stream and dgram interfaces)"\n');
    await vsctl('del-port', 'x0');
  });

  it('--no-internal-devices: the bridge\'s own port is LOCAL without a device; tap ports create theirs, del-port deletes it; a missing system device is an error', async () => {
    const sfx = Math.random().toString(36).slice(2, 7);
    const br = `tbr${sfx}`;
    const tap = `ttap${sfx}`;
    await vsctl('add-br', br, '--', 'add-port', br, tap, '--', 'set', 'Interface', tap, 'type=tap', '--', 'add-port', br, `nodev${sfx}`);
    expect(await vsctl('get', 'Interface', `nodev${sfx}`, 'ofport', 'error')).toBe(`-1\n"could not open network device nodev${sfx} (No such device)"\n`);
    expect(await vsctl('get', 'Interface', br, 'ofport', 'error', 'link_state', 'admin_state', 'mtu')).toBe('65534\n[]\nup\nup\n1500\n');
    expect(existsSync(`/sys/class/net/${br}`)).toBe(false);
    expect(await appctl('dpctl/show')).toContain(`port 0: ${br} (internal)`);
    if (process.getuid?.() !== 0) {
      // Without CAP_NET_ADMIN no TAP can be made; OVS says the same.
      expect(await vsctl('get', 'Interface', tap, 'error')).toBe(`"could not open network device ${tap} (Operation not permitted)"\n`);
    } else {
      expect(await vsctl('get', 'Interface', tap, 'ofport', 'error')).toBe('1\n[]\n');
      expect(existsSync(`/sys/class/net/${tap}`)).toBe(true);
      await vsctl('del-port', tap);
      expect(existsSync(`/sys/class/net/${tap}`)).toBe(false);
    }
    await vsctl('del-br', br);
  });

  it('patch ports join two bridges', async () => {
    await vsctl('add-br', 'br1', '--', 'add-port', 'br1', 'p4', '--', 'set', 'Interface', 'p4', 'type=guest', 'options:mac=02:00:00:00:00:04', 'options:ip=10.0.0.4/24',
      '--', 'add-port', 'br0', 'patch01', '--', 'set', 'Interface', 'patch01', 'type=patch', 'options:peer=patch10',
      '--', 'add-port', 'br1', 'patch10', '--', 'set', 'Interface', 'patch10', 'type=patch', 'options:peer=patch01');
    expect(await appctl('guest/ping', 'p1', '10.0.0.4', '2')).toContain('2 packets transmitted, 2 received, 0% packet loss');
    await vsctl('del-port', 'patch10');
    expect(await vsctl('get', 'Interface', 'patch01', 'error')).toContain('peer patch10 does not exist');
  });

  it('removing a port takes it out of the datapath', async () => {
    await vsctl('del-port', 'br0', 'p3');
    expect(await appctl('dpctl/show')).not.toContain('p3');
  });

  it('vlog, coverage, memory, list-commands; unknown commands fail', async () => {
    await appctl('vlog/set', 'bridge:dbg');
    expect(await appctl('vlog/list')).toMatch(/bridge\s+dbg/);
    expect(await appctl('coverage/show')).toContain('bridge_reconfigure');
    expect(await appctl('memory/show')).toContain('megaflows:');
    expect(await appctl('list-commands')).toContain('guest/ping PORT IP [COUNT]');
    const r = await runTool('tsvs-appctl', ['nope'], d.rundir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"nope" is not a valid command');
  });

  it('a rejected vsctl command is one line, non-zero, and changes nothing', async () => {
    const before = await vsctl('list-ports', 'br0');
    const r = await runTool('tsvs-vsctl', ['add-port', 'br0', 'p9', '--', 'add-port', 'br0', 'p1'], d.rundir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tsvs-vsctl: cannot create a port named p1 because a port named p1 already exists on bridge br0\n');
    expect(await vsctl('list-ports', 'br0')).toBe(before);
  });

  it('config survives a restart; SIGTERM shuts down cleanly', async () => {
    expect(await d.kill('SIGTERM')).toBe(0);
    expect(existsSync(d.socket)).toBe(false);
    expect(existsSync(`${d.rundir}/tsvs-vswitchd.pid`)).toBe(false);
    await d.start();
    expect(await vsctl('list-br')).toBe('br0\nbr1\n');
    expect(await appctl('guest/ping', 'p2', '10.0.0.1', '1')).toContain('1 received');
  });

  it('logs a torn journal tail it cut off on start, and keeps the rest', async () => {
    expect(await d.kill('SIGTERM')).toBe(0);
    appendFileSync(`${d.dbdir}/conf.journal`, Buffer.from([0, 0, 0, 40, 1, 2, 3])); // a frame cut short by a crash
    await d.start();
    expect(d.log).toMatch(/\|configdb\|WARN\|.*conf\.journal: replayed \d+ records up to txn \d+ .*; cut 7 damaged bytes at offset \d+/);
    expect(await vsctl('list-br')).toBe('br0\nbr1\n');
  });

  it('serves Prometheus metrics when asked', async () => {
    await d.kill('SIGTERM');
    await d.start(['--metrics-address=127.0.0.1:0']);
    const port = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(d.log)![1];
    await appctl('guest/ping', 'p1', '10.0.0.2', '1');
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/tsvs_interface_rx_packets_total\{bridge="br0",port="p1"\} \d+/);
    expect(text).toContain('tsvs_datapath_flows{bridge="br0"}');
  });

  it('--detach returns once the daemon is ready; a second daemon on the same rundir is refused', async () => {
    await d.kill('SIGTERM');
    const r = await runTool('tsvs-vswitchd', [`--rundir=${d.rundir}`, `--dbdir=${d.dbdir}`, '--detach'], d.rundir);
    const pidfile = `${d.rundir}/tsvs-vswitchd.pid`;
    try {
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(await vsctl('list-br')).toBe('br0\nbr1\n');
      const again = await runTool('tsvs-vswitchd', [`--rundir=${d.rundir}`, `--dbdir=${d.dbdir}`], d.rundir);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^tsvs-vswitchd: .*tsvs-vswitchd\.pid: tsvs-vswitchd is already running \(pid \d+\)\n$/);
      expect(await appctl('exit')).toBe('');
      for (let i = 0; i < 50 && existsSync(d.socket); i++) await new Promise((res) => setTimeout(res, 50));
      expect(existsSync(d.socket)).toBe(false);
    } finally {
      // The detached daemon is not our child: never leave it behind when an assertion fails.
      if (existsSync(pidfile)) {
        try {
          process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });

  it('bad daemon arguments are one line and exit 1', async () => {
    const r = await runTool('tsvs-vswitchd', ['--log-level=loud'], d.rundir);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'tsvs-vswitchd: --log-level: unknown level "loud" (use off, emer, err, warn, info or dbg)\n' });
  });
});
