// The data directory: creating it and its exclusive .lock. Owns: one node per directory. The lock
// holds the owner's pid; a lock whose pid is no longer alive is stale and taken over. Fails with
// DataDirLockedError (naming the other pid) when a live node holds the directory.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `cannot lock data directory ${dir}: another tally node (pid ${pid}) is using it. ` +
        `If no node is running, remove ${join(dir, '.lock')}.`,
    );
    this.name = 'DataDirLockedError';
  }
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Locks held by this process: a second node in the same process is refused too. */
const held = new Set<string>();

export class DataDirLock {
  private released = false;
  private pidFile: string | null = null;

  private constructor(
    readonly dir: string,
    readonly path: string,
    readonly pid: number,
  ) {}

  /** Creates `dir` if needed and takes its .lock; throws DataDirLockedError if a live node holds it. */
  static acquire(dir: string, pid = process.pid): DataDirLock {
    ensureDir(dir);
    const path = join(dir, '.lock');
    if (held.has(path)) throw new DataDirLockedError(dir, pid);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        try {
          writeSync(fd, `${pid}\n`);
        } finally {
          closeSync(fd);
        }
        // Two nodes taking over the same stale lock at once: whoever's pid is in the file wins.
        if (readPid(path) !== pid) continue;
        held.add(path);
        return new DataDirLock(dir, path, pid);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const owner = readPid(path);
        if (owner !== null && owner !== pid && pidAlive(owner)) throw new DataDirLockedError(dir, owner);
        rmSync(path, { force: true });
      }
    }
    throw new DataDirLockedError(dir, readPid(path) ?? 0);
  }

  /** `pid=`: writes the process id to `path`, removed with the lock (Core's RemovePidFile at shutdown). */
  writePidFile(path: string): void {
    writeFileSync(path, `${this.pid}\n`, { mode: 0o600 });
    this.pidFile = path;
  }

  /** Removes the lock (and the pid file) if it is still ours. Safe to call twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.path);
    if (this.pidFile !== null) rmSync(this.pidFile, { force: true });
    if (readPid(this.path) === this.pid) rmSync(this.path, { force: true });
  }
}
