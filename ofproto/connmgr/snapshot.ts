// What connmgr shows about itself (for an appctl command and metrics): every
// connection with its role, queue and drop counters, and every configured
// remote with its OVS-style status; as JSON, and as text a person reads.
import type { OfRole } from '../ofconn.js';
import type { ConnectionStats } from './connection.js';
import type { ControllerStatus } from './remote.js';

export interface ConnectionSnapshot {
  id: number;
  name: string;
  service: boolean;
  role: OfRole;
  version: number;
  missSendLen: number;
  secSinceConnect: number;
  txQueuedBytes: number;
  probing: boolean;
  stats: ConnectionStats;
}

export interface ConnMgrSnapshot {
  bridge: string;
  mgmtPath?: string;
  controllers: ControllerStatus[];
  services: ControllerStatus[];
  connections: ConnectionSnapshot[];
  totals: { packetInRateDropped: number; packetInQueueDropped: number };
}

function statusLine(s: ControllerStatus): string {
  const parts = [s.target, s.state, s.isConnected ? 'connected' : 'not connected', `role=${s.role}`];
  if (s.bound && s.bound !== s.target) parts.push(`bound=${s.bound}`);
  if (s.nConnections !== undefined) parts.push(`connections=${s.nConnections}`);
  if (s.secSinceConnect !== undefined) parts.push(`sec_since_connect=${s.secSinceConnect}`);
  if (s.secSinceDisconnect !== undefined) parts.push(`sec_since_disconnect=${s.secSinceDisconnect}`);
  if (s.lastError !== undefined) parts.push(`last_error="${s.lastError}"`);
  return `  ${parts.join(' ')}`;
}

export function formatSnapshot(s: ConnMgrSnapshot): string {
  const out: string[] = [`${s.bridge}:`];
  if (s.mgmtPath) out.push(` management socket: ${s.mgmtPath}`);
  out.push(` controllers (${s.controllers.length}):`, ...s.controllers.map(statusLine));
  out.push(` services (${s.services.length}):`, ...s.services.map(statusLine));
  out.push(` connections (${s.connections.length}):`);
  for (const c of s.connections) {
    out.push(
      `  #${c.id} ${c.name} ${c.service ? 'service' : 'controller'} role=${c.role} OF=0x0${c.version} miss_send_len=${c.missSendLen}` +
        ` up=${c.secSinceConnect}s${c.probing ? ' (probing)' : ''} rx=${c.stats.rxMessages} tx=${c.stats.txMessages}` +
        ` rx_errors=${c.stats.rxErrors} txq_bytes=${c.txQueuedBytes}` +
        ` packet_in_drops=rate:${c.stats.packetInRateDropped},queue:${c.stats.packetInQueueDropped}`,
    );
  }
  out.push(` packet-in drops: rate limit ${s.totals.packetInRateDropped}, queue full ${s.totals.packetInQueueDropped}`);
  return out.join('\n') + '\n';
}
