// guest/traffic: bounded, rate-limited flow generators on emulated guests,
// one per guest port, started, watched and stopped over appctl. Each job
// counts what it sent and what came back (UDP echoes from the peer's echo
// port, ICMP echo replies) since it started.

import type { GuestPort } from '../datapath/ports/guest.js';
import { AppctlError, type AppctlRegistry } from './rpc/appctl.js';

export const TRAFFIC_USAGE = 'PORT [DST_IP [--rate PPS] [--count N | --duration SECS] [--size BYTES] [--proto udp|tcp|icmp] [--flows N] [--dport PORT] | stop]';

/** Bounds: a job is never unbounded, nor faster than the emulated guests sensibly go. */
export const MAX_RATE_PPS = 100_000;
export const MAX_PACKETS = 10_000_000;
export const MAX_DURATION_SEC = 3600;
const MAX_PAYLOAD_BYTES = 1400;

export interface TrafficSpec {
  dst: string;
  ratePps: number;
  count: number;
  sizeBytes: number;
  proto: 'udp' | 'tcp' | 'icmp';
  flows: number;
  dstPort: number;
}

interface Job {
  readonly spec: TrafficSpec;
  readonly guest: GuestPort;
  readonly abort: AbortController;
  readonly progress: { sent: number };
  readonly startMs: number;
  endMs: number | null;
  state: 'running' | 'done' | 'stopped' | 'failed';
  error: string | null;
  /** Guest counters when the job started, to report replies since then. */
  readonly udp0: number;
  readonly icmp0: number;
  /** Settles when the generator has returned. */
  finished: Promise<void>;
}

function num(name: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isInteger(n) || n < min || n > max) throw new AppctlError(`${name} "${text ?? ''}" is not a whole number in ${min}..${max}`);
  return n;
}

/** Parse DST_IP and the options after it. Throws AppctlError naming the bad argument. */
export function parseTrafficArgs(args: readonly string[]): TrafficSpec {
  const [dst, ...rest] = args;
  if (dst === undefined || !/^[0-9a-fA-F:.]+$/.test(dst) || (!dst.includes('.') && !dst.includes(':'))) throw new AppctlError(`"${dst ?? ''}" is not an IPv4 or IPv6 address`);
  const spec: TrafficSpec = { dst, ratePps: 100, count: 0, sizeBytes: 64, proto: 'udp', flows: 1, dstPort: 7 };
  let duration = 0;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const eq = a.indexOf('=');
    const opt = eq > 0 ? a.slice(0, eq) : a;
    const val = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : rest[++i]);
    switch (opt) {
      case '--rate':
        spec.ratePps = num('--rate', val(), 1, MAX_RATE_PPS);
        break;
      case '--count':
        spec.count = num('--count', val(), 1, MAX_PACKETS);
        break;
      case '--duration':
        duration = num('--duration', val(), 1, MAX_DURATION_SEC);
        break;
      case '--size':
        spec.sizeBytes = num('--size', val(), 0, MAX_PAYLOAD_BYTES);
        break;
      case '--flows':
        spec.flows = num('--flows', val(), 1, 25535);
        break;
      case '--dport':
        spec.dstPort = num('--dport', val(), 1, 65535);
        break;
      case '--proto': {
        const p = val();
        if (p !== 'udp' && p !== 'tcp' && p !== 'icmp') throw new AppctlError(`--proto "${p ?? ''}" is not udp, tcp or icmp`);
        spec.proto = p;
        break;
      }
      default:
        throw new AppctlError(`${a}: unknown option (usage: guest/traffic ${TRAFFIC_USAGE})`);
    }
  }
  if (spec.count > 0 && duration > 0) throw new AppctlError('give --count or --duration, not both');
  if (duration > 0) spec.count = Math.min(MAX_PACKETS, spec.ratePps * duration);
  if (spec.count === 0) spec.count = Math.min(MAX_PACKETS, spec.ratePps * 10);
  if (spec.proto === 'icmp' && spec.flows > 1) throw new AppctlError('--flows applies to udp and tcp (ICMP echoes of one pair are one flow)');
  return spec;
}

export class GuestTraffic {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly guests: (name: string) => GuestPort | undefined,
    private readonly clock: () => number = Date.now,
  ) {}

  register(a: AppctlRegistry): void {
    a.registerAppctl('guest/traffic', TRAFFIC_USAGE, 1, 20, (args) => this.command(args));
  }

  command(args: readonly string[]): string {
    const [name, ...rest] = args as [string, ...string[]];
    const guest = this.guests(name);
    if (guest === undefined) throw new AppctlError(`${name}: no such guest interface`);
    if (rest.length === 0) return this.status(name);
    if (rest.length === 1 && rest[0] === 'stop') {
      const job = this.jobs.get(name);
      if (job === undefined || job.state !== 'running') throw new AppctlError(`${name}: no traffic running`);
      this.stopJob(job);
      return this.status(name);
    }
    const spec = parseTrafficArgs(rest);
    const old = this.jobs.get(name);
    if (old?.state === 'running') throw new AppctlError(`${name}: traffic already running (guest/traffic ${name} stop)`);
    this.start(name, guest, spec);
    return `${name}: started ${describe(spec)}\n`;
  }

  start(name: string, guest: GuestPort, spec: TrafficSpec): Promise<void> {
    const per = Math.ceil(spec.count / spec.flows);
    spec.count = per * spec.flows; // whole rounds over the flows
    const job: Job = {
      spec,
      guest,
      abort: new AbortController(),
      progress: { sent: 0 },
      startMs: this.clock(),
      endMs: null,
      state: 'running',
      error: null,
      udp0: guest.udpReceived,
      icmp0: guest.icmpTrafficReplies,
      finished: Promise.resolve(),
    };
    this.jobs.set(name, job);
    job.finished = guest
      .traffic({
        dst: spec.dst,
        proto: spec.proto,
        flows: spec.flows,
        packetsPerFlow: per,
        ratePps: spec.ratePps,
        dstPort: spec.dstPort,
        payloadBytes: spec.sizeBytes,
        signal: job.abort.signal,
        progress: job.progress,
      })
      .then(
        () => {
          if (job.state === 'running') job.state = job.progress.sent >= per * spec.flows ? 'done' : 'stopped';
        },
        (e: Error) => {
          job.state = 'failed';
          job.error = e.message;
        },
      )
      .finally(() => {
        job.endMs ??= this.clock();
      });
    return job.finished;
  }

  /** Settles when `name`'s current job has finished (tests, shutdown). */
  finished(name: string): Promise<void> {
    return this.jobs.get(name)?.finished ?? Promise.resolve();
  }

  private stopJob(job: Job): void {
    job.abort.abort();
    job.state = 'stopped';
    job.endMs = this.clock();
  }

  /** One line per job (or for `name`). */
  status(name?: string): string {
    const names = name === undefined ? [...this.jobs.keys()].sort() : [name];
    const lines: string[] = [];
    for (const n of names) {
      const j = this.jobs.get(n);
      if (j === undefined) {
        lines.push(`${n}: no traffic started`);
        continue;
      }
      const received = j.spec.proto === 'icmp' ? j.guest.icmpTrafficReplies - j.icmp0 : j.spec.proto === 'udp' ? j.guest.udpReceived - j.udp0 : 0;
      const sec = ((j.endMs ?? this.clock()) - j.startMs) / 1000;
      const rx = j.spec.proto === 'tcp' ? '' : `, received ${received}`;
      lines.push(`${n}: ${j.state}${j.error !== null ? ` (${j.error})` : ''}, ${describe(j.spec)}: sent ${j.progress.sent}/${j.spec.count}${rx} in ${sec.toFixed(1)} s`);
    }
    return lines.join('\n') + '\n';
  }

  /** Stop every job (daemon shutdown). */
  stopAll(): void {
    for (const j of this.jobs.values()) if (j.state === 'running') this.stopJob(j);
  }
}

function describe(s: TrafficSpec): string {
  const port = s.proto === 'icmp' ? '' : ` port ${s.dstPort}`;
  return `${s.proto} to ${s.dst}${port}, ${s.flows} flow${s.flows === 1 ? '' : 's'}, ${s.count} packets of ${s.sizeBytes} bytes at ${s.ratePps} pps`;
}
