// Summarise a V8 .cpuprofile (node --cpu-prof): self time per function and
// per file, heaviest first. Used for the forwarding profile in RESULTS.md.
//   node dist/bench/cpuprofile-summary.js FILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function main(argv: string[]): void {
  const [file, topArg] = argv;
  if (!file) {
    console.error('usage: cpuprofile-summary FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  const top = Number(topArg ?? 25);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    const short = cf.url.replace(/^.*\/(dist|node_modules)\//, '').replace(/^file:\/\//, '') || '(native/vm)';
    const name = `${cf.functionName || '(anonymous)'} ${short}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    files.set(short, (files.get(short) ?? 0) + us);
    total += us;
  }
  const print = (title: string, m: Map<string, number>): void => {
    console.log(`\n${title} (total ${(total / 1e6).toFixed(2)} s sampled)`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);
  };
  print('self time by function', fn);
  print('self time by file', files);
}

main(process.argv.slice(2));
