// tsvs-vsctl: ovs-vsctl for tsvs. Reads a snapshot of the config DB over the
// management RPC, runs the `--`-chained commands against it, and commits the
// result as one transaction guarded by the snapshot's transaction id (retried
// from a fresh snapshot if another client got in first). Unless --no-wait, it
// then waits until the daemon has applied the change (next_cfg/cur_cfg).

import { join } from 'node:path';
import type { RpcSchema } from '../vswitchd/rpc/rpc-schema.js';
import { defaultRundir, RPC_SOCKET_NAME, RpcClient, RpcError } from './rpc-client.js';
import { isReadOnly, parseCommandLine, runCommands, WaitRetry, type Command, type GlobalOptions } from './vsctl-commands.js';
import { VsctlTxn } from './vsctl-txn.js';
import { VsctlError } from './vsctl-values.js';

const PROGRAM = 'tsvs-vsctl';
const MAX_TRIES = 50;

export const VSCTL_USAGE = `usage: ${PROGRAM} [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...
Configure tsvs-vswitchd through its config DB, like ovs-vsctl.

Open vSwitch commands:  init  show
Bridge commands:        add-br BRIDGE  del-br BRIDGE  list-br  br-exists BRIDGE
                        br-set-external-id BRIDGE KEY [VALUE]  br-get-external-id BRIDGE [KEY]
Port commands:          list-ports BRIDGE  add-port BRIDGE PORT [COLUMN[:KEY]=VALUE]...
                        add-bond BRIDGE PORT IFACE... [COLUMN[:KEY]=VALUE]...
                        del-port [BRIDGE] PORT  port-to-br PORT
Interface commands:     list-ifaces BRIDGE  iface-to-br IFACE
Controller commands:    get-controller BRIDGE  del-controller BRIDGE  set-controller BRIDGE TARGET...
                        get-fail-mode BRIDGE  del-fail-mode BRIDGE  set-fail-mode BRIDGE standalone|secure
Manager commands:       get-manager  del-manager  set-manager TARGET...
Database commands:      list TBL [REC]  find TBL CONDITION...  get TBL REC COL[:KEY]...
                        set TBL REC COL[:KEY]=VALUE...  add TBL REC COL [KEY=]VALUE...
                        remove TBL REC COL [KEY=]VALUE...  clear TBL REC COL...
                        create TBL COL[:KEY]=VALUE...  destroy TBL REC...  comment [ARG]...
                        wait-until TBL REC [COL[:KEY]=VALUE]...
Command options:        --may-exist  --if-exists  --id=@NAME  --columns=COL,...  --all  --with-iface
Options:                --rundir=DIR (default $TSVS_RUNDIR or ./var/run)  --db=unix:SOCKET  --no-wait  --timeout=SECS
                        --format=list|table|json  --bare  --oneline  --dry-run  --help  --version
`;

export interface VsctlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

async function snapshot(client: RpcClient, schema: RpcSchema): Promise<{ txnId: number; rows: Record<string, Record<string, unknown>[]> } | null> {
  const tables = Object.keys(schema.tables);
  const answers = await Promise.all(tables.map((t) => client.request({ list: { table: t } })));
  const txnId = answers[0].txnId;
  if (answers.some((a) => a.txnId !== txnId)) return null; // a commit landed in between
  const rows: Record<string, Record<string, unknown>[]> = {};
  tables.forEach((t, i) => (rows[t] = answers[i].result as Record<string, unknown>[]));
  return { txnId, rows };
}

async function execute(client: RpcClient, global: GlobalOptions, commands: Command[], warnings: string[]): Promise<VsctlResult> {
  const schema = (await client.request({ schema: {} })).result as RpcSchema;
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const snap = await snapshot(client, schema);
    if (!snap) continue;
    const txn = new VsctlTxn(schema, snap.rows);
    let run: ReturnType<typeof runCommands>;
    try {
      warnings.length = 0;
      run = runCommands(txn, global, commands, warnings);
    } catch (e) {
      if (!(e instanceof WaitRetry)) throw e;
      // Poll until the condition holds; --timeout bounds it, as in ovs-vsctl.
      await new Promise((r) => setTimeout(r, 50));
      attempt--;
      continue;
    }
    const { ops, names } = txn.ops();
    const finish = (uuidOf: (p: string) => string): VsctlResult => ({
      stdout: run.outputs.map((o) => {
        const text = typeof o === 'string' ? o : o(uuidOf);
        return global.oneline ? text.replace(/\n$/, '').replace(/\\/g, '\\\\').replace(/\n/g, '\\n') + '\n' : text;
      }).join(''),
      stderr: formatWarnings(run.warnings),
      exitCode: run.exitCode,
    });
    if (ops.length === 0 || isReadOnly(commands) || global.dryRun) return finish((p) => p);
    const wait = !global.noWait && ops.some((o) => o['op'] !== 'comment');
    if (wait) {
      ops.push({ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] });
      ops.push({ op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] });
    }
    let result: { txnId: number | null; results: Array<{ uuid?: string; rows?: Array<{ next_cfg: number }> }> };
    try {
      result = (await client.request({ transact: { ops_json: JSON.stringify(ops), expect_txn_id: snap.txnId } })).result as typeof result;
    } catch (e) {
      if (e instanceof RpcError && e.code === 'try again') continue;
      if (e instanceof RpcError) throw new VsctlError(`transaction error: ${e.message}`);
      throw e;
    }
    const uuidByName = new Map<string, string>();
    ops.forEach((o, i) => {
      if (o['op'] === 'insert' && typeof o['uuidName'] === 'string' && result.results[i]?.uuid) uuidByName.set(o['uuidName'], result.results[i].uuid!);
    });
    if (wait) {
      const nextCfg = result.results[result.results.length - 1].rows?.[0]?.next_cfg;
      if (typeof nextCfg === 'number') await client.request({ wait_for_cfg: { next_cfg: nextCfg, timeout_ms: global.timeoutSec ? global.timeoutSec * 1000 : 0 } });
    }
    return finish((p) => uuidByName.get(names.get(p) ?? '') ?? p);
  }
  throw new VsctlError(`the database kept changing; gave up after ${MAX_TRIES} attempts`);
}

function formatWarnings(w: readonly string[]): string {
  return w.map((m) => `${PROGRAM}: warning: ${m}\n`).join('');
}

/** Runs one tsvs-vsctl invocation; never exits the process (tests call this). */
export async function vsctl(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<VsctlResult> {
  let client: RpcClient | null = null;
  let timer: NodeJS.Timeout | null = null;
  const warnings: string[] = [];
  try {
    const { global, commands } = parseCommandLine(argv);
    if (global.help) return { stdout: VSCTL_USAGE, stderr: '', exitCode: 0 };
    if (global.version) return { stdout: `${PROGRAM} (tsvs) 0.1.0\n`, stderr: '', exitCode: 0 };
    const path = global.db ?? join(global.rundir ?? defaultRundir(env), RPC_SOCKET_NAME);
    const work = (async () => {
      client = await RpcClient.connect(path);
      return execute(client, global, commands, warnings);
    })();
    work.catch(() => {}); // after a timeout its rejection (client closed) is expected and already reported
    if (global.timeoutSec > 0) {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new VsctlError(`timeout after ${global.timeoutSec} seconds`)), global.timeoutSec * 1000);
      });
      return await Promise.race([work, timeout]);
    }
    return await work;
  } catch (e) {
    const msg = e instanceof VsctlError || e instanceof RpcError ? e.message : e instanceof Error ? e.message : String(e);
    return { stdout: '', stderr: `${formatWarnings(warnings)}${PROGRAM}: ${msg}\n`, exitCode: 1 };
  } finally {
    if (timer) clearTimeout(timer);
    (client as RpcClient | null)?.close();
  }
}

export async function main(): Promise<void> {
  const r = await vsctl(process.argv.slice(2));
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.exitCode;
}
