// Shared pieces of the OpenFlowBridge interop tests: a bridge with two
// in-process guests (10.0.0.1/24 on OpenFlow port 1, 10.0.0.2/24 on port 2),
// a non-blocking ovs-ofctl runner, and tool detection.
import { execFile, execFileSync } from 'node:child_process';
import { GuestPort } from '../../datapath/ports/guest.js';
import { OpenFlowBridge, type OpenFlowBridgeOptions } from '../../ofproto/bridge.js';

export function hasCommand(cmd: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs ovs-ofctl without blocking the event loop (the switch runs in this process). */
export function ofctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile('ovs-ofctl', args, { timeout: 25_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

export interface GuestBridge {
  br: OpenFlowBridge;
  g1: GuestPort;
  g2: GuestPort;
}

export async function guestBridge(o: OpenFlowBridgeOptions): Promise<GuestBridge> {
  const br = new OpenFlowBridge(o);
  const g1 = new GuestPort('g1', { mac: '02:00:00:00:00:01', ip: '10.0.0.1/24' });
  const g2 = new GuestPort('g2', { mac: '02:00:00:00:00:02', ip: '10.0.0.2/24' });
  try {
    await br.start();
    await br.addPort(g1, { ofPort: 1 });
    await br.addPort(g2, { ofPort: 2 });
  } catch (e) {
    await br.stop();
    throw e;
  }
  return { br, g1, g2 };
}

/** Pings until one round gets `count` replies or the deadline passes (controllers install flows asynchronously). */
export async function pingUntil(g: GuestPort, ip: string, timeoutMs = 10_000, count = 3): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await g.ping(ip, count, { intervalMs: 0, timeoutMs: 500 });
    if (r.received === count) return true;
  }
  return false;
}
