// Real mainnet spends from the shared vectors, with the coins they spend: bcoin's undo format
// (one serialized TxOut per input of every non-coinbase tx, in order) and btcd's framed blocks.
// Shared by real-spends.test.ts and the script benchmark.
import { readVector } from '../vectors.js';
import { BufferReader } from '../../src/primitives/bytes.js';
import { Block } from '../../src/primitives/block.js';
import { Tx, TxOut } from '../../src/primitives/tx.js';

export interface Spend {
  tx: Tx;
  /** prevouts[i] is the output input i spends. */
  prevouts: TxOut[];
}

/** Reads `count` undo entries (or all of them when count is undefined). */
export function readUndo(data: Uint8Array): TxOut[] {
  const r = new BufferReader(data);
  const outs: TxOut[] = [];
  while (r.remaining > 0) outs.push(TxOut.read(r));
  return outs;
}

/** Pairs every non-coinbase tx of `txs` with its undo entries; throws if the counts differ. */
export function withUndo(txs: readonly Tx[], undo: TxOut[]): Spend[] {
  const spends: Spend[] = [];
  let k = 0;
  for (const tx of txs) {
    if (tx.isCoinbase()) continue;
    const prevouts = undo.slice(k, k + tx.inputs.length);
    if (prevouts.length !== tx.inputs.length) throw new Error('undo data too short');
    k += tx.inputs.length;
    spends.push({ tx, prevouts });
  }
  if (k !== undo.length) throw new Error(`undo has ${undo.length} entries, block spends ${k}`);
  return spends;
}

/** btcd/Core framing: [f9 be b4 d9][u32 length][block] repeated. */
export function readFramedBlocks(data: Uint8Array): Block[] {
  const r = new BufferReader(data);
  const blocks: Block[] = [];
  while (r.remaining > 0) {
    if (r.u32('magic') !== 0xd9b4bef9) throw new Error('bad block frame magic');
    blocks.push(Block.decode(r.bytes(r.u32('length'))));
  }
  return blocks;
}

export function block300025(): { block: Block; spends: Spend[] } {
  const block = Block.decode(readVector('bcoin', 'block300025.raw'));
  return { block, spends: withUndo(block.txs, readUndo(readVector('bcoin', 'block300025-undo.raw'))) };
}

export function block277647(): { block: Block; spends: Spend[] } {
  const [block] = readFramedBlocks(readVector('btcd', '277647.dat'));
  return { block, spends: withUndo(block.txs, readUndo(readVector('btcd', '277647-undo.raw'))) };
}

export function bcoinTx(name: string): Spend {
  const tx = Tx.decode(readVector('bcoin', `${name}.raw`));
  return withUndo([tx], readUndo(readVector('bcoin', `${name}-undo.raw`)))[0];
}
