// The one-time move from the layout before blocks/ (schema 1: blocks, undo data and the index
// in chainstate/ beside the coins) to Core's: every stored block and its undo data appended to
// the block files, the index entries written to blocks/index/ with their positions, then
// chainstate/ marked schema 2 and the moved records deleted from it. Chosen over refusing the old
// layout because --reindex cannot rebuild anything without the blocks it would have to re-download.
// Crash safety: until the schema-2 mark is written, chainstate/ is untouched and whatever is in
// blocks/ came from this migration, so an interrupted one is thrown away and started over; after
// the mark, the leftover records are deleted again at every open (a no-op once they are gone).
import type { ClassicLevel } from 'classic-level';
import { ChainCorruptionError, type IndexRecord } from '../chain/ports.js';
import { reverseHex } from '../primitives/bytes.js';
import type { BlockFiles } from './block-files.js';
import {
  type BlockLocation,
  META_VERSION,
  P_BLOCK,
  P_INDEX,
  P_UNDO,
  SCHEMA_VERSION,
  decodeIndex,
  decodeOrCorrupt,
  encodeIndexEntry,
  hashKey,
  range,
} from './records.js';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/** Blocks moved per write of the block files (one fsync each). */
const STEP = 256;

export async function migrateLegacy(
  state: Db,
  index: Db,
  files: BlockFiles,
  note?: (msg: string) => void,
): Promise<void> {
  note?.('moving blocks and undo data from chainstate/ to blocks/ (once)');
  await files.removeAll();
  await index.clear(range(P_INDEX));
  const records: [Uint8Array, IndexRecord][] = [];
  for await (const [k, v] of state.iterator(range(P_INDEX)))
    records.push([k.slice(1), decodeOrCorrupt(`index entry ${reverseHex(k.subarray(1))}`, v, decodeIndex)]);
  // Height order keeps the files in chain order, as a fresh sync writes them.
  records.sort((a, b) => a[1].height - b[1].height);
  let moved = 0;
  for (let i = 0; i < records.length; i += STEP) {
    const step = records.slice(i, i + STEP);
    const raws = await state.getMany(step.map(([h]) => hashKey(P_BLOCK, h)));
    const undos = await state.getMany(step.map(([h]) => hashKey(P_UNDO, h)));
    const locs: (BlockLocation | undefined)[] = step.map(() => undefined);
    await files.append(
      step.flatMap((_, j) =>
        raws[j] === undefined
          ? []
          : [
              {
                kind: 'blk' as const,
                data: raws[j],
                done: (p) => (locs[j] = { file: p.file, data: p.pos, undo: -1 }),
              },
            ],
      ),
    );
    await files.append(
      step.flatMap(([h], j) => {
        const loc = locs[j];
        const undo = undos[j];
        if (undo === undefined) return [];
        if (!loc)
          throw new ChainCorruptionError(
            `database corrupted: undo data of ${reverseHex(h)} without its block`,
          );
        return [
          { kind: 'rev' as const, file: loc.file, data: undo, hash: h, done: (p) => (loc.undo = p.pos) },
        ];
      }),
    );
    await files.sync();
    await index.batch(
      step.map(([h, rec], j) => ({
        type: 'put' as const,
        key: hashKey(P_INDEX, h),
        value: encodeIndexEntry(rec, locs[j]),
      })),
      { sync: true },
    );
    moved += raws.filter((r) => r !== undefined).length;
  }
  await state.put(META_VERSION, Uint8Array.of(SCHEMA_VERSION), { sync: true });
  await dropLegacy(state);
  note?.(`moved ${moved} blocks to blocks/`);
}

/** Deletes the records schema 1 kept in chainstate/ (after a migration, even an interrupted one). */
export async function dropLegacy(state: Db): Promise<void> {
  for (const p of [P_BLOCK, P_UNDO, P_INDEX]) await state.clear(range(p));
}
