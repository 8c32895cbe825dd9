// A node-like child for the crash test: opens the chain on a data directory and feeds it the
// blocks of a frame file (magic u32 LE, length u32 LE, raw block), then prints the UTXO digest.
// It can kill itself (SIGKILL) at a chosen store write: CRASH_MODE picks which writes count
// ('any', 'flush': inside a multi-batch coins flush, 'reorg': while blocks are being disconnected
// and the new branch connected), CRASH_N which of them; CRASH_WHEN 'before' or 'after' the write.
import { readFileSync, writeSync } from 'node:fs';
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

function die(kind: string): never {
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
      const kind = inFlush && !startsFlush ? 'flush' : reorging ? 'reorg' : 'any';
      const counts = mode === 'any' || mode === kind;
      if (counts) count++;
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
  const store = instrument(await LevelChainStore.open(dir));
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
