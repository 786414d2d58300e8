// Regenerates test/fixtures/ofctl-syntax-ovs.json from the real ovs-ofctl:
// for every case in ofctl-syntax-cases.ts, the bytes OVS encodes (or its
// error) and how it prints them.
// Usage: npx vite-node test/interop/tools/gen-ofctl-syntax.ts
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { OfctlEndpoint, ovsOfpPrint, ovsParseFlow, ovsParseGroup } from '../../helpers/ofctl-oracle.js';
import { flowStatsReplyFor } from '../../helpers/ofctl-oracle.js';
import * as C from './ofctl-syntax-cases.js';

async function main(): Promise<void> {
  const ep = new OfctlEndpoint();
  await ep.start();
  try {
    const flows: unknown[] = [];
    for (const text of [...C.GOOD_ADD_FLOWS, ...C.BAD_ADD_FLOWS, ...C.MORE_ADD_FLOWS, ...C.CONTROLLER_FLOWS]) {
      const r = ovsParseFlow(text);
      // The same flow as a switch would report it in dump-flows: a FLOW stats
      // reply built from OVS's FLOW_MOD, and how ovs-ofctl prints that reply.
      const reply = r.ok ? flowStatsReplyFor(r.hex!, flows.length) : undefined;
      const stats = reply ? { statsHex: reply, statsPrint: ovsOfpPrint(reply) } : {};
      flows.push({ cmd: 'add', strict: false, text, ...r, ...stats });
    }
    for (const c of [...C.GOOD_MOD_DEL_FLOWS, ...C.BAD_MOD_DEL_FLOWS]) {
      const r = await ep.run(c.cmd === 'modify' ? 'mod-flows' : 'del-flows', c.text, c.strict ? ['--strict'] : []);
      const hex = r.hex[0];
      flows.push(r.ok && hex ? { ...c, ok: true, hex, print: ovsOfpPrint(hex) } : { ...c, ok: false, error: r.error ?? 'nothing sent' });
    }
    const dumps: unknown[] = [];
    for (const text of C.DUMP_FILTERS) {
      for (const aggregate of [false, true]) {
        const r = await ep.run(aggregate ? 'dump-aggregate' : 'dump-flows', text);
        const hex = r.hex[0];
        dumps.push(r.ok && hex ? { text, aggregate, ok: true, hex } : { text, aggregate, ok: false, error: r.error ?? 'nothing sent' });
      }
    }
    const packetOuts: unknown[] = [];
    for (const text of C.PACKET_OUTS) {
      const r = await ep.run('packet-out', text);
      const hex = r.hex[0];
      packetOuts.push(r.ok && hex ? { text, ok: true, hex } : { text, ok: false, error: r.error ?? 'nothing sent' });
    }
    const groups: unknown[] = [];
    for (const text of [...C.GOOD_GROUPS, ...C.BAD_GROUPS]) groups.push({ cmd: 'add', text, ...ovsParseGroup(text) });
    for (const c of C.GROUP_MOD_DEL) {
      const r = await ep.run(c.cmd === 'modify' ? 'mod-group' : 'del-groups', c.text);
      const hex = r.hex[0];
      groups.push(r.ok && hex ? { ...c, ok: true, hex, print: ovsOfpPrint(hex).replace(/^\n?\s*/, '') } : { ...c, ok: false, error: r.error ?? 'nothing sent' });
    }
    const meters: unknown[] = [];
    for (const text of [...C.GOOD_METERS, ...C.BAD_METERS]) {
      const r = await ep.run('add-meter', text);
      const hex = r.hex[0];
      meters.push(r.ok && hex ? { cmd: 'add', text, ok: true, hex, print: ovsOfpPrint(hex) } : { cmd: 'add', text, ok: false, error: r.error ?? 'nothing sent' });
    }
    for (const c of C.METER_MOD_DEL) {
      const r = await ep.run(c.cmd === 'modify' ? 'mod-meter' : 'del-meters', c.text);
      const hex = r.hex[0];
      meters.push(r.ok && hex ? { ...c, ok: true, hex, print: ovsOfpPrint(hex) } : { ...c, ok: false, error: r.error ?? 'nothing sent' });
    }
    const version = execFileSync('ovs-ofctl', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    const out = { generatedBy: 'test/interop/tools/gen-ofctl-syntax.ts', ovsVersion: version, flows, dumps, packetOuts, groups, meters };
    writeFileSync(new URL('../../fixtures/ofctl-syntax-ovs.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
    console.log(`flows ${flows.length}, dumps ${dumps.length}, groups ${groups.length}, meters ${meters.length}`);
  } finally {
    await ep.stop();
  }
}

await main();
