// txindex (Core's -txindex): txid -> the hash of the block that holds it, for every block of the
// active chain, so getrawtransaction and /rest/tx find any confirmed transaction. A transaction
// in two blocks of competing branches maps to the last one indexed; the reader checks it is in
// the block it names.
import type { Block } from '../primitives/block.js';
import { BaseIndex, type Put } from './base.js';
import type { IndexBlockRef } from './ports.js';

const TX = 0x74; // 't' + txid (internal order) -> block hash

export class TxIndex extends BaseIndex {
  protected readonly needsUndo = false;

  readonly name = 'txindex';

  protected blockPuts(block: Block, ref: IndexBlockRef): Promise<Put[]> {
    return Promise.resolve(block.txs.map((tx) => [Uint8Array.from([TX, ...tx.txid()]), ref.hash]));
  }

  /** The hash of the block holding `txid` (internal order), if indexed. */
  async blockOf(txid: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(Uint8Array.from([TX, ...txid]));
  }
}
