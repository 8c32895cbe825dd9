// Disk space, as Bitcoin Core guards it: a node refuses to start with less than a margin free in
// its data directory (Core's CheckDiskSpace, nMinDiskSpace = 50 MiB), and stops ("Disk space is
// too low!", Core's AbortNode) before a chain write would eat into that margin, or when a write
// fails for want of space all the same. The margin is what lets the stopping node still save its
// wallets, mempool.dat and peers, so a full disk loses nothing; the chain's writes are atomic
// batches, so a refused or failed one is no worse than a crash at that point, which start-up
// recovers from.
import { statfsSync } from 'node:fs';

/** Core's nMinDiskSpace: the space a node keeps free in its data directory. */
export const MIN_DISK_SPACE = 52_428_800;

/** Core's message, the start of every DiskFullError's. */
export const DISK_FULL_MESSAGE = 'Disk space is too low!';

/** Raised when the disk holding `path` has too little room: one line for the operator. */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${DISK_FULL_MESSAGE} ${detail} at ${path}; free some space, then start the node again`);
  }
}

/** Bytes an unprivileged process may still write on the file system of `path` (Infinity when
 * the file system cannot say). */
export function freeBytes(path: string): number {
  try {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  } catch {
    return Infinity;
  }
}

function mb(n: number): string {
  return `${(n / 1_048_576).toFixed(1)} MB`;
}

/** Throws DiskFullError when fewer than `margin + additional` bytes are free at `path`. */
export function checkDiskSpace(path: string, additional = 0, margin = MIN_DISK_SPACE): void {
  const free = freeBytes(path);
  if (free < margin + additional)
    throw new DiskFullError(path, `${mb(free)} free, the node keeps ${mb(margin)}`);
}

/** Whether an error (or one of its causes) is the file system saying it is full: ENOSPC or
 * EDQUOT from Node's fs, or LevelDB's "IO error: …: No space left on device". */
export function isDiskFull(e: unknown): boolean {
  for (let c = e, depth = 0; c instanceof Error && depth < 8; c = c.cause, depth++) {
    if (c instanceof DiskFullError) return true;
    const code = (c as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
    if (/No space left on device|Disk quota exceeded/.test(c.message)) return true;
  }
  return false;
}
