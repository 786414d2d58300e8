import { describe, expect, it } from 'vitest';
import { formatTarget, parseTarget } from '../../../../ofproto/connmgr/target.js';
import { TokenBucket } from '../../../../ofproto/connmgr/rate-limiter.js';
import { ManualTimers } from '../../../helpers/manual-timers.js';

describe('parseTarget', () => {
  it.each([
    ['tcp:127.0.0.1:6653', { kind: 'tcp', host: '127.0.0.1', port: 6653 }],
    ['tcp:10.0.0.1', { kind: 'tcp', host: '10.0.0.1', port: 6653 }],
    ['ssl:[::1]:6634', { kind: 'ssl', host: '::1', port: 6634 }],
    ['unix:/run/ctl.sock', { kind: 'unix', path: '/run/ctl.sock' }],
    ['ptcp:', { kind: 'ptcp', host: '127.0.0.1', port: 6653 }],
    ['ptcp:0', { kind: 'ptcp', host: '127.0.0.1', port: 0 }],
    ['ptcp:6633:0.0.0.0', { kind: 'ptcp', host: '0.0.0.0', port: 6633 }],
    ['pssl:6634:[::1]', { kind: 'pssl', host: '::1', port: 6634 }],
    ['punix:/run/br0.mgmt', { kind: 'punix', path: '/run/br0.mgmt' }],
  ])('%s', (s, want) => {
    expect(parseTarget(s)).toEqual(want);
  });

  it('formats back to a canonical string', () => {
    expect(formatTarget(parseTarget('ptcp:'))).toBe('ptcp:6653:127.0.0.1');
    expect(formatTarget(parseTarget('ssl:[::1]:1'))).toBe('ssl:[::1]:1');
    expect(formatTarget(parseTarget('tcp:1.2.3.4'))).toBe('tcp:1.2.3.4:6653');
  });

  it.each(['tcp', 'tcp:localhost:6653', 'tcp:1.2.3.4:70000', 'udp:1.2.3.4:1', 'unix:', 'ptcp:x', 'tcp:[::1'])('rejects %s with a stable code', (s) => {
    expect(() => parseTarget(s)).toThrow(expect.objectContaining({ code: 'ERR_CONNMGR_BAD_TARGET' }));
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const t = new ManualTimers();
    const b = new TokenBucket({ ratePerSec: 100, burst: 5 }, t);
    expect([...Array(7)].map(() => b.take())).toEqual([true, true, true, true, true, false, false]);
    t.advance(10); // one token
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    t.advance(10_000);
    expect([...Array(6)].map(() => b.take()).filter(Boolean)).toHaveLength(5);
    expect(b.dropped).toBe(4);
  });
});
