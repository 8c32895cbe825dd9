// Opening the chain's LevelDB databases: a database is created only in a new (missing or empty)
// folder, and one that fails to open is refused with one line naming the path and the remedy,
// never replaced (DESIGN.md §1). Owns the data directory's paths of the chain databases and block
// files and reading a database's schema version. Does not own what is in them (level-store.ts,
// records.ts). Fails with DatabaseOpenError, ChainCorruptionError for an unreadable version, or
// LevelDB's own error when another process holds the database.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { ChainCorruptionError } from '../chain/ports.js';
import { META_VERSION } from './records.js';

/**
 * The chain database could not be opened: one line naming the path, what failed and what to do.
 * A database is created only in a new (missing or empty) folder: one whose CURRENT or MANIFEST
 * is gone is refused rather than replaced, since LevelDB would delete the old tables it no longer
 * lists (the chain lost for good).
 */
export class DatabaseOpenError extends Error {
  override readonly name = 'DatabaseOpenError';
  constructor(
    readonly path: string,
    readonly reason: string,
    remedy = 'restore that folder from a backup, or move it away and start again to download the chain from peers',
  ) {
    super(`cannot open the chain database at ${path}: ${reason}. Nothing was changed; ${remedy}.`);
  }
}

/** LevelDB's own words for a failed open ("IO error: …/MANIFEST-000002: No such file or directory"). */
function openFailure(e: unknown): string {
  let cause: unknown = e;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * The files LevelDB writes while it creates a database, before CURRENT names it: its lock, its
 * own text log, the first MANIFEST (listing nothing) and the temporary file renamed to CURRENT.
 */
const CREATION_FILE = /^(LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.dbtmp)$/;

/**
 * A folder with no CURRENT holding only what LevelDB writes while creating a database: a
 * creation cut short (a first start killed at that moment). No table (.ldb/.sst) nor write-ahead
 * log (.log) was ever written, so there is nothing to lose; a used database whose CURRENT was
 * deleted still has its .log, and is refused.
 */
export function isInterruptedCreation(dir: string): boolean {
  if (!existsSync(dir)) return false;
  const names = readdirSync(dir);
  return names.length > 0 && names.every((n) => CREATION_FILE.test(n));
}

/** A missing or empty folder, or a creation cut short: the only places a database is created. */
export function isFresh(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0 || isInterruptedCreation(dir);
}

/** Opens (creating only in a new folder) one LevelDB; refuses a damaged one, never replacing it. */
export async function openLevel(
  dir: string,
  cacheSize: number,
): Promise<ClassicLevel<Uint8Array, Uint8Array>> {
  const fresh = isFresh(dir);
  if (!fresh && !existsSync(join(dir, 'CURRENT')))
    throw new DatabaseOpenError(dir, 'its CURRENT file is missing (the folder is not empty)');
  // What a cut-short creation left goes first: LevelDB would refuse its MANIFEST without CURRENT.
  if (isInterruptedCreation(dir)) for (const n of readdirSync(dir)) rmSync(join(dir, n), { force: true });
  if (fresh) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: 'view',
    valueEncoding: 'view',
    cacheSize,
    createIfMissing: fresh,
  });
  try {
    await db.open();
  } catch (e) {
    // Another process holding the database is not damage: its own message says so.
    if ((e as { code?: string }).code === 'LEVEL_LOCKED') throw e;
    throw new DatabaseOpenError(dir, openFailure(e));
  }
  return db;
}

/** The schema version a database records, null when none (a new one). */
export async function readVersion(
  db: ClassicLevel<Uint8Array, Uint8Array>,
  dir: string,
): Promise<number | null> {
  const v = await db.get(META_VERSION);
  if (v === undefined) return null;
  if (v.length !== 1) throw new ChainCorruptionError(`database at ${dir} has an unreadable schema version`);
  return v[0];
}

/** Paths of a data directory's chain databases and block files. */
export function chainPaths(root: string): { chainstate: string; blocks: string; index: string } {
  return {
    chainstate: join(root, 'chainstate'),
    blocks: join(root, 'blocks'),
    index: join(root, 'blocks', 'index'),
  };
}
