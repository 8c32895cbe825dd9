// Flat block and undo files, as Bitcoin Core's blk?????.dat and rev?????.dat: each record is the
// network magic, a little-endian u32 length and the bytes (undo records add a SHA-256 of the
// block hash and the bytes, checked on every read). Blocks are appended to the newest blk file
// until it would pass the file size (Core's MAX_BLOCKFILE_SIZE, 128 MiB); a block's undo data goes
// to the rev file of the same number, so a pruned file number takes both. Positions point at the
// record's bytes (after the 8-byte frame) and live in the block index, not here.
// Crash safety: append() writes at offsets reserved before any await and resolves once the bytes
// are in the operating system's hands (a killed process loses nothing); it does not fsync. The
// files written since the last sync() are fsynced by sync(), which the store calls before every
// write that makes them referenced for good (Core's FlushBlockFile inside FlushStateToDisk: the
// coins flush and its index batch), not once per block. Appends are written from the calling
// thread (page-cache writes, as Core's buffered fwrite); reads and fsyncs go through the thread
// pool. A torn tail (a kill mid-append) is never referenced; new records go after it, and the
// reindex scan skips it by searching for the magic again, as Core's LoadExternalBlockFile does.
import { createHash } from 'node:crypto';
import { constants, existsSync, mkdirSync, readdirSync, statSync, writeSync } from 'node:fs';
import { type FileHandle, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ChainCorruptionError } from '../chain/ports.js';
import { equalBytes } from '../primitives/bytes.js';

/** Core's MAX_BLOCKFILE_SIZE. */
export const MAX_BLOCKFILE_SIZE = 128 * 1024 * 1024;
/** Largest record a scan believes (Core's MAX_SIZE for a serialised object). */
export const MAX_RECORD = 0x02000000;
const FRAME = 8;
const CHECKSUM = 32;
const OPEN_READERS = 8;
/**
 * Write handles kept open between appends (Core keeps the blk and rev file being appended to
 * open): opening a file per block was a tenth of connecting a block whose scripts were cached.
 */
const OPEN_WRITERS = 4;

/** Where a record's bytes start. */
export interface FilePos {
  file: number;
  pos: number;
}

export type FileKind = 'blk' | 'rev';

export function fileName(kind: FileKind, n: number): string {
  return `${kind}${String(n).padStart(5, '0')}.dat`;
}

/** The checksum kept after an undo record: SHA-256 of the block hash and the record's bytes. */
export function undoChecksum(blockHash: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(blockHash).update(data).digest());
}

/** Frames `data` as one record: magic, u32 LE length, bytes, then `trailer` if any. */
export function frameRecord(magic: Uint8Array, data: Uint8Array, trailer?: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME + data.length + (trailer?.length ?? 0));
  out.set(magic, 0);
  new DataView(out.buffer).setUint32(4, data.length, true);
  out.set(data, FRAME);
  if (trailer) out.set(trailer, FRAME + data.length);
  return out;
}

/**
 * Every whole record of a blk file in order: [offset of its bytes, bytes]. Garbage between or
 * after records is skipped by searching for the magic again from the byte after a bad one: a
 * length that overruns the file, or bytes that `valid` refuses (a torn record's length reaches
 * into the next record, so its bytes are not a block), as Core's reindex does.
 */
export function* scanRecords(
  buf: Uint8Array,
  magic: Uint8Array,
  valid: (data: Uint8Array) => boolean = () => true,
): Generator<[number, Uint8Array]> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  while (at + FRAME <= buf.length) {
    const found = indexOfMagic(buf, magic, at);
    if (found < 0 || found + FRAME > buf.length) return;
    const len = view.getUint32(found + 4, true);
    const data = buf.subarray(found + FRAME, found + FRAME + len);
    if (len === 0 || len > MAX_RECORD || found + FRAME + len > buf.length || !valid(data)) {
      at = found + 1;
      continue;
    }
    yield [found + FRAME, data];
    at = found + FRAME + len;
  }
}

function indexOfMagic(buf: Uint8Array, magic: Uint8Array, from: number): number {
  for (let i = buf.indexOf(magic[0], from); i >= 0 && i + 4 <= buf.length; i = buf.indexOf(magic[0], i + 1))
    if (buf[i + 1] === magic[1] && buf[i + 2] === magic[2] && buf[i + 3] === magic[3]) return i;
  return -1;
}

export interface BlockFilesOptions {
  /** The network's magic, the first 4 bytes of every record. */
  magic: Uint8Array;
  /** Largest blk file in bytes (default 128 MiB; tests use small files to show pruning). */
  maxFileSize?: number;
}

/** One pending append: a block (to the newest blk file) or undo data (to the rev file `file`). */
export type Append =
  | { kind: 'blk'; data: Uint8Array; done: (pos: FilePos) => void }
  | { kind: 'rev'; file: number; data: Uint8Array; hash: Uint8Array; done: (pos: FilePos) => void };

export class BlockFiles {
  /** Bytes in each file: where the next record of that file goes. */
  private readonly sizes = new Map<string, number>();
  /** The blk file new blocks go to. */
  private current = 0;
  private readonly readers = new Map<string, Promise<FileHandle>>();
  /** Open write handles and how many writes or syncs are using each (only an idle one is closed). */
  private readonly writers = new Map<string, { fh: Promise<FileHandle>; users: number }>();
  /** Files written since the last sync(), and their size once synced (what a power cut keeps). */
  private readonly dirty = new Set<string>();
  private readonly durable = new Map<string, number>();
  /** Times sync() ran (tests check that appends alone never fsync). */
  syncs = 0;
  readonly maxFileSize: number;

  private constructor(
    readonly dir: string,
    private readonly magic: Uint8Array,
    maxFileSize: number,
  ) {
    this.maxFileSize = maxFileSize;
  }

  static open(dir: string, opts: BlockFilesOptions): BlockFiles {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const f = new BlockFiles(dir, opts.magic, opts.maxFileSize ?? MAX_BLOCKFILE_SIZE);
    for (const name of readdirSync(dir)) {
      const m = /^(blk|rev)(\d{5})\.dat$/.exec(name);
      if (!m) continue;
      f.sizes.set(name, statSync(join(dir, name)).size);
      f.durable.set(name, f.sizes.get(name)!);
      if (m[1] === 'blk') f.current = Math.max(f.current, Number(m[2]));
    }
    return f;
  }

  /** Numbers of the blk files on disk, ascending. */
  blockFileNumbers(): number[] {
    const out: number[] = [];
    for (const name of this.sizes.keys()) if (name.startsWith('blk')) out.push(Number(name.slice(3, 8)));
    return out.sort((a, b) => a - b);
  }

  /** The blk file being appended to (never pruned). */
  get currentFile(): number {
    return this.current;
  }

  /** Bytes of blk and rev files of number `n`. */
  fileBytes(n: number): number {
    return (this.sizes.get(fileName('blk', n)) ?? 0) + (this.sizes.get(fileName('rev', n)) ?? 0);
  }

  /** Bytes of every block and undo file (what a prune target bounds). */
  totalBytes(): number {
    let t = 0;
    for (const s of this.sizes.values()) t += s;
    return t;
  }

  /**
   * Writes every append (no fsync: see sync()); then each `done` gets its record's position.
   * Offsets are reserved synchronously, so concurrent calls never overlap.
   */
  async append(list: readonly Append[]): Promise<void> {
    if (list.length === 0) return;
    const writes = new Map<string, { at: number; parts: Uint8Array[] }>();
    const placed: [Append, FilePos][] = [];
    for (const a of list) {
      let file: number;
      let rec: Uint8Array;
      if (a.kind === 'blk') {
        rec = frameRecord(this.magic, a.data);
        const used = this.sizes.get(fileName('blk', this.current)) ?? 0;
        if (used > 0 && used + rec.length > this.maxFileSize) this.current++;
        file = this.current;
      } else {
        file = a.file;
        rec = frameRecord(this.magic, a.data, undoChecksum(a.hash, a.data));
      }
      const name = fileName(a.kind, file);
      const at = this.sizes.get(name) ?? 0;
      this.sizes.set(name, at + rec.length);
      let w = writes.get(name);
      if (!w) writes.set(name, (w = { at, parts: [] }));
      w.parts.push(rec);
      placed.push([a, { file, pos: at + FRAME }]);
    }
    await Promise.all(
      [...writes].map(async ([name, w]) => {
        await this.withWriter(name, (fh) => {
          const buf = w.parts.length === 1 ? w.parts[0] : Buffer.concat(w.parts);
          // Written from this thread, as Core's validation thread fwrites a block: a write into
          // the page cache takes microseconds, where one through libuv's thread pool was a hop
          // whose end the connecting thread only saw at its next turn (0.65 ms an append on
          // average, some 600 ms of a one-thread connect of 1,111 blocks spent waiting for the
          // writes before each block's). fsync (sync()) stays off this thread.
          // A short write (a disk filling up) is followed by another, which then fails (ENOSPC).
          for (let done = 0; done < buf.length;)
            done += writeSync(fh.fd, buf, done, buf.length - done, w.at + done);
        });
        this.dirty.add(name);
      }),
    );
    // Only now may anyone read the records: their bytes are written.
    for (const [a, pos] of placed) a.done(pos);
  }

  /**
   * Fsyncs every file appended to since the last call (Core's FlushBlockFile): what the caller
   * writes next may name any record appended before this call. A file that fails stays dirty.
   */
  async sync(): Promise<void> {
    const names = [...this.dirty];
    this.dirty.clear();
    this.syncs++;
    await Promise.all(
      names.map(async (name) => {
        const size = this.sizes.get(name);
        try {
          // A file with a write handle exists (remove() closes it); another is opened to sync.
          if (this.writers.has(name)) await this.withWriter(name, (fh) => fh.datasync());
          else {
            const fh = await open(join(this.dir, name), 'r+');
            try {
              await fh.datasync();
            } finally {
              await fh.close();
            }
          }
          if (size !== undefined) this.durable.set(name, Math.max(this.durable.get(name) ?? 0, size));
        } catch (e) {
          // Pruned in the meantime: nothing left to sync.
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
          this.dirty.add(name);
          throw e;
        }
      }),
    );
  }

  /** Bytes of each file known to be on the disk itself (fsynced or found at open). */
  durableSizes(): ReadonlyMap<string, number> {
    return this.durable;
  }

  /** Whether the record at `p` of `kind` starts inside its file (a power cut can cut a file short
   * of records its index entry names; such a block is then fetched again). */
  holds(kind: FileKind, p: FilePos): boolean {
    return p.pos <= (this.sizes.get(fileName(kind, p.file)) ?? 0);
  }

  /** Runs `fn` on the file's write handle, opening (creating) it once and keeping it open. */
  private async withWriter<T>(name: string, fn: (fh: FileHandle) => T | Promise<T>): Promise<T> {
    let w = this.writers.get(name);
    if (!w) {
      this.closeIdleWriters(OPEN_WRITERS - 1);
      const entry = { fh: open(join(this.dir, name), constants.O_RDWR | constants.O_CREAT, 0o600), users: 0 };
      entry.fh.catch(() => {
        if (this.writers.get(name) === entry) this.writers.delete(name);
      });
      this.writers.set(name, entry);
      w = entry;
    }
    w.users++;
    try {
      return await fn(await w.fh);
    } finally {
      w.users--;
    }
  }

  /** Closes idle write handles, oldest first, until at most `keep` remain (busy ones stay). */
  private closeIdleWriters(keep: number): void {
    for (const [name, w] of this.writers) {
      if (this.writers.size <= keep) return;
      if (w.users > 0) continue;
      this.writers.delete(name);
      void w.fh.then((fh) => fh.close()).catch(() => undefined);
    }
  }

  private async closeWriter(name: string): Promise<void> {
    const w = this.writers.get(name);
    this.writers.delete(name);
    if (w) await w.fh.then((fh) => fh.close()).catch(() => undefined);
  }

  private reader(name: string): Promise<FileHandle> {
    let r = this.readers.get(name);
    if (!r) {
      if (this.readers.size >= OPEN_READERS) {
        const [oldest, h] = this.readers.entries().next().value!;
        this.readers.delete(oldest);
        void h.then((fh) => fh.close()).catch(() => undefined);
      }
      r = open(join(this.dir, name), 'r');
      r.catch(() => this.readers.delete(name));
      this.readers.set(name, r);
    }
    return r;
  }

  private async readRecord(kind: FileKind, p: FilePos, extra: number): Promise<Uint8Array> {
    const name = fileName(kind, p.file);
    const where = `${name} at ${p.pos}`;
    let fh: FileHandle;
    try {
      fh = await this.reader(name);
    } catch (e) {
      throw new ChainCorruptionError(`block files damaged: ${where}: ${(e as Error).message}`);
    }
    const head = new Uint8Array(FRAME);
    const { bytesRead } = await fh.read(head, 0, FRAME, p.pos - FRAME);
    const len = new DataView(head.buffer).getUint32(4, true);
    if (bytesRead !== FRAME || !equalBytes(head.subarray(0, 4), this.magic) || len > MAX_RECORD)
      throw new ChainCorruptionError(`block files damaged: no record at ${where}`);
    const out = new Uint8Array(len + extra);
    const got = (await fh.read(out, 0, out.length, p.pos)).bytesRead;
    if (got !== out.length) throw new ChainCorruptionError(`block files damaged: ${where} is cut short`);
    return out;
  }

  readBlock(p: FilePos): Promise<Uint8Array> {
    return this.readRecord('blk', p, 0);
  }

  /** The undo record at `p`, checked against its checksum with the block's hash. */
  async readUndo(p: FilePos, blockHash: Uint8Array): Promise<Uint8Array> {
    const rec = await this.readRecord('rev', p, CHECKSUM);
    const data = rec.subarray(0, rec.length - CHECKSUM);
    if (!equalBytes(rec.subarray(rec.length - CHECKSUM), undoChecksum(blockHash, data)))
      throw new ChainCorruptionError(
        `block files damaged: undo checksum of ${fileName('rev', p.file)} at ${p.pos}`,
      );
    return data;
  }

  /** Every whole record of every blk file that `valid` accepts, oldest file first (one file in
   * memory at a time). */
  async *scan(valid?: (data: Uint8Array) => boolean): AsyncGenerator<[FilePos, Uint8Array]> {
    for (const n of this.blockFileNumbers()) {
      const buf = new Uint8Array(await readFile(join(this.dir, fileName('blk', n))));
      for (const [pos, data] of scanRecords(buf, this.magic, valid)) yield [{ file: n, pos }, data];
    }
  }

  /** Deletes the blk and rev files of number `n` (pruning). */
  async remove(n: number): Promise<void> {
    for (const kind of ['blk', 'rev'] as const) {
      const name = fileName(kind, n);
      const r = this.readers.get(name);
      this.readers.delete(name);
      if (r) await r.then((fh) => fh.close()).catch(() => undefined);
      await this.closeWriter(name);
      await rm(join(this.dir, name), { force: true });
      this.sizes.delete(name);
      this.dirty.delete(name);
      this.durable.delete(name);
    }
  }

  /** Deletes every file (reindex after pruning starts again from peers). */
  async removeAll(): Promise<void> {
    for (const n of this.blockFileNumbers()) await this.remove(n);
    this.current = 0;
  }

  async close(): Promise<void> {
    const all = [...this.readers.values()];
    this.readers.clear();
    for (const r of all) await r.then((fh) => fh.close()).catch(() => undefined);
    for (const name of [...this.writers.keys()]) await this.closeWriter(name);
  }
}

export function hasBlockFiles(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((n) => /^blk\d{5}\.dat$/.test(n));
}
