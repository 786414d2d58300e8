// The commands of tsvs-ofctl, each as ovs-ofctl 3.1 runs it with -O OpenFlow13:
// the same requests with the same xids (so printed replies agree byte for
// byte), the same output. One deliberate difference: a batch of mods
// (add-flows FILE, add-groups FILE) is pipelined with a single barrier at the
// end instead of one barrier per message, so every valid mod in the batch is
// applied and the first ERROR is printed; ovs-ofctl stops at the first ERROR.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  OFP13_VERSION,
  OFPG,
  OFPM,
  OFPMP,
  OFPP,
  OFPPC,
  OFPT,
  type FeaturesReplyMsg,
  type MultipartReplyMsg,
  type MultipartRequestBody,
  type OfpMessage,
  type OfpPort,
  type SwitchConfigMsg,
} from '../ofproto/openflow/index.js';
import {
  formatFlowStats,
  formatOfpMessage,
  OfctlSyntaxError,
  parseFlowMod,
  parseFlowStatsRequest,
  parseGroupMod,
  parseMeterMod,
  parsePacketOut,
  parsePort,
  type FlowCommand,
  type GroupCommand,
  type MeterCommand,
} from '../ofproto/openflow/text/index.js';
import type { OfctlConnection, OfctlTarget } from './ofctl-connection.js';
import { OfctlErrorReply } from './ofctl-connection.js';
import { diffFlowTables, flowTable, fromFlowMod, isFlowFile, replaceFlowMods, switchFlows, type FlowTable } from './ofctl-flow-diff.js';
import { formatReplyPart } from './ofctl-print.js';

/** Bad command line, unknown switch, unreadable file...: printed as "tsvs-ofctl: MESSAGE". */
export class OfctlUsageError extends Error {
  readonly code = 'ERR_OFCTL_USAGE';
}

export interface OfctlOptions {
  strict: boolean;
  names: boolean;
  /** Port names in flows, groups and packet-outs are looked up (not with --no-names). */
  acceptNames: boolean;
  stats: boolean;
}

export interface CommandContext {
  opts: OfctlOptions;
  /** Arguments after SWITCH. */
  args: string[];
  target: OfctlTarget;
  cwd: string;
  readStdin: () => Promise<string>;
  print: (s: string) => void;
  connect: () => Promise<OfctlConnection>;
  /** Opens another switch (diff-flows); closed with the command. */
  open: (sw: string) => Promise<OfctlConnection>;
  /** Exit status when the command succeeds (diff-flows: 2 on differences). */
  exitCode?: number;
}

export interface OfctlCommand {
  /** Arguments including SWITCH. */
  minArgs: number;
  maxArgs: number;
  run: (ctx: CommandContext) => Promise<void>;
  /** Arguments are sources (files or switches), not SWITCH first. */
  sources?: boolean;
}

/** ovs-ofctl's first request after HELLO has xid 2. */
const FIRST_XID = 2;

// --- helpers -------------------------------------------------------------------------

function mp(xid: number, body: MultipartRequestBody): OfpMessage {
  return { type: OFPT.MULTIPART_REQUEST, version: OFP13_VERSION, xid, flags: 0, body };
}

async function dumpAndPrint(ctx: CommandContext, body: MultipartRequestBody, xid = FIRST_XID): Promise<MultipartReplyMsg[]> {
  const conn = await ctx.connect();
  const parts = await conn.dump(mp(xid, body) as never);
  for (const p of parts) ctx.print(`${formatReplyPart(p)}\n`);
  return parts;
}

/**
 * Lines of a flow/group file as OVS's ds_get_preprocessed_line() yields them:
 * "#" starts a comment, blank lines are skipped, a trailing "\" continues the line.
 */
export function preprocessedLines(text: string): Array<{ line: string; lineNo: number }> {
  const out: Array<{ line: string; lineNo: number }> = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const lineNo = i + 1;
    let s = raw[i]!;
    while (s.endsWith('\\') && i + 1 < raw.length) s = s.slice(0, -1) + raw[++i]!;
    const hash = s.indexOf('#');
    if (hash >= 0) s = s.slice(0, hash);
    s = s.trim();
    if (s !== '') out.push({ line: s, lineNo });
  }
  return out;
}

/** Where ovs-ofctl's syntax takes a port: in_port=P, out_port=P, output:P, watch_port:P. */
const PORT_TOKEN = /(\b(?:in_port|out_port)=|\b(?:output|watch_port):)([^,\s():]+)/g;

/**
 * Port names in `texts` (ovs-ofctl accepts them unless --no-names) turned
 * into numbers with the switch's PORT_DESC; fetched only if a name occurs.
 * An unknown name is left for the parser to reject.
 */
async function portNamer(ctx: CommandContext, texts: readonly string[]): Promise<(text: string) => string> {
  const same = (t: string): string => t;
  if (!ctx.opts.acceptNames || ctx.target.name === '') return same;
  const isName = (p: string): boolean => parsePort(p) === undefined && !/^\d/.test(p);
  let found = false;
  for (const t of texts) {
    for (const m of t.matchAll(PORT_TOKEN)) if (isName(m[2]!)) found = true;
    if (found) break;
  }
  if (!found) return same;
  const byName = new Map((await portDescs(await ctx.connect())).map((p) => [p.name, p.portNo]));
  return (t) => t.replace(PORT_TOKEN, (all, pre: string, port: string) => (isName(port) && byName.has(port) ? `${pre}${byName.get(port)!}` : all));
}

async function readInput(ctx: CommandContext, file: string): Promise<string> {
  if (file === '-') return ctx.readStdin();
  try {
    return await readFile(resolve(ctx.cwd, file), 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message;
    throw new OfctlUsageError(`${file}: open failed (${why})`);
  }
}

/** Parses every line of FILE first (a syntax error changes nothing), prefixing errors with FILE:LINE. */
async function parseFile<T>(ctx: CommandContext, file: string, parse: (line: string) => T): Promise<T[]> {
  const text = await readInput(ctx, file);
  const out: T[] = [];
  const lines = preprocessedLines(text);
  const named = await portNamer(ctx, lines.map((l) => l.line));
  for (const { line, lineNo } of lines) {
    try {
      out.push(parse(named(line)));
    } catch (e) {
      if (e instanceof OfctlSyntaxError) throw new OfctlUsageError(`${file === '-' ? 'stdin' : file}:${lineNo}: ${e.message}`);
      throw e;
    }
  }
  return out;
}

/**
 * Sends `mods` (xids 2, 4, 6... as ovs-ofctl numbers a mod and its barrier)
 * pipelined with one barrier at the end; throws the first ERROR.
 */
async function sendMods(ctx: CommandContext, build: (xid: number, i: number) => OfpMessage, count: number): Promise<void> {
  const conn = await ctx.connect();
  function* mods(): Generator<OfpMessage> {
    for (let i = 0; i < count; i++) yield build(FIRST_XID + 2 * i, i);
  }
  const err = await conn.sendMany(mods(), FIRST_XID + 2 * count - 1 + (count === 0 ? 2 : 0));
  if (err) throw new OfctlErrorReply(err);
}

/** A batch of parsed mods: renumbered at send time so parsing stays xid-free. */
async function sendParsed(ctx: CommandContext, msgs: OfpMessage[]): Promise<void> {
  await sendMods(ctx, (xid, i) => ({ ...msgs[i]!, xid }) as OfpMessage, msgs.length);
}

// --- flows ---------------------------------------------------------------------------

function flowModCommand(command: FlowCommand) {
  return async (ctx: CommandContext): Promise<void> => {
    const strict = ctx.opts.strict;
    const arg = ctx.args[0];
    const parse = (line: string): OfpMessage => parseFlowMod(line, { command, strict });
    const msgs = arg === '-' ? await parseFile(ctx, '-', parse) : [parse((await portNamer(ctx, [arg ?? '']))(arg ?? ''))];
    await sendParsed(ctx, msgs);
  };
}

async function addFlows(ctx: CommandContext): Promise<void> {
  const msgs = await parseFile(ctx, ctx.args[0]!, (line) => parseFlowMod(line, { command: 'add' }));
  await sendParsed(ctx, msgs);
}

async function dumpFlows(ctx: CommandContext): Promise<void> {
  const req = parseFlowStatsRequest((await portNamer(ctx, [ctx.args[0] ?? '']))(ctx.args[0] ?? ''), { xid: FIRST_XID });
  if (!ctx.opts.names && ctx.opts.stats) {
    await dumpAndPrint(ctx, req.body);
    return;
  }
  // ovs-ofctl's other path (--names, --no-stats): flows only, no reply header.
  const conn = await ctx.connect();
  const parts = await conn.dump(req);
  for (const p of parts) {
    if (p.body.mpType !== OFPMP.FLOW) continue;
    for (const f of p.body.flows) ctx.print(` ${formatFlowStats(f, { stats: ctx.opts.stats })}\n`);
  }
}

async function dumpAggregate(ctx: CommandContext): Promise<void> {
  const req = parseFlowStatsRequest((await portNamer(ctx, [ctx.args[0] ?? '']))(ctx.args[0] ?? ''), { xid: FIRST_XID, aggregate: true });
  await dumpAndPrint(ctx, req.body);
}

async function flowsOf(ctx: CommandContext, source: string): Promise<FlowTable> {
  if (isFlowFile(source, ctx)) return flowTable((await parseFile(ctx, source, (line) => parseFlowMod(line, { command: 'add' }))).map(fromFlowMod));
  return flowTable(await switchFlows(await ctx.open(source), FIRST_XID));
}

async function diffFlows(ctx: CommandContext): Promise<void> {
  const [a, b] = await Promise.all([flowsOf(ctx, ctx.args[0]!), flowsOf(ctx, ctx.args[1]!)]);
  const d = diffFlowTables(a, b);
  ctx.print(d);
  if (d !== '') ctx.exitCode = 2;
}

async function replaceFlows(ctx: CommandContext): Promise<void> {
  const want = flowTable((await parseFile(ctx, ctx.args[0]!, (line) => parseFlowMod(line, { command: 'add' }))).map(fromFlowMod));
  const have = flowTable(await switchFlows(await ctx.connect(), FIRST_XID));
  await sendParsed(ctx, replaceFlowMods(have, want));
}

// --- switch and ports ----------------------------------------------------------------

async function show(ctx: CommandContext): Promise<void> {
  const conn = await ctx.connect();
  const [features] = (await conn.transact({ type: OFPT.FEATURES_REQUEST, version: OFP13_VERSION, xid: FIRST_XID })) as [FeaturesReplyMsg];
  ctx.print(`${formatOfpMessage(features)}\n`);
  await dumpAndPrint(ctx, { mpType: OFPMP.PORT_DESC }, FIRST_XID + 1);
  // ovs-ofctl's GET_CONFIG has xid 5 (4 went to a request it does not send over 1.3).
  const [config] = (await conn.transact({ type: OFPT.GET_CONFIG_REQUEST, version: OFP13_VERSION, xid: FIRST_XID + 3 })) as [SwitchConfigMsg];
  ctx.print(`${formatOfpMessage(config)}\n`);
}

async function portDescs(conn: OfctlConnection): Promise<OfpPort[]> {
  const parts = await conn.dump(mp(FIRST_XID, { mpType: OFPMP.PORT_DESC }) as never);
  return parts.flatMap((p) => (p.body.mpType === OFPMP.PORT_DESC ? p.body.ports : []));
}

/** PORT as a number, reserved name (LOCAL...) or port name; names need the switch's port list. */
async function findPort(ctx: CommandContext, text: string, ports?: OfpPort[]): Promise<number> {
  const n = parsePort(text);
  if (n !== undefined) return n;
  const list = ports ?? (await portDescs(await ctx.connect()));
  const p = list.find((q) => q.name === text);
  if (!p) throw new OfctlUsageError(`${ctx.target.name}: couldn't find port \`${text}'`);
  return p.portNo;
}

async function dumpPorts(ctx: CommandContext): Promise<void> {
  const portNo = ctx.args[0] === undefined ? OFPP.ANY : await findPort(ctx, ctx.args[0]);
  // A name lookup used xid 2 for PORT_DESC, as in ovs-ofctl.
  await dumpAndPrint(ctx, { mpType: OFPMP.PORT_STATS, portNo }, parsePort(ctx.args[0] ?? '0') === undefined ? FIRST_XID + 1 : FIRST_XID);
}

async function dumpPortsDesc(ctx: CommandContext): Promise<void> {
  // OpenFlow 1.3 cannot ask for one port: like ovs-ofctl, PORT is checked and every port printed.
  if (ctx.args[0] !== undefined && parsePort(ctx.args[0]) === undefined) throw new OfctlUsageError(`${ctx.args[0]}: invalid port number`);
  await dumpAndPrint(ctx, { mpType: OFPMP.PORT_DESC });
}

/** mod-port actions valid in OpenFlow 1.3 (ovs-ofctl's table): [OFPPC bit, set?]. */
const PORT_ACTIONS: Readonly<Record<string, readonly [number, boolean]>> = {
  up: [OFPPC.PORT_DOWN, false],
  down: [OFPPC.PORT_DOWN, true],
  receive: [OFPPC.NO_RECV, false],
  'no-receive': [OFPPC.NO_RECV, true],
  forward: [OFPPC.NO_FWD, false],
  'no-forward': [OFPPC.NO_FWD, true],
  'packet-in': [OFPPC.NO_PACKET_IN, false],
  'no-packet-in': [OFPPC.NO_PACKET_IN, true],
};
const OF10_ONLY_PORT_ACTIONS = new Set(['stp', 'no-stp', 'receive-stp', 'no-receive-stp', 'flood', 'no-flood']);

async function modPort(ctx: CommandContext): Promise<void> {
  const [portText, action] = ctx.args as [string, string];
  const act = PORT_ACTIONS[action.toLowerCase()];
  if (!act) {
    if (OF10_ONLY_PORT_ACTIONS.has(action.toLowerCase())) throw new OfctlUsageError(`${action}: this port flag exists only in OpenFlow 1.0`);
    throw new OfctlUsageError(`unknown mod-port command '${action}'`);
  }
  const conn = await ctx.connect();
  const ports = await portDescs(conn);
  const n = parsePort(portText);
  const port = ports.find((p) => (n !== undefined ? p.portNo === n : p.name === portText));
  if (!port) throw new OfctlUsageError(`${ctx.target.name}: couldn't find port \`${portText}'`);
  const [bit, set] = act;
  const pm: OfpMessage = { type: OFPT.PORT_MOD, version: OFP13_VERSION, xid: FIRST_XID + 1, portNo: port.portNo, hwAddr: port.hwAddr, config: set ? bit : 0, mask: bit, advertise: 0 };
  const err = await conn.sendMany([pm], FIRST_XID + 2);
  if (err) throw new OfctlErrorReply(err);
}

// --- packet-out ----------------------------------------------------------------------

async function packetOut(ctx: CommandContext): Promise<void> {
  const a = ctx.args;
  let msgs: OfpMessage[];
  const texts = a.length === 1 ? [a[0]!] : a.slice(2).map((pkt) => `in_port=${a[0]} packet=${pkt} actions=${a[1]}`);
  const named = await portNamer(ctx, texts);
  if (a.length === 1 || a.length >= 3) msgs = texts.map((t) => parsePacketOut(named(t)));
  else throw new OfctlUsageError(`'packet-out' takes "in_port=... packet=... actions=..." or IN_PORT ACTIONS PACKET...`);
  await sendParsed(ctx, msgs);
}

// --- groups --------------------------------------------------------------------------

function groupModCommand(command: GroupCommand) {
  return async (ctx: CommandContext): Promise<void> => {
    const arg = ctx.args[0];
    const parse = (line: string): OfpMessage => parseGroupMod(line, { command });
    const msgs = arg === '-' ? await parseFile(ctx, '-', parse) : [parse((await portNamer(ctx, [arg ?? '']))(arg ?? ''))];
    await sendParsed(ctx, msgs);
  };
}

async function addGroups(ctx: CommandContext): Promise<void> {
  await sendParsed(ctx, await parseFile(ctx, ctx.args[0]!, (line) => parseGroupMod(line, { command: 'add' })));
}

/** "group_id=N" (or a bare N, as some scripts write) for the group dumps; default all. */
function groupIdArg(text: string | undefined): number {
  if (text === undefined) return OFPG.ALL;
  return parseGroupMod(/^\d+$/.test(text) ? `group_id=${text}` : text, { command: 'delete' }).groupId;
}

async function dumpGroups(ctx: CommandContext): Promise<void> {
  groupIdArg(ctx.args[0]); // OpenFlow 1.3's GROUP_DESC has no group id: checked, then all printed
  await dumpAndPrint(ctx, { mpType: OFPMP.GROUP_DESC });
}

// --- meters --------------------------------------------------------------------------

function meterModCommand(command: MeterCommand) {
  return async (ctx: CommandContext): Promise<void> => {
    const arg = ctx.args[0] ?? (command === 'delete' ? 'meter=all' : '');
    await sendParsed(ctx, [parseMeterMod(arg, { command })]);
  };
}

function meterIdArg(text: string | undefined): number {
  if (text === undefined) return OFPM.ALL;
  return parseMeterMod(text, { command: 'delete' }).meterId;
}

// --- the table ----------------------------------------------------------------------

const cmd = (minArgs: number, maxArgs: number, run: OfctlCommand['run']): OfctlCommand => ({ minArgs, maxArgs, run });

export const COMMANDS: ReadonlyMap<string, OfctlCommand> = new Map<string, OfctlCommand>([
  ['show', cmd(1, 1, show)],
  ['dump-desc', cmd(1, 1, (ctx) => dumpAndPrint(ctx, { mpType: OFPMP.DESC }).then(() => {}))],
  ['dump-tables', cmd(1, 1, (ctx) => dumpAndPrint(ctx, { mpType: OFPMP.TABLE }).then(() => {}))],
  ['dump-ports', cmd(1, 2, dumpPorts)],
  ['dump-ports-desc', cmd(1, 2, dumpPortsDesc)],
  ['dump-port-desc', cmd(1, 2, dumpPortsDesc)],
  ['mod-port', cmd(3, 3, modPort)],
  ['dump-flows', cmd(1, 2, dumpFlows)],
  ['dump-aggregate', cmd(1, 2, dumpAggregate)],
  ['add-flow', cmd(2, 2, flowModCommand('add'))],
  ['add-flows', cmd(2, 2, addFlows)],
  ['mod-flows', cmd(2, 2, flowModCommand('modify'))],
  ['del-flows', cmd(1, 2, flowModCommand('delete'))],
  ['replace-flows', cmd(2, 2, replaceFlows)],
  ['diff-flows', { minArgs: 2, maxArgs: 2, run: diffFlows, sources: true }],
  ['packet-out', cmd(2, Number.MAX_SAFE_INTEGER, packetOut)],
  ['add-group', cmd(2, 2, groupModCommand('add'))],
  ['add-groups', cmd(2, 2, addGroups)],
  ['mod-group', cmd(2, 2, groupModCommand('modify'))],
  ['del-groups', cmd(1, 2, groupModCommand('delete'))],
  ['dump-groups', cmd(1, 2, dumpGroups)],
  ['dump-group-stats', cmd(1, 2, (ctx) => dumpAndPrint(ctx, { mpType: OFPMP.GROUP, groupId: groupIdArg(ctx.args[0]) }).then(() => {}))],
  ['dump-group-features', cmd(1, 1, (ctx) => dumpAndPrint(ctx, { mpType: OFPMP.GROUP_FEATURES }).then(() => {}))],
  ['add-meter', cmd(2, 2, meterModCommand('add'))],
  ['mod-meter', cmd(2, 2, meterModCommand('modify'))],
  ['del-meters', cmd(1, 2, meterModCommand('delete'))],
  ['del-meter', cmd(2, 2, meterModCommand('delete'))],
  ['dump-meters', cmd(1, 2, (ctx) => dumpAndPrint(ctx, { mpType: OFPMP.METER_CONFIG, meterId: meterIdArg(ctx.args[0]) }).then(() => {}))],
  ['meter-stats', cmd(1, 2, (ctx) => dumpAndPrint(ctx, { mpType: OFPMP.METER, meterId: meterIdArg(ctx.args[0]) }).then(() => {}))],
  ['meter-features', cmd(1, 1, (ctx) => dumpAndPrint(ctx, { mpType: OFPMP.METER_FEATURES }).then(() => {}))],
]);
