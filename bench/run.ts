// `npm run bench -- NAME [--quick]`: runs a benchmark, prints a readable
// table and then one JSON object per case on its own line for scripts.
import { runDatapathBench } from './datapath.js';
import { runFlowmodBench } from './flowmod.js';
import { runOfprotoBench } from './ofproto.js';
import { runForwardingBench } from './forwarding.js';

type Row = Record<string, unknown>;
const benches: Record<string, (o: { quick: boolean }) => Promise<Row[]>> = {
  datapath: runDatapathBench as unknown as (o: { quick: boolean }) => Promise<Row[]>,
  ofproto: runOfprotoBench as unknown as (o: { quick: boolean }) => Promise<Row[]>,
  forwarding: runForwardingBench as unknown as (o: { quick: boolean }) => Promise<Row[]>,
  flowmod: runFlowmodBench as unknown as (o: { quick: boolean }) => Promise<Row[]>,
};

function table(rows: Row[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(n in benches));
  if (names.length === 0 || unknown.length > 0) {
    console.error(`usage: npm run bench -- {${Object.keys(benches).join('|')}} [--quick]`);
    if (unknown.length > 0) console.error(`unknown benchmark: ${unknown.join(', ')}`);
    process.exit(2);
  }
  for (const name of names) {
    const rows = await benches[name]({ quick });
    console.log(`\n${name} (${quick ? 'quick' : 'full'}) on ${new Date().toISOString()}\n`);
    console.log(table(rows));
    console.log('');
    for (const r of rows) console.log(JSON.stringify(r));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
