// Run by disk-full.test.ts inside a user namespace with a 2 MiB tmpfs at argv[2]: fills a chain
// store with block batches (no margin, so the block files or LevelDB hit ENOSPC themselves), checks what the store
// says then and after, frees the space a filler file held, reopens the store and counts the
// blocks whose write had succeeded that are still there. Prints one JSON line.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LevelChainStore } from '../../src/storage/level-store.js';
import { BlockHeader } from '../../src/primitives/block.js';
import type { IndexRecord } from '../../src/chain/ports.js';

function hash(i: number): Uint8Array {
  const h = new Uint8Array(32);
  new DataView(h.buffer).setUint32(0, i);
  return h;
}

/** The index entry that makes a stored body findable after a reopen. */
function rec(i: number): IndexRecord {
  const header = new BlockHeader(1, new Uint8Array(32), hash(i), i, 0x207fffff, 0);
  return { header, height: i, chainWork: 0n, status: 2, sequence: i };
}

/** 64 KiB that compress well (LevelDB's log holds them raw, its tables compressed), so the
 * reopened database needs little room to rewrite its log as a table. */
function body(i: number): Uint8Array {
  const b = new Uint8Array(64 << 10).fill(i & 0xff);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return 'no error';
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  const filler = join(dir, 'filler');
  writeFileSync(filler, new Uint8Array(300 << 10));
  let told = 0;
  const store = await LevelChainStore.open(join(dir, 'db'), { minFreeBytes: 0, onDiskFull: () => told++ });
  let written = 0;
  let first = 'no error';
  for (let i = 0; i < 1000 && first === 'no error'; i++) {
    first = await errorOf(store.batch().putBlock(hash(i), body(i)).putIndex(hash(i), rec(i)).write());
    if (first === 'no error') written++;
  }
  const again = await errorOf(store.batch().putBlock(hash(5000), body(1)).write());
  await store.close();
  rmSync(filler);
  const reopened = await LevelChainStore.open(join(dir, 'db'), { minFreeBytes: 0 });
  let recovered = 0;
  for (let i = 0; i < written; i++) {
    const b = await reopened.getBlock(hash(i));
    if (b && Buffer.from(b).equals(Buffer.from(body(i)))) recovered++;
  }
  await reopened.close();
  process.stdout.write(JSON.stringify({ written, first, again, told, recovered }) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(3);
});
