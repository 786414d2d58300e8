// A private Open vSwitch for side-by-side tests: ovsdb-server and
// ovs-vswitchd with the dummy datapath (no devices, no root needed), started
// detached with every file (db, sockets, pidfiles, logs) in `dir`, stopped
// through their pidfiles.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR all pointing at `dir`. */
export function dummyOvsEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
}

/**
 * Creates the database and starts both daemons; ovs-vswitchd's control socket
 * is `ctl`. Returns the ovs-vsctl arguments that reach this database.
 */
export function startDummyOvs(dir: string, ctl: string): string[] {
  const run = (cmd: string, args: string[]): void => {
    execFileSync(cmd, args, { env: dummyOvsEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const db = join(dir, 'db.sock');
  run('ovsdb-tool', ['create', join(dir, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
  run('ovsdb-server', [`--remote=punix:${db}`, `--pidfile=${join(dir, 'ovsdb-server.pid')}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, `--log-file=${join(dir, 'ovsdb.log')}`, '--detach', join(dir, 'conf.db')]);
  run('ovs-vswitchd', [`unix:${db}`, '--enable-dummy=override', '--disable-system', `--pidfile=${join(dir, 'ovs-vswitchd.pid')}`, `--unixctl=${ctl}`, `--log-file=${join(dir, 'vswitchd.log')}`, '--detach']);
  return [`--db=unix:${db}`, '--timeout=10'];
}

/** SIGTERM to both daemons (those that started; already gone is fine). */
export function stopDummyOvs(dir: string): void {
  for (const name of ['ovs-vswitchd.pid', 'ovsdb-server.pid']) {
    const f = join(dir, name);
    if (!existsSync(f)) continue;
    try {
      process.kill(Number(readFileSync(f, 'utf8').trim()), 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
}
