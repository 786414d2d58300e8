// One writer per database directory: a lock file holding the owner's pid,
// created with O_EXCL. A lock whose pid is no longer running (the daemon was
// killed), or is our own pid but not taken by this process, is stale and taken
// over, so a crash never blocks the restart.

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { DbError } from './errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Lock files this process holds: a file naming our own pid but not in here is
 * left over from an earlier process that had the same pid (a container's pid 1). */
const heldHere = new Set<string>();

export class LockFile {
  private held = true;

  private constructor(readonly path: string) {}

  /** Takes the lock at `path` or throws DbError('locked') naming the holder. */
  static acquire(path: string): LockFile {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        try {
          writeSync(fd, `${process.pid}\n`);
        } finally {
          closeSync(fd);
        }
        heldHere.add(resolve(path));
        return new LockFile(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new DbError('I/O error', `cannot create lock file ${path}: ${(e as Error).message}`, { cause: e });
        }
      }
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      } catch {
        // vanished or unreadable: retry once
      }
      const ours = pid === process.pid && !heldHere.has(resolve(path));
      if (Number.isInteger(pid) && pid > 0 && !ours && alive(pid)) {
        throw new DbError('locked', `database is in use by process ${pid} (lock file ${path}); stop it first`);
      }
      try {
        unlinkSync(path); // stale: its owner is gone
      } catch {
        // someone else removed it first
      }
    }
    throw new DbError('locked', `could not take lock file ${path}: another process keeps taking it`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    heldHere.delete(resolve(this.path));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
