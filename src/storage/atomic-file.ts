// Replacing a small file so that a crash or a full disk never leaves half of it: the one copy of
// "write a temporary file, fsync it, rename it over the old one, fsync the folder" (issue 13; it
// was written five times, one of which fsynced). The folder fsync makes the rename itself durable,
// as Core's RenameOver + DirectoryCommit do. The npm package write-file-atomic does the first three
// steps but not the folder fsync, so these twenty lines are written here.
// Owns: the temporary name (beside the target, so the rename stays on one file system), the mode
// (0600 unless told otherwise, whatever the umask), and removing the temporary file when a step
// fails. Fails by throwing the file system's error (ENOSPC, EACCES…) with the target left as it was.
// Imported by every folder that keeps a file of its own (wallet, mempool, p2p, rpc, node), which
// the architecture test allows for this file alone.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of the new file; default 0600 (owner only, DESIGN.md's rule for the datadir). */
  mode?: number;
}

function fsyncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse to open or fsync a directory; the rename has happened regardless.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Replaces `path` with `data` atomically and durably; creates the folder (0700) if missing. */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): void {
  const mode = opts.mode ?? 0o600;
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      chmodSync(tmp, mode); // a leftover temporary file keeps its old mode otherwise
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncFolder(folder);
}
