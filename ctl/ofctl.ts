// tsvs-ofctl: ovs-ofctl for tsvs (and any OpenFlow 1.3 switch, Open vSwitch
// included). Parses the command line, resolves SWITCH (a bridge name under
// the run directory, unix:PATH or tcp:HOST[:PORT]), runs one command from
// ofctl-commands.ts over an OfctlConnection and prints what ovs-ofctl
// -O OpenFlow13 --no-names prints.

import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { isOfctlSyntaxError } from '../ofproto/openflow/text/index.js';
import { COMMANDS, OfctlUsageError, type CommandContext, type OfctlOptions } from './ofctl-commands.js';
import { OfctlConnection, OfctlConnectionError, OfctlErrorReply, type OfctlTarget } from './ofctl-connection.js';
import { formatErrorReply } from './ofctl-print.js';
import { defaultRundir } from './rpc-client.js';

const PROGRAM = 'tsvs-ofctl';
export const OFCTL_DEFAULT_TCP_PORT = 6653;

export const OFCTL_USAGE = `${PROGRAM}: OpenFlow switch management utility (ovs-ofctl syntax, OpenFlow 1.3)
usage: ${PROGRAM} [OPTIONS] COMMAND SWITCH [ARG...]

For SWITCH: a bridge name (its ${'<rundir>'}/NAME.mgmt socket), unix:PATH, or tcp:HOST[:PORT] (default port ${OFCTL_DEFAULT_TCP_PORT}).

Switch commands:
  show SWITCH                 show OpenFlow information
  dump-desc SWITCH            print switch description
  dump-tables SWITCH          print table stats
  mod-port SWITCH PORT ACTION up|down|receive|no-receive|forward|no-forward|packet-in|no-packet-in
  dump-ports SWITCH [PORT]    print port statistics
  dump-ports-desc SWITCH      print port descriptions
  dump-flows SWITCH [FLOW]    print matching FLOWs
  dump-aggregate SWITCH [FLOW]  print aggregate stats for FLOWs
  add-flow SWITCH FLOW        add flow described by FLOW
  add-flows SWITCH FILE       add flows from FILE (- for stdin)
  mod-flows SWITCH FLOW       modify actions of matching FLOWs
  del-flows SWITCH [FLOW]     delete matching FLOWs
  packet-out SWITCH "in_port=PORT packet=HEX actions=ACTIONS"
  packet-out SWITCH IN_PORT ACTIONS PACKET...
  add-group SWITCH GROUP      add group described by GROUP
  add-groups SWITCH FILE      add groups from FILE (- for stdin)
  mod-group SWITCH GROUP      modify specific group
  del-groups SWITCH [GROUP]   delete matching GROUPs
  dump-groups SWITCH [GROUP]  print group descriptions
  dump-group-stats SWITCH [GROUP]  print group statistics
  dump-group-features SWITCH  print group features
  replace-flows SWITCH FILE   replace flows with those in FILE
  diff-flows SOURCE1 SOURCE2  compare flows from two sources (files or switches)
  add-meter SWITCH METER      add meter described by METER
  mod-meter SWITCH METER      modify specific METER
  del-meters SWITCH [METER]   delete meters matching METER
  dump-meters SWITCH [METER]  print METER configuration
  meter-stats SWITCH [METER]  print meter statistics
  meter-features SWITCH       print meter features

Options:
  -O, --protocols=OpenFlow13  only OpenFlow 1.3 is spoken
  --strict                    use strict match for mod-flows and del-flows
  --no-names                  port names in FLOW, GROUP, packet-out are not looked up
  --names                     dump-flows prints flows without the reply header
                              (output always uses port numbers)
  -t, --timeout=SECS          give up after SECS seconds
  --rundir=DIR                where bridge sockets live (default $TSVS_RUNDIR or ./var/run)
  -h, --help                  display this help message
  -V, --version               display version information
`;

export interface OfctlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface OfctlIo {
  /** Reads all of standard input (for FILE "-"). */
  readStdin?: () => Promise<string>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

interface ParsedArgs {
  opts: OfctlOptions;
  rundir: string | null;
  timeoutSec: number;
  words: string[];
  help: boolean;
  version: boolean;
}

const NO_VALUE = new Set(['--strict', '--names', '--no-names', '--no-stats', '--help', '-h', '--version', '-V']);

/** getopt-like: options may appear anywhere before "--"; "-" alone is an argument (stdin). */
export function parseOfctlArgs(argv: readonly string[]): ParsedArgs {
  const opts: OfctlOptions = { strict: false, names: false, acceptNames: true, stats: true };
  const out: ParsedArgs = { opts, rundir: null, timeoutSec: 0, words: [], help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.words.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.words.push(a);
      continue;
    }
    let name: string;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a : a.slice(0, eq);
      value = eq < 0 ? undefined : a.slice(eq + 1);
    } else {
      name = a.slice(0, 2);
      value = a.length > 2 ? a.slice(2) : undefined;
    }
    if (name === '--sort' || name === '--rsort' || name === '--readd') throw new OfctlUsageError(`${name} is not supported by ${PROGRAM}`);
    if (NO_VALUE.has(name)) {
      if (value !== undefined) throw new OfctlUsageError(`option '${name}' doesn't allow an argument`);
    } else if (value === undefined) {
      if (i + 1 >= argv.length) throw new OfctlUsageError(`option '${name}' requires an argument`);
      value = argv[++i]!;
    }
    switch (name) {
      case '-O':
      case '--protocols': {
        const versions = value!.split(',').map((v) => v.trim()).filter((v) => v !== '');
        const bad = versions.filter((v) => v !== 'OpenFlow13');
        if (versions.length === 0 || bad.length > 0) {
          throw new OfctlUsageError(`${bad.join(',') || value}: only OpenFlow 1.3 is supported (use -O OpenFlow13 or leave -O out)`);
        }
        break;
      }
      case '--strict':
        opts.strict = true;
        break;
      case '--names':
        opts.names = true;
        opts.acceptNames = true;
        break;
      case '--no-names':
        opts.names = false;
        opts.acceptNames = false;
        break;
      case '--no-stats':
        opts.stats = false;
        break;
      case '-t':
      case '--timeout':
        if (!/^\d+$/.test(value!)) throw new OfctlUsageError(`value ${value} on -t or --timeout is invalid`);
        out.timeoutSec = Number(value);
        break;
      case '--rundir':
        if (value === '') throw new OfctlUsageError('--rundir requires a directory');
        out.rundir = value!;
        break;
      case '-h':
      case '--help':
        out.help = true;
        break;
      case '-V':
      case '--version':
        out.version = true;
        break;
      default:
        throw new OfctlUsageError(`unrecognized option '${a}'`);
    }
  }
  return out;
}

/** ovs-ofctl's vconn names, plus a bridge name looked up as <rundir>/<name>.mgmt. */
export function resolveTarget(sw: string, rundir: string, cwd: string): OfctlTarget {
  if (sw.startsWith('unix:')) {
    const p = sw.slice(5);
    if (p === '') throw new OfctlUsageError(`${sw}: unix: needs a socket path`);
    return { kind: 'unix', path: isAbsolute(p) ? p : resolve(cwd, p), port: 0, name: sw };
  }
  if (sw.startsWith('tcp:')) {
    const rest = sw.slice(4);
    let host: string;
    let portText: string | undefined;
    const m = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
    if (m) {
      host = m[1]!;
      portText = m[2];
    } else if (isIPv6(rest)) {
      host = rest;
    } else {
      const c = rest.lastIndexOf(':');
      host = c < 0 ? rest : rest.slice(0, c);
      portText = c < 0 ? undefined : rest.slice(c + 1);
    }
    if (host === '') throw new OfctlUsageError(`${sw}: tcp: needs a host (tcp:HOST[:PORT])`);
    let port = OFCTL_DEFAULT_TCP_PORT;
    if (portText !== undefined && portText !== '') {
      if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) throw new OfctlUsageError(`${sw}: bad port number "${portText}"`);
      port = Number(portText);
    }
    return { kind: 'tcp', path: host, port, name: sw };
  }
  if (/^[a-z]+:/.test(sw)) throw new OfctlUsageError(`${sw}: unsupported connection method (use unix:PATH, tcp:HOST[:PORT] or a bridge name)`);
  if (sw.includes('/')) {
    const p = isAbsolute(sw) ? sw : resolve(cwd, sw);
    if (!existsSync(p)) throw new OfctlUsageError(`${sw} is not a bridge or a socket`);
    return { kind: 'unix', path: p, port: 0, name: `unix:${sw}` };
  }
  const p = resolve(cwd, join(rundir, `${sw}.mgmt`));
  if (!existsSync(p)) throw new OfctlUsageError(`${sw} is not a bridge or a socket (no ${p}; is tsvs-vswitchd running with this --rundir?)`);
  return { kind: 'unix', path: p, port: 0, name: `unix:${p}` };
}

export async function ofctl(argv: readonly string[], io: OfctlIo = {}): Promise<OfctlResult> {
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const out: string[] = [];
  const fail = (message: string): OfctlResult => ({ stdout: out.join(''), stderr: `${PROGRAM}: ${message}\n`, exitCode: 1 });
  let conn: OfctlConnection | null = null;
  const extra: OfctlConnection[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const args = parseOfctlArgs(argv);
    if (args.help) return { stdout: OFCTL_USAGE, stderr: '', exitCode: 0 };
    if (args.version) return { stdout: `${PROGRAM} (tsvs) 0.1.0\nOpenFlow versions 0x4:0x4\n`, stderr: '', exitCode: 0 };
    if (args.words.length === 0) throw new OfctlUsageError('missing command name; use --help for help');
    const [name, ...rest] = args.words as [string, ...string[]];
    const cmd = COMMANDS.get(name);
    if (!cmd) throw new OfctlUsageError(`unknown command '${name}'; use --help for help`);
    if (rest.length < cmd.minArgs) throw new OfctlUsageError(`'${name}' command requires at least ${cmd.minArgs} arguments`);
    if (rest.length > cmd.maxArgs) throw new OfctlUsageError(`'${name}' command takes at most ${cmd.maxArgs} arguments`);
    const rundir = args.rundir ?? defaultRundir(env);
    // diff-flows takes two sources (files or switches) and resolves them itself.
    const target = cmd.sources ? null : resolveTarget(rest[0]!, rundir, cwd);
    const ctx: CommandContext = {
      opts: args.opts,
      args: cmd.sources ? rest : rest.slice(1),
      target: target ?? { kind: 'unix', path: '', port: 0, name: '' },
      cwd,
      readStdin: io.readStdin ?? (() => Promise.reject(new OfctlUsageError('standard input is not available'))),
      print: (s: string) => out.push(s),
      connect: async () => (conn ??= await OfctlConnection.open(target!)),
      open: async (sw: string) => {
        const c = await OfctlConnection.open(resolveTarget(sw, rundir, cwd));
        extra.push(c);
        return c;
      },
    };
    const run = cmd.run(ctx);
    if (args.timeoutSec > 0) {
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new OfctlConnectionError(`timeout after ${args.timeoutSec} seconds`)), args.timeoutSec * 1000);
      });
      run.catch(() => {}); // after a timeout the connection is closed under it
      await Promise.race([run, limit]);
    } else {
      await run;
    }
    return { stdout: out.join(''), stderr: '', exitCode: ctx.exitCode ?? 0 };
  } catch (e) {
    if (e instanceof OfctlErrorReply) return { stdout: out.join(''), stderr: formatErrorReply(e.reply), exitCode: 1 };
    if (e instanceof OfctlUsageError || e instanceof OfctlConnectionError || isOfctlSyntaxError(e)) return fail(e.message);
    if ((e as { code?: string })?.code?.startsWith('OFP')) return fail((e as Error).message); // OfpError while encoding
    return fail(`internal error: ${(e as Error)?.stack ?? String(e)}`);
  } finally {
    if (timer) clearTimeout(timer);
    (conn as OfctlConnection | null)?.close();
    for (const c of extra) c.close();
  }
}

function readAllStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

export async function main(): Promise<void> {
  // `tsvs-ofctl dump-flows br0 | head`: end quietly as ovs-ofctl does on SIGPIPE (a shell shows 141).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  });
  const r = await ofctl(process.argv.slice(2), { readStdin: readAllStdin });
  // Large dumps: wait for stdout to drain before the exit code is set.
  if (r.stdout) await new Promise<void>((resolve) => process.stdout.write(r.stdout, () => resolve()));
  if (r.stderr) process.stderr.write(r.stderr);
  process.exitCode = r.exitCode;
}
