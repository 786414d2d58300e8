// The switch under test of bench/forwarding.ts: a Datapath with two system
// ports forwarding port 1 <-> port 2. Flows are installed by the upcall handler
// on the first frame of each flow:
//   --mode single  one megaflow per direction, matching in_port only
//   --mode exact   one megaflow per 5-tuple (in_port, eth_type, IPs, proto, ports),
//                  like OVS with a multipath(symmetric_l4) rule
//   node dist/bench/forwarding-switch.js --mode single|exact PORT_1 PORT_2
// Runs until SIGTERM/SIGINT, then prints one JSON line with datapath and port counters.
import type { DpAction } from '../datapath/actions/types.js';
import { Datapath } from '../datapath/dpif.js';
import * as K from '../datapath/flow/key.js';
import { SystemPort } from '../datapath/ports/system.js';

function main(argv: string[]): void {
  let mode = 'single';
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--mode') mode = argv[++i];
    else names.push(argv[i]);
  }
  if (names.length !== 2 || (mode !== 'single' && mode !== 'exact')) {
    console.error('usage: forwarding-switch --mode single|exact PORT_1 PORT_2');
    process.exit(2);
  }
  // EMC knobs for A/B runs (defaults: the datapath's, 8192 entries, insert always).
  const envNum = (k: string): number | undefined => (process.env[k] ? Number(process.env[k]) : undefined);
  // FWD_TSVS_OFFLOAD=1: hw-offload (tc) on, the kernel forwards the cached flows (docs/hw-offload.md).
  const dp = new Datapath({
    name: 'fwd',
    flowLimit: 200_000,
    emcEntries: envNum('FWD_TSVS_EMC_ENTRIES'),
    emcInsertInvProb: envNum('FWD_TSVS_EMC_PROB'),
    offload: process.env.FWD_TSVS_OFFLOAD === '1',
  });
  const mask = K.newKey();
  mask[K.W_IN_PORT] = 0xffffffff;
  if (mode === 'exact') {
    mask[K.W_ETH_TYPE] = 0xffffffff;
    mask[K.W_NW_SRC] = 0xffffffff;
    mask[K.W_NW_DST] = 0xffffffff;
    mask[K.W_NW_PROTO_TOS_TTL_FRAG] = 0xff000000;
    mask[K.W_TP_PORTS] = 0xffffffff;
  }
  const out: DpAction[][] = [[], [{ type: 'output', port: 2 }], [{ type: 'output', port: 1 }]];
  dp.setUpcallHandler({ miss: (inPort) => ({ actions: out[inPort] ?? [], mask }) });
  // Transmit variant (for A/B runs): FWD_TSVS_TX=ring (TX ring), sock (sendmmsg on a
  // socket of its own), shared (sendmmsg on the receive socket); unset: the defaults.
  const tx = process.env.FWD_TSVS_TX;
  const txRing = Number(process.env.FWD_TSVS_TXRING ?? 512);
  const portOpts = tx === 'ring' ? { txRing } : tx === 'sock' ? { txSocket: true, txRing: 0 } : tx === 'shared' ? { txSocket: false, txRing: 0 } : {};
  // Batch variants: FWD_TSVS_RXBATCH/TXBATCH (frames), FWD_TSVS_SLOT (slot frame max; 9216 = the jumbo
  // slots of every port before slots were sized from the MTU); unset: the port's defaults.
  const rxBatch = envNum('FWD_TSVS_RXBATCH');
  const txBatch = envNum('FWD_TSVS_TXBATCH');
  const slotFrameMax = envNum('FWD_TSVS_SLOT');
  // Receive variant: FWD_TSVS_RX=v2 (TPACKET_V2 ring), v3 (TPACKET_V3 ring), mmsg (recvmmsg); unset: the default.
  const rxv = process.env.FWD_TSVS_RX;
  const rxOpts = rxv === 'v2' ? { ring: true, ringVersion: 2 as const } : rxv === 'v3' ? { ring: true, ringVersion: 3 as const } : rxv === 'mmsg' ? { ring: false } : {};
  const a = new SystemPort(names[0], { ...portOpts, ...rxOpts, rxBatch, txBatch, slotFrameMax });
  const b = new SystemPort(names[1], { ...portOpts, ...rxOpts, rxBatch, txBatch, slotFrameMax });
  void (async () => {
    await dp.addPort(a, 1);
    await dp.addPort(b, 2);
    await dp.start();
    console.error(`forwarding-switch: ${a.name} <-> ${b.name} (${mode}; ${a.batchBytes} batch bytes per port)`);
  })().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
  const done = (): void => {
    const st = dp.stats;
    const out = { mode, flows: st.flows, upcalls: st.upcalls, emcHits: st.emcHits, megaflowHits: st.megaflowHits, a: a.nativeStats, b: b.nativeStats, rxOversize: a.rxOversize + b.rxOversize, offload: dp.offloadStats };
    console.log(JSON.stringify(out));
    // With the offload on, stop() removes the tc filters before the process goes.
    void dp.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', done);
  process.on('SIGINT', done);
}

main(process.argv.slice(2));
