// Sockets for each target kind: dial() for tcp:/ssl:/unix:, listen() for
// ptcp:/pssl:/punix:. TLS follows OVS's SSL table: our key and certificate,
// a CA certificate, and the peer's certificate must verify against that CA
// (both directions). Like OVS, the peer's name/IP is not matched against its
// certificate: trust comes from the CA alone.
import { chmod, lstat, rename, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ConnMgrError } from './errors.js';
import type { Target } from './target.js';

export interface SslConfig {
  privateKeyFile: string;
  certificateFile: string;
  caCertFile: string;
}

export interface SslMaterial {
  key: Buffer;
  cert: Buffer;
  ca: Buffer;
}

export function loadSsl(cfg: SslConfig): SslMaterial {
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new ConnMgrError('ERR_CONNMGR_NO_SSL_CONFIG', `SSL ${what} ${file}: ${(e as Error).message}`, { cause: e });
    }
  };
  return { key: read('private key', cfg.privateKeyFile), cert: read('certificate', cfg.certificateFile), ca: read('CA certificate', cfg.caCertFile) };
}

function needSsl(target: string, ssl: SslMaterial | undefined): SslMaterial {
  if (!ssl) throw new ConnMgrError('ERR_CONNMGR_NO_SSL_CONFIG', `${target}: SSL target but no private key, certificate and CA certificate configured`);
  return ssl;
}

/** Unix sockets allow ~107 bytes of path; fail clearly rather than truncate. */
const UNIX_PATH_MAX = 107;

export interface Dialed {
  socket: net.Socket;
  /** Event that means "ready for OpenFlow": 'connect' or, for TLS, 'secureConnect'. */
  readyEvent: 'connect' | 'secureConnect';
}

export function dial(t: Target, ssl: SslMaterial | undefined): Dialed {
  switch (t.kind) {
    case 'tcp':
      return { socket: net.connect({ host: t.host, port: t.port, noDelay: true }), readyEvent: 'connect' };
    case 'unix':
      if (Buffer.byteLength(t.path) > UNIX_PATH_MAX) {
        throw new ConnMgrError('ERR_CONNMGR_SOCKET_PATH', `unix:${t.path}: path longer than ${UNIX_PATH_MAX} bytes`);
      }
      return { socket: net.connect({ path: t.path }), readyEvent: 'connect' };
    case 'ssl': {
      const m = needSsl(`ssl:${t.host}:${t.port}`, ssl);
      const socket = tls.connect({
        host: t.host,
        port: t.port,
        key: m.key,
        cert: m.cert,
        ca: m.ca,
        rejectUnauthorized: true,
        checkServerIdentity: () => undefined,
      });
      socket.setNoDelay(true);
      return { socket, readyEvent: 'secureConnect' };
    }
    default:
      throw new ConnMgrError('ERR_CONNMGR_BAD_TARGET', `${t.kind}: not an active target`);
  }
}

export interface Listening {
  server: net.Server;
  /** Event of `server` that hands over a ready socket. */
  connectionEvent: 'connection' | 'secureConnection';
  /** The target as bound (port 0 resolved), e.g. "ptcp:40321:127.0.0.1". */
  bound: string;
  /** Unix socket file to remove on close. */
  unixPath?: string;
}

function listenOn(server: net.Server, opts: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(opts, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Removes a stale socket file left by a previous run; refuses anything that is not a socket. */
async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new ConnMgrError('ERR_CONNMGR_SOCKET_PATH', `${path}: exists and is not a socket, refusing to replace it`);
  await unlink(path);
}

/**
 * Binds a unix socket that no one but its owner can connect to (mode 0600):
 * bind under a temporary name, chmod, then rename into place, so there is no
 * moment when the final path exists with looser permissions.
 */
async function listenUnix(server: net.Server, path: string): Promise<void> {
  if (Buffer.byteLength(path) > UNIX_PATH_MAX) {
    throw new ConnMgrError('ERR_CONNMGR_SOCKET_PATH', `punix:${path}: path longer than ${UNIX_PATH_MAX} bytes`);
  }
  await removeStaleSocket(path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`);
  const usable = Buffer.byteLength(tmp) <= UNIX_PATH_MAX;
  await listenOn(server, { path: usable ? tmp : path });
  await chmod(usable ? tmp : path, 0o600);
  if (usable) await rename(tmp, path);
}

export async function listen(t: Target, ssl: SslMaterial | undefined): Promise<Listening> {
  switch (t.kind) {
    case 'ptcp': {
      const server = net.createServer({ noDelay: true });
      await listenOn(server, { host: t.host, port: t.port, exclusive: true });
      const port = (server.address() as net.AddressInfo).port;
      return { server, connectionEvent: 'connection', bound: `ptcp:${port}:${t.host.includes(':') ? `[${t.host}]` : t.host}` };
    }
    case 'pssl': {
      const m = needSsl(`pssl:${t.port}:${t.host}`, ssl);
      const server = tls.createServer({ key: m.key, cert: m.cert, ca: m.ca, requestCert: true, rejectUnauthorized: true });
      await listenOn(server, { host: t.host, port: t.port, exclusive: true });
      const port = (server.address() as net.AddressInfo).port;
      return { server, connectionEvent: 'secureConnection', bound: `pssl:${port}:${t.host.includes(':') ? `[${t.host}]` : t.host}` };
    }
    case 'punix': {
      const server = net.createServer();
      await listenUnix(server, t.path);
      return { server, connectionEvent: 'connection', bound: `punix:${t.path}`, unixPath: t.path };
    }
    default:
      throw new ConnMgrError('ERR_CONNMGR_BAD_TARGET', `${t.kind}: not a passive target`);
  }
}

/**
 * Closes a listener and removes its socket file (only if it is still a
 * socket). The listening handle closes at once; the server's 'close' event
 * would also wait for accepted sockets, which their owners close themselves.
 */
export async function closeListening(l: Listening): Promise<void> {
  l.server.close();
  if (l.unixPath) {
    try {
      if ((await lstat(l.unixPath)).isSocket()) await unlink(l.unixPath);
    } catch {
      // already gone
    }
  }
}
