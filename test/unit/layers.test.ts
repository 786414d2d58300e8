// Guards the one import rule of ARCHITECTURE.md: imports only point down
// (datapath <- ofproto <- vswitchd); ctl talks over sockets and may import only
// codecs and syntax (ofproto/openflow/, vswitchd/rpc/ schema).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const layers = ['datapath', 'ofproto', 'vswitchd', 'ctl', 'bench'] as const;
type Layer = (typeof layers)[number];

/** Which top-level folders each layer may import from (besides itself). */
const allowed: Record<Layer, (target: string) => boolean> = {
  datapath: () => false,
  ofproto: (t) => t.startsWith('datapath/'),
  vswitchd: (t) => t.startsWith('datapath/') || t.startsWith('ofproto/'),
  ctl: (t) => t.startsWith('ofproto/openflow/') || t.startsWith('vswitchd/rpc/'),
  bench: (t) => t.startsWith('datapath/') || t.startsWith('ofproto/') || t.startsWith('vswitchd/'),
};

function sources(dir: string): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules' && name !== 'build') out = out.concat(sources(p));
    } else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export function upwardImports(): string[] {
  const bad: string[] = [];
  const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const layer of layers) {
    for (const file of sources(join(root, layer))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(importRe)) {
        const spec = m[1] ?? m[2] ?? m[3];
        if (!spec.startsWith('.')) continue;
        const target = relative(root, resolve(dirname(file), spec));
        const top = target.split('/')[0];
        if (top === layer) continue;
        if (!allowed[layer](target)) bad.push(`${relative(root, file)} imports ${target}`);
      }
    }
  }
  return bad;
}

describe('layer rule', () => {
  it('no file imports upward across layers', () => {
    expect(upwardImports()).toEqual([]);
  });
});
