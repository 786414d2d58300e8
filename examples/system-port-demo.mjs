// A network namespace behind a veth whose other end is a tsvs `system` port,
// plus an emulated guest on the same datapath: the namespace pings the guest
// through tsvs. Everything the script creates (namespace, veth) is removed on
// exit, also on Ctrl-C or an error.
// Run as root after `npm install` (builds the addon and dist/):
//   sudo node examples/system-port-demo.mjs          # ping 3 times, clean up
//   sudo node examples/system-port-demo.mjs --stay   # keep running until Ctrl-C
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Datapath } from '../dist/datapath/dpif.js';
import * as K from '../dist/datapath/flow/key.js';
import { createPort } from '../dist/datapath/ports/factory.js';

const run = promisify(execFile);
const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'inherit'] });
const tag = 'tsp' + randomBytes(3).toString('hex').slice(0, 5);
const ns = `${tag}ns`;
const hostEnd = `${tag}h`; // attached to tsvs as a system port
const nsEnd = `${tag}n`; // inside the namespace, 10.250.0.2/24

const dp = new Datapath({ name: 'demo' });
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await dp.stop();
  try { ip('link', 'del', hostEnd); } catch { /* not created */ }
  try { ip('netns', 'del', ns); } catch { /* not created */ }
}
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => cleanup().then(() => process.exit(143)));

// A MAC-learning upcall handler (what ofproto's NORMAL does in the daemon).
const macToPort = new Map();
dp.setUpcallHandler({
  miss(inPort, key) {
    macToPort.set(`${key[K.W_ETH_SRC_HI]}:${key[K.W_ETH_SRC_LO]}`, inPort);
    const out = macToPort.get(`${key[K.W_ETH_DST_HI]}:${key[K.W_ETH_DST_LO]}`);
    const ports = out !== undefined ? [out] : dp.ports().map((p) => p.portNo).filter((n) => n !== inPort);
    const mask = K.newKey();
    for (const w of [K.W_IN_PORT, K.W_ETH_SRC_HI, K.W_ETH_SRC_LO, K.W_ETH_DST_HI, K.W_ETH_DST_LO]) mask[w] = 0xffffffff;
    return { actions: ports.map((port) => ({ type: 'output', port })), mask };
  },
});

try {
  ip('netns', 'add', ns);
  ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd, 'netns', ns);
  ip('-n', ns, 'addr', 'add', '10.250.0.2/24', 'dev', nsEnd);
  ip('-n', ns, 'link', 'set', nsEnd, 'up');
  // TSO/GSO on the sender would hand tsvs 64 KiB TCP super-frames (docs/ports.md).
  await run('ip', ['netns', 'exec', ns, 'ethtool', '-K', nsEnd, 'tso', 'off', 'gso', 'off']).catch(() => {});

  await dp.addPort(createPort({ name: hostEnd, type: 'system' })); // brings it up, offloads off
  await dp.addPort(createPort({ name: 'vm1', type: 'guest', options: { mac: '02:00:00:00:00:01', ip: '10.250.0.1/24' } }));
  await dp.start();

  // Async exec: the datapath forwards in this process while ping runs.
  const { stdout } = await run('ip', ['netns', 'exec', ns, 'ping', '-c', '3', '-i', '0.2', '10.250.0.1']);
  console.log(stdout.trim());
  for (const line of dp.dumpFlowsText()) console.log(line);
  const p = dp.port(hostEnd);
  console.log(`${hostEnd}: ${JSON.stringify(p.stats)}`);
  if (process.argv.includes('--stay')) {
    console.log(`running; try: ip netns exec ${ns} ping 10.250.0.1   (Ctrl-C to stop and clean up)`);
    await new Promise(() => {});
  }
} catch (e) {
  console.error(e.message ?? e);
  process.exitCode = 1;
} finally {
  if (!process.argv.includes('--stay') || process.exitCode) await cleanup();
}
