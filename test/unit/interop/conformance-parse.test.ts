// The conformance rig's reading of the os-ken tester's output: results map onto
// the suite's cases in JSON order, ERROR reasons are kept, progress dots are
// ignored, and cases the tester never reported count as NOT_RUN.
import { describe, expect, it } from 'vitest';
import { formatSummary, loadSuite, parseTesterOutput } from '../../interop/conformance/rig.js';

describe('conformance rig: tester output parser', () => {
  const suite = loadSuite(['action/17_PUSH_VLAN.json', 'action/11_COPY_TTL_OUT.json']);

  it('maps OK/ERROR lines onto files and categories', () => {
    const [push, copy] = suite;
    const out = [
      'Join target SW.',
      copy!.description,
      `    ${copy!.tests[0]!.padEnd(100)} OK`,
      `    ${copy!.tests[1]!.padEnd(100)} ERROR`,
      '        Received incorrect packet: mpls(ttl=64)',
      push!.description,
      `...    ${push!.tests[0]!.padEnd(100)} OK`,
      '--- Test report ---',
      `    ${push!.tests[1]!} OK`,
    ].join('\n');
    const cases = parseTesterOutput(out, suite);
    expect(cases).toHaveLength(5);
    expect(cases.map((c) => c.result)).toEqual(['OK', 'NOT_RUN', 'NOT_RUN', 'OK', 'ERROR']);
    expect(cases[4]).toMatchObject({ category: 'action', file: 'action/11_COPY_TTL_OUT.json', detail: 'Received incorrect packet: mpls(ttl=64)' });
    const text = formatSummary(cases, { label: 't' });
    expect(text).toMatch(/action\s+5\s+2\s+1\s+2/);
    expect(text.trimEnd().split('\n').pop()).toBe('PASS 2 / TOTAL 5');
  });

  it('rejects a selection outside the suite', () => {
    expect(() => loadSuite(['../rig.ts'])).toThrow(/no test file/);
    expect(() => loadSuite(['nosuch'])).toThrow(/no test file/);
  });
});
