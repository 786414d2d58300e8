// The tc(8) command lines of the offload and the parsing of tc's JSON
// statistics. Pure functions: tc-runner.ts runs them, tests compare them.
// One clsact qdisc per input device; one cls_bpf filter per offloaded
// megaflow at a fixed priority with its own handle, so it can be replaced or
// deleted alone and all of tsvs's filters flushed at once (`prio` only).

/** Priority of every tsvs offload filter on a device's ingress hook. */
export const TC_PRIO_DEFAULT = 30303;
/** tc's per-filter byte counters at ingress start after the Ethernet header. */
const ETH_HEADER_BYTES = 14;

/**
 * The clsact hook a port's received frames pass: `ingress` for a device tsvs
 * reads with AF_PACKET (frames the device receives), `egress` for a TAP whose
 * fd tsvs holds (frames the host sends into it).
 */
export type TcHook = 'ingress' | 'egress';

/** Where an output goes: `egress` = transmitted on the device (AF_PACKET port), `ingress` = received by it (TAP: what writing to its fd does). */
export interface TcOutput {
  dev: string;
  dir: TcHook;
}

export function tcQdiscAddArgs(dev: string): string[] {
  return ['qdisc', 'add', 'dev', dev, 'clsact'];
}

export function tcQdiscDelArgs(dev: string): string[] {
  return ['qdisc', 'del', 'dev', dev, 'clsact'];
}

/**
 * Add (or replace) filter `handle`: frames the classic BPF `bytecode` accepts
 * are copied (mirred mirror) to every output device but the last and
 * redirected (stolen) to the last one, as OVS's netdev-offload-tc does for a
 * multi-output flow.
 */
export function tcFilterAddArgs(dev: string, hook: TcHook, prio: number, handle: number, bytecode: string, outs: readonly TcOutput[]): string[] {
  if (outs.length === 0) throw new RangeError('a tc offload needs at least one output device');
  const a = ['filter', 'replace', 'dev', dev, hook, 'prio', String(prio), 'handle', String(handle), 'protocol', 'all', 'bpf', 'bytecode', bytecode];
  for (let i = 0; i < outs.length; i++) {
    a.push('action', 'mirred', outs[i].dir, i === outs.length - 1 ? 'redirect' : 'mirror', 'dev', outs[i].dev);
  }
  return a;
}

export function tcFilterDelArgs(dev: string, hook: TcHook, prio: number, handle: number): string[] {
  return ['filter', 'del', 'dev', dev, hook, 'prio', String(prio), 'handle', String(handle), 'protocol', 'all', 'bpf'];
}

/** Delete every filter at `prio` (tsvs's own, e.g. left over by a crashed run). */
export function tcFilterFlushArgs(dev: string, hook: TcHook, prio: number): string[] {
  return ['filter', 'del', 'dev', dev, hook, 'prio', String(prio)];
}

/** Per-filter statistics; run with tc's `-s -j` (TcRunner.query()). */
export function tcStatsArgs(dev: string, hook: TcHook): string[] {
  return ['filter', 'show', 'dev', dev, hook];
}

export interface TcFilterStats {
  packets: number;
  bytes: number;
}

/**
 * Per-handle hit counters of the cls_bpf filters at `prio` in `tc -s -j filter
 * show` output: the first action's counters (every frame the filter matched
 * runs it), bytes counted from the Ethernet header like the datapath does
 * (at ingress tc counts from the network header; at egress from the frame's start).
 * Throws SyntaxError on output that is not tc's JSON.
 */
export function parseTcFilterStats(json: string, prio: number, hook: TcHook = 'ingress'): Map<number, TcFilterStats> {
  const l2 = hook === 'ingress' ? ETH_HEADER_BYTES : 0;
  const out = new Map<number, TcFilterStats>();
  const text = json.trim();
  if (text === '') return out;
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list)) throw new SyntaxError('tc -j filter show: expected an array');
  for (const f of list as Record<string, unknown>[]) {
    if (f === null || typeof f !== 'object' || f.pref !== prio || f.kind !== 'bpf') continue;
    const opts = f.options as Record<string, unknown> | undefined;
    if (!opts || typeof opts.handle !== 'string') continue;
    const handle = parseInt(opts.handle, 16);
    const acts = opts.actions as Record<string, unknown>[] | undefined;
    const st = acts && acts[0] && (acts[0].stats as Record<string, unknown> | undefined);
    if (!Number.isInteger(handle) || !st) continue;
    const packets = Number(st.packets);
    const bytes = Number(st.bytes);
    if (!Number.isFinite(packets) || !Number.isFinite(bytes)) continue;
    out.set(handle, { packets, bytes: bytes + packets * l2 });
  }
  return out;
}
