// Statistics of the UTXO set as Bitcoin Core's kernel/coinstats.cpp computes them for
// gettxoutsetinfo: every coin serialized as Core's TxOutSer (outpoint: txid and u32 index;
// u32 height*2 + coinbase; the output: i64 value and script with its CompactSize length), hashed
// in the coins database's order (txid in internal byte order, then index) for hash_serialized_3
// (double SHA-256 over the concatenation) or as a MuHash3072 set element for muhash; txouts,
// transactions (distinct txids), bogosize (Core's GetBogoSize) and the total amount beside them.
// Pure apart from the hashing: the coins come in as an iterable. Never fails on its own; a read
// error of the iterable propagates.
import { createHash } from 'node:crypto';
import { MuHash3072 } from '../crypto/muhash.js';
import { BufferWriter, equalBytes } from '../primitives/bytes.js';
import type { OutPoint } from '../primitives/tx.js';
import type { StoredCoin } from './ports.js';

export type CoinHashType = 'hash_serialized_3' | 'muhash' | 'none';

/** Core's TxOutSer: the bytes that stand for one coin in both hashes. */
export function coinHashBytes(op: OutPoint, coin: StoredCoin, w = new BufferWriter(64)): Uint8Array {
  w.pos = 0;
  op.write(w);
  return w
    .u32(((coin.height << 1) | (coin.coinbase ? 1 : 0)) >>> 0)
    .i64(coin.value)
    .varBytes(coin.script)
    .finish();
}

/** Core's GetBogoSize: a database-independent measure of one coin's size. */
export function bogoSize(script: Uint8Array): number {
  return 32 + 4 + 4 + 8 + 2 + script.length;
}

/** Running totals of the coinstatsindex after one block, as Core's DBVal (base units). */
export interface CoinStatsTotals {
  muhash: MuHash3072;
  txouts: bigint;
  bogosize: bigint;
  totalAmount: bigint;
  totalSubsidy: bigint;
  totalUnspendable: bigint;
  prevoutSpent: bigint;
  newOutputsExCoinbase: bigint;
  coinbase: bigint;
  unspendableGenesis: bigint;
  unspendableBip30: bigint;
  unspendableScripts: bigint;
  unspendableUnclaimed: bigint;
}

export interface UtxoStats {
  transactions: number;
  txouts: number;
  bogosize: number;
  totalAmount: bigint;
  /** hash_serialized_3 or muhash, internal byte order (Core prints it reversed); absent for 'none'. */
  hash?: Uint8Array;
}

/** Walks the whole set once, as Core's ComputeUTXOStats. */
export async function computeUtxoStats(
  coins: AsyncIterable<[OutPoint, StoredCoin]>,
  type: CoinHashType,
): Promise<UtxoStats> {
  const sha = type === 'hash_serialized_3' ? createHash('sha256') : null;
  const mu = type === 'muhash' ? new MuHash3072() : null;
  const w = new BufferWriter(256);
  const stats: UtxoStats = { transactions: 0, txouts: 0, bogosize: 0, totalAmount: 0n };
  let prev: Uint8Array | null = null;
  for await (const [op, coin] of coins) {
    if (prev === null || !equalBytes(prev, op.hash)) {
      stats.transactions++;
      prev = op.hash;
    }
    stats.txouts++;
    stats.bogosize += bogoSize(coin.script);
    stats.totalAmount += coin.value;
    if (sha) sha.update(coinHashBytes(op, coin, w));
    else if (mu) mu.insert(coinHashBytes(op, coin, w));
  }
  if (sha) stats.hash = new Uint8Array(createHash('sha256').update(sha.digest()).digest());
  else if (mu) stats.hash = mu.digest();
  return stats;
}
