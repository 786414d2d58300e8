// Two emulated guests on one tsvs datapath, forwarded by a tiny MAC-learning
// upcall handler (the role ofproto's NORMAL plays in the daemon). Prints the
// ping result and the megaflows in Open vSwitch's dpctl/dump-flows form.
// Run after `npm install`:  node examples/datapath-demo.mjs
import { Datapath } from '../dist/datapath/dpif.js';
import * as K from '../dist/datapath/flow/key.js';
import { GuestPort } from '../dist/datapath/ports/guest.js';

const dp = new Datapath({ name: 'demo' });
const macToPort = new Map();
dp.setUpcallHandler({
  miss(inPort, key) {
    macToPort.set(`${key[K.W_ETH_SRC_HI]}:${key[K.W_ETH_SRC_LO]}`, inPort);
    const out = macToPort.get(`${key[K.W_ETH_DST_HI]}:${key[K.W_ETH_DST_LO]}`);
    const ports = out !== undefined ? [out] : dp.ports().map((p) => p.portNo).filter((n) => n !== inPort);
    const mask = K.newKey();
    for (const w of [K.W_IN_PORT, K.W_ETH_SRC_HI, K.W_ETH_SRC_LO, K.W_ETH_DST_HI, K.W_ETH_DST_LO, K.W_ETH_TYPE]) mask[w] = 0xffffffff;
    return { actions: ports.map((port) => ({ type: 'output', port })), mask };
  },
});
const a = new GuestPort('vm1', { mac: '02:00:00:00:00:01', ip: '10.0.0.1/24' });
const b = new GuestPort('vm2', { mac: '02:00:00:00:00:02', ip: '10.0.0.2/24' });
await dp.addPort(a);
await dp.addPort(b);
await dp.start();

const r = await a.ping('10.0.0.2', 3, { intervalMs: 100 });
console.log(`${r.transmitted} packets transmitted, ${r.received} received, ${r.lossPct}% packet loss`);
console.log(`rtt ms: ${r.rttsMs.map((t) => t.toFixed(3)).join(' ')}`);
for (const line of dp.dumpFlowsText()) console.log(line);
const s = dp.stats;
console.log(`emc hits: ${s.emcHits}  megaflow hits: ${s.megaflowHits}  misses: ${s.misses}  flows: ${s.flows}  masks: ${s.masks}`);
await dp.stop();
