// ovs-ofctl as an oracle for the text syntax: what bytes it encodes for a
// flow/group/meter string (parse-flow / parse-group hex dumps, or a tiny
// OpenFlow 1.3 endpoint on a unix socket that records what add-meter,
// mod-flows and del-flows send) and how it prints messages (ofp-print).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, encodeMessage, makeHello, MessageFramer, OFPMP, OFPT, OFPTFPT, type OfpMessage, type TableFeatureProp } from '../../ofproto/openflow/index.js';

export function hasOvsOfctl(): boolean {
  try {
    execFileSync('ovs-ofctl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface OracleResult {
  ok: boolean;
  /** The encoded message, xid zeroed (ok only). */
  hex?: string;
  /** What ovs-ofctl printed for it after "(xid=0x1): " (ok only). */
  print?: string;
  /** ovs-ofctl's error line (not ok only). */
  error?: string;
}

/** Collects the bytes of a hex dump (ovs-ofctl -mmmmm) following `from`. */
function hexDump(lines: string[], from: number): string {
  let hex = '';
  for (let i = from; i < lines.length; i++) {
    const m = /^([0-9a-f]{8})  ([0-9a-f -]+?)\s*\|/.exec(lines[i]!);
    if (!m) break;
    hex += m[2]!.replace(/[- ]/g, '');
  }
  return hex;
}

/** Zeroes the xid of an encoded message. */
export function zeroXid(hex: string): string {
  return hex.slice(0, 8) + '00000000' + hex.slice(16);
}

function runParse(cmd: 'parse-flow' | 'parse-group', text: string): OracleResult {
  const r = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', '-mmmmm', cmd, text], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, error: (r.stderr.trim().split('\n').pop() ?? '').replace(/^ovs-ofctl: /, '') };
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) => /^OFPT_(FLOW|GROUP)_MOD/.test(l));
  if (at < 0) return { ok: false, error: r.stdout };
  let print = lines[at]!.replace(/^.*?\(xid=0x[0-9a-f]+\):\s?/, '');
  let hexAt = at + 1;
  if (cmd === 'parse-group') {
    print = lines[at + 1]!.trim();
    hexAt = at + 2;
  }
  return { ok: true, hex: zeroXid(hexDump(lines, hexAt)), print };
}

/** `ovs-ofctl -O OpenFlow13 parse-flow TEXT` (what add-flow sends). */
export function ovsParseFlow(text: string): OracleResult {
  return runParse('parse-flow', text);
}

/** `ovs-ofctl -O OpenFlow13 parse-group TEXT` (what add-group sends). */
export function ovsParseGroup(text: string): OracleResult {
  return runParse('parse-group', text);
}

/** `ovs-ofctl ofp-print HEX`, the text after the header's "(xid=...): " (multi-line kept). */
export function ovsOfpPrint(hex: string): string {
  const out = execFileSync('ovs-ofctl', ['ofp-print', hex], { encoding: 'utf8' });
  return out.replace(/^.*?\(xid=0x[0-9a-f]+\):\s?/, '').replace(/\n$/, '');
}

/** A minimal OpenFlow 1.3 switch on a unix socket that records what ovs-ofctl sends. */
export class OfctlEndpoint {
  readonly dir = mkdtempSync(join(tmpdir(), 'tsvs-ofctl-'));
  readonly path = join(this.dir, 'sw.sock');
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Messages of interest (FLOW_MOD, GROUP_MOD, METER_MOD, FLOW/AGGREGATE requests), in arrival order. */
  readonly mods: Buffer[] = [];

  async start(): Promise<void> {
    this.server = createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => undefined);
      sock.write(encodeMessage(makeHello([4], 1)));
      const framer = new MessageFramer();
      sock.on('data', (chunk) => {
        for (const bytes of framer.push(chunk)) {
          const type = bytes[1];
          const mpType = bytes.length >= 10 ? bytes.readUInt16BE(8) : -1;
          const flowDump = type === OFPT.MULTIPART_REQUEST && (mpType === OFPMP.FLOW || mpType === OFPMP.AGGREGATE);
          if (type === OFPT.FLOW_MOD || type === OFPT.GROUP_MOD || type === OFPT.METER_MOD || type === OFPT.PACKET_OUT || flowDump) this.mods.push(Buffer.from(bytes));
          let m: OfpMessage;
          try {
            m = decodeMessage(Buffer.from(bytes));
          } catch {
            continue;
          }
          const r = reply(m);
          if (r) sock.write(encodeMessage(r));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.path, resolve));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs `ovs-ofctl -O OpenFlow13 [opts] CMD unix:SOCK ARG` and returns the mods it sent (xid zeroed) or its error. */
  run(cmd: string, arg: string, opts: string[] = []): Promise<{ ok: boolean; hex: string[]; error?: string }> {
    const before = this.mods.length;
    return new Promise((resolve) => {
      execFile('ovs-ofctl', ['-O', 'OpenFlow13', '-t', '5', ...opts, cmd, `unix:${this.path}`, arg], { encoding: 'utf8' }, (e, _out, stderr) => {
        const hex = this.mods.slice(before).map((b) => zeroXid(b.toString('hex')));
        if (e) resolve({ ok: false, hex, error: (stderr.trim().split('\n').pop() ?? '').replace(/^ovs-ofctl: /, '') });
        else resolve({ ok: true, hex });
      });
    });
  }
}

/** The eight table-feature properties OVS requires, all empty. */
const REQUIRED_PROPS: TableFeatureProp[] = [
  { kind: 'instructions', type: OFPTFPT.INSTRUCTIONS, ids: [] },
  { kind: 'nextTables', type: OFPTFPT.NEXT_TABLES, tableIds: [] },
  { kind: 'actions', type: OFPTFPT.WRITE_ACTIONS, ids: [] },
  { kind: 'actions', type: OFPTFPT.APPLY_ACTIONS, ids: [] },
  { kind: 'oxm', type: OFPTFPT.MATCH, ids: [] },
  { kind: 'oxm', type: OFPTFPT.WILDCARDS, ids: [] },
  { kind: 'oxm', type: OFPTFPT.WRITE_SETFIELD, ids: [] },
  { kind: 'oxm', type: OFPTFPT.APPLY_SETFIELD, ids: [] },
];

function reply(m: OfpMessage): OfpMessage | undefined {
  const base = { version: 4, xid: m.xid };
  switch (m.type) {
    case OFPT.FEATURES_REQUEST:
      return { type: OFPT.FEATURES_REPLY, ...base, datapathId: 1n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 };
    case OFPT.BARRIER_REQUEST:
      return { type: OFPT.BARRIER_REPLY, ...base };
    case OFPT.ECHO_REQUEST:
      return { type: OFPT.ECHO_REPLY, ...base, data: m.data };
    case OFPT.MULTIPART_REQUEST:
      if (m.body.mpType === OFPMP.PORT_DESC) return { type: OFPT.MULTIPART_REPLY, ...base, flags: 0, body: { mpType: OFPMP.PORT_DESC, ports: [] } };
      if (m.body.mpType === OFPMP.FLOW) return { type: OFPT.MULTIPART_REPLY, ...base, flags: 0, body: { mpType: OFPMP.FLOW, flows: [] } };
      if (m.body.mpType === OFPMP.AGGREGATE) {
        return { type: OFPT.MULTIPART_REPLY, ...base, flags: 0, body: { mpType: OFPMP.AGGREGATE, packetCount: 0n, byteCount: 0n, flowCount: 0 } };
      }
      if (m.body.mpType === OFPMP.TABLE_FEATURES) {
        // One unnamed table is enough for ovs-ofctl's table-name lookup.
        const table = { tableId: 0, name: '', metadataMatch: ~0n & 0xffffffffffffffffn, metadataWrite: 0xffffffffffffffffn, config: 0, maxEntries: 1000, properties: REQUIRED_PROPS };
        return { type: OFPT.MULTIPART_REPLY, ...base, flags: 0, body: { mpType: OFPMP.TABLE_FEATURES, tables: [table] } };
      }
      return undefined;
    case OFPT.GET_CONFIG_REQUEST:
      return { type: OFPT.GET_CONFIG_REPLY, ...base, flags: 0, missSendLen: 0 };
    default:
      return undefined;
  }
}

/**
 * A FLOW stats reply (hex) holding the flow of an encoded FLOW_MOD, with
 * counters and durations derived from `n`; undefined if the codec cannot
 * decode the FLOW_MOD.
 */
export function flowStatsReplyFor(flowModHex: string, n: number): string | undefined {
  let m: OfpMessage;
  try {
    m = decodeMessage(Buffer.from(flowModHex, 'hex'));
  } catch {
    return undefined;
  }
  if (m.type !== OFPT.FLOW_MOD) return undefined;
  const nsecs = [0, 1000000, 380000000, 123456789, 500];
  const reply: OfpMessage = {
    type: OFPT.MULTIPART_REPLY,
    version: 4,
    xid: 2,
    flags: 0,
    body: {
      mpType: OFPMP.FLOW,
      flows: [
        {
          tableId: m.tableId,
          durationSec: n % 7 === 0 ? 0 : n * 3,
          durationNsec: nsecs[n % nsecs.length]!,
          priority: m.priority,
          idleTimeout: m.idleTimeout,
          hardTimeout: m.hardTimeout,
          flags: m.flags,
          cookie: m.cookie,
          packetCount: BigInt(n * 5),
          byteCount: BigInt(n * 321),
          match: m.match,
          instructions: m.instructions,
        },
      ],
    },
  };
  return encodeMessage(reply).toString('hex');
}
