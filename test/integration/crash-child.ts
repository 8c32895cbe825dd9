// A node-like child for the crash test: opens the chain on a data directory and feeds it the
// blocks of a frame file (magic u32 LE, length u32 LE, raw block), then prints the UTXO digest.
// It can kill itself (SIGKILL) at a chosen store write: CRASH_MODE picks which writes count
// ('any', 'flush': inside a multi-batch coins flush, 'reorg': while blocks are being disconnected
// and the new branch connected, 'power': any write, and the block and undo files are then cut back
// to the bytes last fsynced, as a power cut would leave them, while the LevelDB writes stay: the
// worst case for an index that names them), CRASH_N which of them; CRASH_WHEN 'before' or 'after'
// the write.
import { readdirSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Chain } from '../../src/chain/chain.js';
import { getParams } from '../../src/consensus/params.js';
import { Block } from '../../src/primitives/block.js';
import type { ChainStore, StoreBatch } from '../../src/chain/ports.js';
import { LevelChainStore } from '../../src/storage/level-store.js';

export function readFrames(data: Uint8Array): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  for (let pos = 0; pos + 8 <= data.length;) {
    const len = view.getUint32(pos + 4, true);
    out.push(data.subarray(pos + 8, pos + 8 + len));
    pos += 8 + len;
  }
  return out;
}

const mode = process.env.CRASH_MODE ?? 'none';
const target = Number(process.env.CRASH_N ?? '0');
const when = process.env.CRASH_WHEN ?? 'before';
let count = 0;
let inFlush = false;
let reorging = false;
let files: LevelChainStore['files'] | undefined;

/** Cuts every block and undo file back to what was fsynced (a file never synced to nothing). */
function powerCut(): void {
  const durable = files!.durableSizes();
  for (const name of readdirSync(files!.dir))
    if (/^(blk|rev)\d{5}\.dat$/.test(name)) truncateSync(join(files!.dir, name), durable.get(name) ?? 0);
}

function die(kind: string): never {
  if (kind === 'power') powerCut();
  writeSync(1, JSON.stringify({ killed: kind, write: count }) + '\n');
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

/** Wraps the store so every batch write passes through the kill switch. */
function instrument(store: ChainStore): ChainStore {
  const batch = store.batch.bind(store);
  store.batch = (): StoreBatch => {
    const b = batch();
    let startsFlush = false;
    let endsFlush = false;
    const setHeads = b.setHeadBlocks.bind(b);
    b.setHeadBlocks = (h) => {
      if (h) startsFlush = true;
      else endsFlush = true;
      return setHeads(h);
    };
    const write = b.write.bind(b);
    b.write = async () => {
      if (startsFlush) inFlush = true;
      // A write inside a multi-batch flush (after its first batch), or during a reorg.
      const midFlush = inFlush && !startsFlush;
      const counts =
        mode === 'any' ||
        mode === 'power' ||
        (mode === 'flush' && midFlush) ||
        (mode === 'reorg' && reorging);
      if (counts) count++;
      const kind = mode;
      if (counts && count === target && when === 'before') die(kind);
      await write();
      if (counts && count === target && when === 'after') die(kind);
      if (endsFlush) inFlush = false;
    };
    return b;
  };
  return store;
}

async function main(): Promise<void> {
  const [dir, file] = process.argv.slice(2);
  const level = await LevelChainStore.open(dir);
  files = level.files;
  const store = instrument(level);
  const chain = await Chain.open({
    store,
    params: getParams('regtest'),
    verifyThreads: 0,
    dbcacheMB: 0.02,
    maxBatchBytes: 1500,
    now: () => 4_000_000_000,
    activate: false,
  });
  chain.on('disconnect', () => (reorging = true));
  chain.on('tip', () => (reorging = false));
  await chain.activate();
  for (const raw of readFrames(new Uint8Array(readFileSync(file)))) {
    const r = await chain.processBlock(Block.decode(raw));
    if (!r.accepted) throw new Error(`block rejected: ${r.reason}`);
  }
  const d = await chain.utxoDigest();
  await chain.close();
  writeSync(1, JSON.stringify({ done: true, height: d.height, hash: d.hash, count: d.count }) + '\n');
}

if (process.argv[1]?.endsWith('crash-child.js')) {
  main().catch((e) => {
    writeSync(2, String(e?.stack ?? e) + '\n');
    process.exit(3);
  });
}
