// appctl commands over a bridge's OpenFlow switch (OVS ofproto-dpif-trace's
// ofproto/trace and mac-learning's fdb/flush), kept apart from the daemon's
// own list so each command's argument handling sits with its siblings.

import { W_OF_IN_PORT } from '../ofproto/classifier/of-match.js';
import { composeTracePacket, parsePacketHex, parseTraceFlow, TraceFlowError } from '../ofproto/xlate/trace-flow.js';
import type { Ofproto } from '../ofproto/ofproto.js';
import { AppctlError, type AppctlRegistry } from './rpc/appctl.js';

/** What the commands need of the running bridges. */
export interface OfprotoSource {
  list(): ReadonlyArray<{ readonly name: string; readonly of: { readonly ofproto: Ofproto } }>;
}

export const TRACE_USAGE = 'BRIDGE FLOW [-generate | PACKET]';

export function registerOfprotoAppctl(a: AppctlRegistry, bridges: OfprotoSource): void {
  a.registerAppctl('ofproto/trace', TRACE_USAGE, 2, 4, (args) => ofprotoTrace(bridges, args));
  a.registerAppctl('fdb/flush', '[BRIDGE]', 0, 1, (args) => {
    const all = bridges.list();
    const bs = args.length === 0 ? all : all.filter((b) => b.name === args[0]);
    if (bs.length === 0 && args.length > 0) throw new AppctlError('no such bridge');
    for (const b of bs) b.of.ofproto.fdbFlush();
    return 'table successfully flushed\n';
  });
}

/**
 * ofproto/trace BRIDGE FLOW [-generate | PACKET]: FLOW in ovs-ofctl match
 * syntax (in_port by number or name); -generate composes a packet from FLOW,
 * PACKET gives its bytes in hex (FLOW then supplies in_port only). With a
 * packet MACs are learned, as OVS does; nothing else changes.
 */
export function ofprotoTrace(bridges: OfprotoSource, argv: readonly string[]): string {
  let generate = false;
  const args: string[] = [];
  for (const a of argv) {
    if (a === '-generate' || a === '--generate') generate = true;
    else if (a.startsWith('-')) throw new AppctlError(`${a}: unknown option`);
    else args.push(a);
  }
  if (args.length < 2) throw new AppctlError(`ofproto/trace needs ${TRACE_USAGE}`);
  if (args.length > 3 || (generate && args.length > 2)) throw new AppctlError('too many arguments');
  const [brName, flowText, packetHex] = args as [string, string, string | undefined];
  const b = bridges.list().find((x) => x.name === brName);
  if (b === undefined) throw new AppctlError(`${brName}: unknown bridge`);
  const of = b.of.ofproto;
  try {
    const flow = parseTraceFlow(flowText, (name) => of.ports().find((p) => p.name === name)?.ofPort);
    const ofInPort = flow[W_OF_IN_PORT]!;
    if (packetHex !== undefined) {
      let packet: Buffer;
      try {
        packet = parsePacketHex(packetHex);
      } catch (e) {
        throw new AppctlError((e as Error).message);
      }
      return of.trace(packet, ofInPort, { learn: true });
    }
    if (generate) return of.trace(flow, ofInPort, { learn: true, packetBytes: composeTracePacket(flow).length });
    return of.trace(flow, ofInPort);
  } catch (e) {
    if (e instanceof TraceFlowError) throw new AppctlError(`Bad openflow flow syntax: ${e.message}`);
    throw e;
  }
}
