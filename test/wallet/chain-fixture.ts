// A tiny block builder for wallet tests: coinbases with unique heights, blocks chained by hash.
// No proof of work: the wallet trusts the chain it is given.
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { OutPoint, Tx, TxIn, TxOut, NULL_HASH } from '../../src/primitives/tx.js';

export const COIN = 100_000_000n;
export const OTHER_SCRIPT = Uint8Array.of(0x76, 0xa9, 0x14, ...new Uint8Array(20).fill(7), 0x88, 0xac);

export function coinbase(height: number, script: Uint8Array, value = 50n * COIN): Tx {
  const tag = Uint8Array.of(4, height & 0xff, (height >> 8) & 0xff, (height >> 16) & 0xff, 0);
  return new Tx(1, [new TxIn(new OutPoint(NULL_HASH, 0xffffffff), tag)], [new TxOut(value, script)], 0);
}

export function spend(prev: Tx, vout: number, outputs: [bigint, Uint8Array][]): Tx {
  return new Tx(
    2,
    [new TxIn(new OutPoint(prev.txid(), vout), Uint8Array.of(0x51), 0xfffffffe)],
    outputs.map(([v, s]) => new TxOut(v, s)),
    0,
  );
}

export class ChainFixture {
  readonly blocks: Block[] = [];

  tipHash(): Uint8Array {
    return this.blocks.length === 0 ? NULL_HASH : this.blocks[this.blocks.length - 1].hash();
  }

  /** Builds the next block (height = blocks.length) without adding it. */
  next(txs: Tx[], salt = 0): Block {
    const header = new BlockHeader(
      1,
      this.tipHash(),
      new Uint8Array(32),
      1_700_000_000 + this.blocks.length * 600 + salt,
      0x207fffff,
      salt,
    );
    return new Block(header, txs);
  }

  push(block: Block): number {
    this.blocks.push(block);
    return this.blocks.length - 1;
  }

  pop(): Block {
    return this.blocks.pop()!;
  }
}
