// Logging with per-module levels, in Open vSwitch's vlog line format
// (`time|seq|module|LEVEL|message`), to stderr and/or a file. appctl vlog/list
// and vlog/set change levels at run time.

import { appendFileSync } from 'node:fs';

export const LOG_LEVELS = ['off', 'emer', 'err', 'warn', 'info', 'dbg'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function parseLogLevel(text: string): LogLevel | null {
  const t = text.toLowerCase();
  const alias: Record<string, LogLevel> = { error: 'err', warning: 'warn', debug: 'dbg' };
  const l = alias[t] ?? t;
  return (LOG_LEVELS as readonly string[]).includes(l) ? (l as LogLevel) : null;
}

export interface VlogOptions {
  level?: LogLevel;
  /** Append lines here as well as (or, when `console` is false, instead of) stderr. */
  file?: string | null;
  console?: boolean;
  clock?: () => Date;
}

export class Vlog {
  private seq = 0;
  private readonly levels = new Map<string, LogLevel>();
  private defaultLevel: LogLevel;
  file: string | null;
  console: boolean;
  private readonly clock: () => Date;

  constructor(opts: VlogOptions = {}) {
    this.defaultLevel = opts.level ?? 'info';
    this.file = opts.file ?? null;
    this.console = opts.console ?? true;
    this.clock = opts.clock ?? (() => new Date());
  }

  module(name: string): ModuleLog {
    if (!this.levels.has(name)) this.levels.set(name, this.defaultLevel);
    return new ModuleLog(this, name);
  }

  enabled(module: string, level: LogLevel): boolean {
    const set = this.levels.get(module) ?? this.defaultLevel;
    return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(set) && set !== 'off';
  }

  write(module: string, level: LogLevel, message: string): void {
    if (!this.enabled(module, level)) return;
    const line = `${this.clock().toISOString()}|${String(++this.seq).padStart(5, '0')}|${module}|${level.toUpperCase()}|${message}\n`;
    if (this.console) process.stderr.write(line);
    if (this.file) {
      try {
        appendFileSync(this.file, line);
      } catch {
        // A log we cannot write must not take the daemon down.
      }
    }
  }

  /** appctl vlog/list. */
  list(): string {
    const names = [...this.levels.keys()].sort();
    const w = Math.max(10, ...names.map((n) => n.length));
    return ['module'.padEnd(w) + ' level', '-'.repeat(w) + ' -----', ...names.map((n) => `${n.padEnd(w)} ${this.levels.get(n)}`)].join('\n') + '\n';
  }

  /** appctl vlog/set: `LEVEL`, `MODULE:LEVEL` or `ANY:LEVEL` (also a legacy `MODULE:DEST:LEVEL`). */
  set(spec: string): void {
    const parts = spec.split(':');
    const levelText = parts[parts.length - 1];
    const level = parseLogLevel(levelText);
    if (!level) throw new Error(`unknown log level "${levelText}" (use one of ${LOG_LEVELS.join(', ')})`);
    const mod = parts.length > 1 ? parts[0] : 'ANY';
    if (mod.toUpperCase() === 'ANY') {
      this.defaultLevel = level;
      for (const k of this.levels.keys()) this.levels.set(k, level);
      return;
    }
    if (!this.levels.has(mod)) throw new Error(`unknown module "${mod}" (see vlog/list)`);
    this.levels.set(mod, level);
  }
}

export class ModuleLog {
  constructor(
    private readonly vlog: Vlog,
    readonly name: string,
  ) {}
  err(m: string): void {
    this.vlog.write(this.name, 'err', m);
  }
  warn(m: string): void {
    this.vlog.write(this.name, 'warn', m);
  }
  info(m: string): void {
    this.vlog.write(this.name, 'info', m);
  }
  dbg(m: string): void {
    this.vlog.write(this.name, 'dbg', m);
  }
}
