// The switch under test for the os-ken OpenFlow switch test tool
// (../shared/conformance/run.sh --external-target, or test/interop's own
// copy of that rig): one tsvs OpenFlow bridge, dpid 1, fail_mode secure,
// system ports 1..3 on the veths named on the command line, controller
// tcp:127.0.0.1:PORT. Runs until SIGTERM/SIGINT.
//   node test/interop/tools/conformance-target.mjs [--port 16653] [--dpid 1] [rt-t1 rt-t2 rt-t3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFlowBridge } from '../../../dist/ofproto/bridge.js';
import { createPort } from '../../../dist/datapath/ports/factory.js';

const args = process.argv.slice(2);
let port = 16653;
let dpid = 1n;
const ifaces = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--dpid') dpid = BigInt('0x' + args[++i]);
  else ifaces.push(args[i]);
}
if (ifaces.length === 0) ifaces.push('rt-t1', 'rt-t2', 'rt-t3');

const rundir = mkdtempSync(join(tmpdir(), 'tsvs-conf-'));
const br = new OpenFlowBridge({
  name: 'conf0',
  datapathId: dpid,
  failMode: 'secure',
  rundir,
  controllers: [`tcp:127.0.0.1:${port}`],
});
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try { await br.stop(); } finally { rmSync(rundir, { recursive: true, force: true }); process.exit(code); }
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

for (let i = 0; i < ifaces.length; i++) await br.addPort(createPort({ name: ifaces[i], type: 'system' }), { ofPort: i + 1 });
await br.start();
console.log(`tsvs conformance target: dpid ${dpid.toString(16).padStart(16, '0')} ports ${ifaces.join(',')} controller tcp:127.0.0.1:${port}`);
