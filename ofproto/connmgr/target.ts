// OpenFlow connection targets in Open vSwitch syntax (ovs-vswitchd.conf.db(5),
// Controller.target): active tcp:/ssl:/unix:, passive ptcp:/pssl:/punix:.
// Passive TCP binds 127.0.0.1 when no address is given: secure by default,
// unlike OVS's 0.0.0.0 (write ptcp:6653:0.0.0.0 to listen everywhere).
import { isIP } from 'node:net';
import { ConnMgrError } from './errors.js';

/** IANA OpenFlow port, OVS's default for tcp:/ssl:/ptcp:/pssl:. */
export const OFP_DEFAULT_PORT = 6653;
export const PASSIVE_DEFAULT_HOST = '127.0.0.1';

export type Target =
  | { kind: 'tcp' | 'ssl'; host: string; port: number }
  | { kind: 'ptcp' | 'pssl'; host: string; port: number }
  | { kind: 'unix' | 'punix'; path: string };

export function isPassive(t: Target): boolean {
  return t.kind === 'ptcp' || t.kind === 'pssl' || t.kind === 'punix';
}

function bad(target: string, why: string): ConnMgrError {
  return new ConnMgrError('ERR_CONNMGR_BAD_TARGET', `${JSON.stringify(target)}: ${why}`);
}

function parsePort(target: string, s: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) throw bad(target, `port ${JSON.stringify(s)} is not 0..65535`);
  return Number(s);
}

/** Splits "HOST[:PORT]" where HOST may be "[v6]". */
function splitHostPort(target: string, s: string): [string, string | undefined] {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw bad(target, 'unterminated [IPv6] address');
    const host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) throw bad(target, `unexpected ${JSON.stringify(rest)} after address`);
    return [host, rest === '' ? undefined : rest.slice(1)];
  }
  const i = s.indexOf(':');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function checkHost(target: string, host: string): string {
  if (isIP(host) === 0) throw bad(target, `${JSON.stringify(host)} is not an IP address (names are not resolved, like OVS)`);
  return host;
}

export function parseTarget(target: string): Target {
  const colon = target.indexOf(':');
  if (colon < 0) throw bad(target, 'expected TYPE:ARGS (tcp:, ssl:, unix:, ptcp:, pssl:, punix:)');
  const kind = target.slice(0, colon);
  const args = target.slice(colon + 1);
  switch (kind) {
    case 'tcp':
    case 'ssl': {
      const [host, port] = splitHostPort(target, args);
      return { kind, host: checkHost(target, host), port: port === undefined ? OFP_DEFAULT_PORT : parsePort(target, port) };
    }
    case 'ptcp':
    case 'pssl': {
      // ptcp:[PORT][:IP]
      const i = args.indexOf(':');
      const portStr = i < 0 ? args : args.slice(0, i);
      let host = i < 0 ? '' : args.slice(i + 1);
      if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
      return {
        kind,
        port: portStr === '' ? OFP_DEFAULT_PORT : parsePort(target, portStr),
        host: host === '' ? PASSIVE_DEFAULT_HOST : checkHost(target, host),
      };
    }
    case 'unix':
    case 'punix':
      if (args === '') throw bad(target, 'empty socket path');
      if (args.includes('\0')) throw bad(target, 'NUL in socket path');
      return { kind, path: args };
    default:
      throw bad(target, `unknown connection type ${JSON.stringify(kind)}`);
  }
}

export function formatTarget(t: Target): string {
  switch (t.kind) {
    case 'tcp':
    case 'ssl':
      return `${t.kind}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    case 'ptcp':
    case 'pssl':
      return `${t.kind}:${t.port}:${t.host.includes(':') ? `[${t.host}]` : t.host}`;
    case 'unix':
    case 'punix':
      return `${t.kind}:${t.path}`;
  }
}
