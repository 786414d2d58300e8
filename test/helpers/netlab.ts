// Throwaway veth pairs, TAPs and network namespaces for integration tests.
// Every name starts with `tsn` plus a random suffix; a NetLab removes all it
// made in cleanup(), which tests call from afterAll/finally.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class NetLab {
  /** Prefix plus a random 5-hex-digit tag shared by everything this lab creates (names stay <= 15 bytes). */
  readonly tag: string;
  constructor(prefix = 'tsn') {
    this.tag = prefix + randomBytes(3).toString('hex').slice(0, 5);
  }
  private readonly links: string[] = [];
  private readonly namespaces: string[] = [];

  name(suffix: string): string {
    return this.tag + suffix;
  }

  /** Create a veth pair (both ends up, IPv6 off so no ND/MLD noise). Returns [a, b]. */
  veth(suffix: string): [string, string] {
    const a = this.name(suffix + 'a');
    const b = this.name(suffix + 'b');
    ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    this.links.push(a);
    for (const n of [a, b]) {
      this.sysctl(`net.ipv6.conf.${n}.disable_ipv6`, '1');
      ip('link', 'set', n, 'up');
    }
    return [a, b];
  }

  netns(suffix: string): string {
    const ns = this.name(suffix);
    ip('netns', 'add', ns);
    this.namespaces.push(ns);
    return ns;
  }

  /** Run a command inside a namespace. */
  exec(ns: string, cmd: string, args: string[], timeoutMs = 10_000): string {
    return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
      encoding: 'utf8',
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  sysctl(key: string, value: string, ns?: string): void {
    const args = ['-qw', `${key}=${value}`];
    if (ns) this.exec(ns, 'sysctl', args);
    else execFileSync('sysctl', args, { stdio: 'ignore' });
  }

  /** Remove every link and namespace this lab created; never throws. */
  cleanup(): void {
    for (const l of this.links.splice(0)) {
      try {
        ip('link', 'del', l);
      } catch {
        /* already gone (e.g. moved into a deleted namespace) */
      }
    }
    for (const ns of this.namespaces.splice(0)) {
      try {
        ip('netns', 'del', ns);
      } catch {
        /* already gone */
      }
    }
  }
}
