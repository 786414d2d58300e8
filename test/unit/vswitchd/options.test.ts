import { describe, expect, it } from 'vitest';
import { parseDaemonOptions, UsageError } from '../../../vswitchd/options.js';
import { Vlog } from '../../../vswitchd/vlog.js';

describe('tsvs-vswitchd options', () => {
  it('defaults under ./var, or TSVS_RUNDIR/TSVS_DBDIR', () => {
    const o = parseDaemonOptions([], {}, '/repo');
    expect(o).toMatchObject({ rundir: '/repo/var/run', dbdir: '/repo/var/db', pidfile: '/repo/var/run/tsvs-vswitchd.pid', logLevel: 'info', detach: false, metricsAddress: { host: '127.0.0.1', port: 9475 }, metricsAddressIsDefault: true, logFile: null });
    const e = parseDaemonOptions([], { TSVS_RUNDIR: '/r', TSVS_DBDIR: 'd' }, '/repo');
    expect(e).toMatchObject({ rundir: '/r', dbdir: '/repo/d' });
    expect(o.internalDevices).toBe(true);
    expect(parseDaemonOptions(['--no-internal-devices'], {}).internalDevices).toBe(false);
  });

  it('takes --opt=value and --opt value; flags override the environment', () => {
    const o = parseDaemonOptions(['--rundir', '/x', '--dbdir=/y', '--metrics-address=127.0.0.1:0', '--log-level', 'DEBUG', '--detach', '--pidfile=p.pid', '--log-file'], { TSVS_RUNDIR: '/r' }, '/c');
    expect(o).toMatchObject({ rundir: '/x', dbdir: '/y', metricsAddress: { host: '127.0.0.1', port: 0 }, logLevel: 'dbg', detach: true, pidfile: '/c/p.pid', logFile: '/x/tsvs-vswitchd.log' });
    expect(parseDaemonOptions(['--metrics-address=[::1]:9100'], {}).metricsAddress).toEqual({ host: '::1', port: 9100 });
    expect(parseDaemonOptions(['--metrics-address=off'], {})).toMatchObject({ metricsAddress: null, metricsAddressIsDefault: false });
  });

  it.each([
    [['--bogus'], 'unknown option "--bogus"'],
    [['--rundir'], '--rundir requires a value'],
    [['--rundir='], 'non-empty'],
    [['--log-level=loud'], 'unknown level "loud"'],
    [['--metrics-address=9100'], 'is not HOST:PORT'],
    [['--metrics-address=h:70000'], 'not 0..65535'],
    [['--detach=yes'], 'takes no value'],
    [['stray'], 'unexpected argument "stray"'],
    [['--stats-interval=5'], '--stats-interval'],
  ])('%j is one clear error', (argv, msg) => {
    expect(() => parseDaemonOptions(argv, {})).toThrow(UsageError);
    expect(() => parseDaemonOptions(argv, {})).toThrow(msg);
  });
});

describe('vlog', () => {
  it('lists modules and sets levels per module or for all', () => {
    const v = new Vlog({ console: false });
    v.module('bridge');
    v.module('rpc');
    v.set('rpc:dbg');
    expect(v.enabled('rpc', 'dbg')).toBe(true);
    expect(v.enabled('bridge', 'dbg')).toBe(false);
    v.set('ANY:warn');
    expect(v.enabled('rpc', 'info')).toBe(false);
    expect(v.list()).toContain('bridge     warn');
    expect(() => v.set('nope:info')).toThrow(/unknown module/);
    expect(() => v.set('rpc:loud')).toThrow(/unknown log level/);
  });
});
