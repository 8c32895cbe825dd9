// blockfilterindex (Core's -blockfilterindex=basic): the BIP158 basic filter and filter header of
// every block of the active chain, keyed by block hash (a header chains to its parent's, so
// blocks of a branch left behind keep correct entries and a reorg needs no deletes).
import type { Block } from '../primitives/block.js';
import type { BlockUndo } from '../chain/ports.js';
import { BaseIndex, type Put } from './base.js';
import { basicFilterItems, buildBasicFilter, filterHeader } from './bip158.js';
import type { IndexBlockRef } from './ports.js';

const FILTER = 0x66; // 'f' + block hash -> header (32) + filter

export interface StoredFilter {
  filter: Uint8Array;
  /** Internal byte order. */
  header: Uint8Array;
}

export class BlockFilterIndex extends BaseIndex {
  protected readonly needsUndo = true;

  readonly name = 'basic block filter index';

  protected async blockPuts(block: Block, ref: IndexBlockRef, undo: BlockUndo | undefined): Promise<Put[]> {
    if (block.txs.length > 1 && undo === undefined)
      throw new Error(`undo data of block ${ref.height} is missing`);
    const outputs = block.txs.flatMap((t) => t.outputs.map((o) => o.scriptPubKey));
    const spent = (undo ?? []).flatMap((coins) => coins.map((c) => c.script));
    const filter = buildBasicFilter(ref.hash, basicFilterItems(outputs, spent));
    let prevHeader: Uint8Array = new Uint8Array(32);
    if (ref.height > 0) {
      const prev = await this.get(block.header.prevHash);
      if (!prev) throw new Error(`filter of the parent of block ${ref.height} is missing`);
      prevHeader = prev.header;
    }
    return [
      [
        Uint8Array.from([FILTER, ...ref.hash]),
        Uint8Array.from([...filterHeader(filter, prevHeader), ...filter]),
      ],
    ];
  }

  async get(hash: Uint8Array): Promise<StoredFilter | undefined> {
    const v = await this.db.get(Uint8Array.from([FILTER, ...hash]));
    return v === undefined ? undefined : { header: v.slice(0, 32), filter: v.slice(32) };
  }
}
