// addrindex: for every output script (so every address), the transactions of the active chain
// that paid it or spent from it, for the explorer's address page (balance and history). Built in
// the background like txindex (base.ts); needs the blocks' undo data to know which script an
// input spent. One row per (script, block, transaction): key 'a' + sha256(script) + height (4,
// big-endian, so a prefix scan is in chain order) + block hash + position in the block; value
// txid + received + spent. Rows of a block that a reorg left behind stay (as txindex's): readers
// keep only rows whose block is on the active chain, and the block at that height replaces them.
import { createHash } from 'node:crypto';
import type { Block } from '../primitives/block.js';
import type { BlockUndo } from '../chain/ports.js';
import { BaseIndex, type Put } from './base.js';
import type { IndexBlockRef } from './ports.js';

const ADDR = 0x61; // 'a'
const KEY_BYTES = 1 + 32 + 4 + 32 + 4;

/** One transaction's effect on a script. */
export interface AddrHistoryRow {
  /** Display hex. */
  txid: string;
  /** Display hex. */
  blockHash: string;
  height: number;
  /** Base units paid to the script by this transaction's outputs. */
  received: bigint;
  /** Base units of the script's outputs this transaction spent. */
  spent: bigint;
}

function scriptKey(script: Uint8Array): Buffer {
  return createHash('sha256').update(script).digest();
}

const displayHex = (b: Uint8Array) => Buffer.from(b).reverse().toString('hex');

export class AddrIndex extends BaseIndex {
  protected readonly needsUndo = true;

  readonly name = 'addrindex';

  protected blockPuts(block: Block, ref: IndexBlockRef, undo: BlockUndo | undefined): Promise<Put[]> {
    if (block.txs.length > 1 && undo === undefined)
      return Promise.reject(new Error(`undo data of block ${ref.height} is missing`));
    const puts: Put[] = [];
    block.txs.forEach((tx, pos) => {
      const rows = new Map<string, { script: Uint8Array; received: bigint; spent: bigint }>();
      const row = (script: Uint8Array) => {
        const k = Buffer.from(script).toString('hex');
        let r = rows.get(k);
        if (!r) rows.set(k, (r = { script, received: 0n, spent: 0n }));
        return r;
      };
      for (const o of tx.outputs) if (o.scriptPubKey.length > 0) row(o.scriptPubKey).received += o.value;
      if (pos > 0) for (const coin of undo![pos - 1]) row(coin.script).spent += coin.value;
      const txid = tx.txid();
      for (const r of rows.values()) {
        const key = Buffer.alloc(KEY_BYTES);
        key[0] = ADDR;
        scriptKey(r.script).copy(key, 1);
        key.writeUInt32BE(ref.height, 33);
        key.set(ref.hash, 37);
        key.writeUInt32BE(pos, 69);
        const value = Buffer.alloc(48);
        value.set(txid, 0);
        value.writeBigInt64LE(r.received, 32);
        value.writeBigInt64LE(r.spent, 40);
        puts.push([Uint8Array.from(key), Uint8Array.from(value)]);
      }
    });
    return Promise.resolve(puts);
  }

  /**
   * The script's rows on the active chain, oldest first, at most `limit` of the newest (all rows
   * are read to sum the balance; the explorer pages the list it shows).
   */
  async history(
    script: Uint8Array,
    limit = 1000,
  ): Promise<{ rows: AddrHistoryRow[]; total: number; received: bigint; spent: bigint }> {
    const prefix = Buffer.concat([Buffer.of(ADDR), scriptKey(script)]);
    const end = Buffer.concat([prefix, Buffer.alloc(KEY_BYTES - prefix.length, 0xff)]);
    const rows: AddrHistoryRow[] = [];
    let total = 0;
    let received = 0n;
    let spent = 0n;
    for await (const [k, v] of this.db.iterator({
      gte: Uint8Array.from(prefix),
      lte: Uint8Array.from(end),
    })) {
      const key = Buffer.from(k);
      const blockHash = key.subarray(37, 69);
      if (!this.chain.isActive(blockHash)) continue;
      const value = Buffer.from(v);
      const row: AddrHistoryRow = {
        txid: displayHex(value.subarray(0, 32)),
        blockHash: displayHex(blockHash),
        height: key.readUInt32BE(33),
        received: value.readBigInt64LE(32),
        spent: value.readBigInt64LE(40),
      };
      total++;
      received += row.received;
      spent += row.spent;
      rows.push(row);
      if (rows.length > limit) rows.shift();
    }
    return { rows, total, received, spent };
  }
}
