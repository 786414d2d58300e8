// A tsvs datapath whose ports are QEMU guests' NICs, switched by a tiny
// MAC-learning upcall handler (until the daemon and ofproto's NORMAL are
// there). One argument per port:
//   stream:PATH                 tsvs listens on PATH; QEMU -netdev stream,server=off,...
//   client:PATH                 QEMU listens on PATH (-netdev stream,server=on); tsvs connects and reconnects
//   udp:LOCALPORT:REMOTEPORT    tsvs binds 127.0.0.1:LOCALPORT, QEMU binds 127.0.0.1:REMOTEPORT
// Prints port counters every 5 s and on Ctrl-C. Run after `npm install`:
//   node examples/qemu-switch.mjs stream:/tmp/tsvs/vm1.sock stream:/tmp/tsvs/vm2.sock
import { Datapath } from '../dist/datapath/dpif.js';
import * as K from '../dist/datapath/flow/key.js';
import { DgramPort } from '../dist/datapath/ports/dgram.js';
import { StreamPort } from '../dist/datapath/ports/stream.js';

const dp = new Datapath({ name: 'qemu-demo' });
const macToPort = new Map();
dp.setUpcallHandler({
  miss(inPort, key) {
    const src = `${key[K.W_ETH_SRC_HI]}:${key[K.W_ETH_SRC_LO]}`;
    if (macToPort.get(src) !== inPort) dp.flowFlush(); // a new or moved MAC: re-decide cached flows
    macToPort.set(src, inPort);
    const out = macToPort.get(`${key[K.W_ETH_DST_HI]}:${key[K.W_ETH_DST_LO]}`);
    const ports = out !== undefined ? [out] : dp.ports().map((p) => p.portNo).filter((n) => n !== inPort);
    const mask = K.newKey();
    for (const w of [K.W_IN_PORT, K.W_ETH_SRC_HI, K.W_ETH_SRC_LO, K.W_ETH_DST_HI, K.W_ETH_DST_LO]) mask[w] = 0xffffffff;
    return { actions: ports.map((port) => ({ type: 'output', port })), mask };
  },
});

const specs = process.argv.slice(2);
if (specs.length === 0) {
  console.error('usage: node examples/qemu-switch.mjs stream:PATH | client:PATH | udp:LOCALPORT:REMOTEPORT ...');
  process.exit(2);
}
for (const [i, spec] of specs.entries()) {
  const [kind, a, b] = spec.split(':');
  const name = `p${i + 1}`;
  if (kind === 'stream') await dp.addPort(new StreamPort(name, { path: a }));
  else if (kind === 'client') await dp.addPort(new StreamPort(name, { path: a, role: 'client' }));
  else if (kind === 'udp') await dp.addPort(new DgramPort(name, { local: `127.0.0.1:${a}`, remote: `127.0.0.1:${b}` }));
  else throw new Error(`bad port spec ${spec}`);
}
await dp.start();
console.log(`listening/connecting: ${specs.join(' ')}`);

function show() {
  for (const p of dp.ports()) {
    const s = p.stats;
    console.log(`${p.name} ${p.type} carrier=${p.carrier ? 'up' : 'down'} rx=${s.rxPackets}/${s.rxBytes}B err=${s.rxErrors} drop=${s.rxDropped} tx=${s.txPackets}/${s.txBytes}B drop=${s.txDropped}`);
  }
}
const timer = setInterval(show, 5000);
process.on('SIGINT', async () => {
  clearInterval(timer);
  show();
  await dp.stop(); // closes connections and removes the listening sockets
  process.exit(0);
});
