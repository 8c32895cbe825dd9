// Core's getblockstats figures for one block and the coins it spent (rpc/blockchain.cpp): sizes,
// fees and fee rates in satoshis (integers, as Core prints them), percentiles weighted by weight,
// truncated medians, and the UTXO-set growth with Core's PER_UTXO_OVERHEAD. Pure: the block and
// its undo data come in as arguments. Pre-SegWit, so weight is 4 x size and the sw* fields are 0.
import type { Block } from '../primitives/block.js';
import { blockSubsidy, type SubsidyParams } from '../consensus/subsidy.js';
import { isUnspendable } from '../script/script.js';
import { compactSizeLength } from '../primitives/bytes.js';

/** The coin an input spent: value and script (Core's undo data). */
export interface SpentCoin {
  value: bigint;
  script: Uint8Array;
}

/** sizeof(COutPoint) + sizeof(uint32_t) + sizeof(bool): what Core counts per UTXO beyond the output. */
const PER_UTXO_OVERHEAD = 41;
const WITNESS_SCALE_FACTOR = 4;

export const BLOCK_STATS = [
  'avgfee',
  'avgfeerate',
  'avgtxsize',
  'blockhash',
  'feerate_percentiles',
  'height',
  'ins',
  'maxfee',
  'maxfeerate',
  'maxtxsize',
  'medianfee',
  'mediantime',
  'mediantxsize',
  'minfee',
  'minfeerate',
  'mintxsize',
  'outs',
  'subsidy',
  'swtotal_size',
  'swtotal_weight',
  'swtxs',
  'time',
  'total_out',
  'total_size',
  'total_weight',
  'totalfee',
  'txs',
  'utxo_increase',
  'utxo_size_inc',
  'utxo_increase_actual',
  'utxo_size_inc_actual',
] as const;

/** Serialized size of a CTxOut: 8-byte value, CompactSize length, script. */
function outputSize(script: Uint8Array): number {
  return 8 + compactSizeLength(script.length) + script.length;
}

/** Core's CalculateTruncatedMedian: the mean of the middle two, in integer arithmetic. */
function truncatedMedian(xs: bigint[]): bigint {
  if (xs.length === 0) return 0n;
  const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = s.length >> 1;
  return s.length % 2 === 0 ? (s[mid - 1] + s[mid]) / 2n : s[mid];
}

/** Core's CalculatePercentilesByWeight: the 10th, 25th, 50th, 75th and 90th by weight. */
function percentilesByWeight(scores: [bigint, number][], totalWeight: number): bigint[] {
  const out: bigint[] = [0n, 0n, 0n, 0n, 0n];
  if (scores.length === 0) return out;
  scores.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const marks = [
    totalWeight / 10,
    totalWeight / 4,
    totalWeight / 2,
    (totalWeight * 3) / 4,
    (totalWeight * 9) / 10,
  ];
  let next = 0;
  let cumulative = 0;
  for (const [rate, weight] of scores) {
    cumulative += weight;
    while (next < marks.length && cumulative >= marks[next]) out[next++] = rate;
  }
  for (let i = next; i < out.length; i++) out[i] = scores[scores.length - 1][0];
  return out;
}

const minMax = (xs: bigint[]) =>
  xs.length === 0
    ? { min: 0n, max: 0n }
    : { min: xs.reduce((a, b) => (b < a ? b : a)), max: xs.reduce((a, b) => (b > a ? b : a)) };

/**
 * Every statistic of Core's getblockstats. `spent[i][j]` is the coin spent by input j of
 * transaction i + 1 (the coinbase spends none).
 */
export function blockStats(
  block: Block,
  spent: readonly (readonly SpentCoin[])[],
  ctx: { height: number; hashHex: string; medianTime: number; params: SubsidyParams },
): Record<(typeof BLOCK_STATS)[number], unknown> {
  let ins = 0;
  let outs = 0;
  let totalOut = 0n;
  let totalSize = 0;
  let utxoSizeInc = 0;
  let utxoSizeIncActual = 0;
  let utxoIncActual = 0;
  const fees: bigint[] = [];
  const feerates: bigint[] = [];
  const sizes: bigint[] = [];
  const scores: [bigint, number][] = [];
  block.txs.forEach((tx, i) => {
    outs += tx.outputs.length;
    let txOut = 0n;
    for (const o of tx.outputs) {
      txOut += o.value;
      const size = outputSize(o.scriptPubKey) + PER_UTXO_OVERHEAD;
      utxoSizeInc += size;
      if (!isUnspendable(o.scriptPubKey)) {
        utxoSizeIncActual += size;
        utxoIncActual++;
      }
    }
    if (i === 0) return;
    ins += tx.inputs.length;
    totalOut += txOut;
    const size = tx.size;
    totalSize += size;
    sizes.push(BigInt(size));
    let txIn = 0n;
    for (const coin of spent[i - 1] ?? []) {
      txIn += coin.value;
      const s = outputSize(coin.script) + PER_UTXO_OVERHEAD;
      utxoSizeInc -= s;
      utxoSizeIncActual -= s;
    }
    const fee = txIn - txOut;
    const weight = size * WITNESS_SCALE_FACTOR;
    const rate = (fee * BigInt(WITNESS_SCALE_FACTOR)) / BigInt(weight);
    fees.push(fee);
    feerates.push(rate);
    scores.push([rate, weight]);
  });
  const others = block.txs.length - 1;
  const totalWeight = totalSize * WITNESS_SCALE_FACTOR;
  const totalFee = fees.reduce((a, b) => a + b, 0n);
  const fee = minMax(fees);
  const rate = minMax(feerates);
  const size = minMax(sizes);
  return {
    avgfee: others > 0 ? totalFee / BigInt(others) : 0n,
    avgfeerate: totalWeight > 0 ? (totalFee * BigInt(WITNESS_SCALE_FACTOR)) / BigInt(totalWeight) : 0n,
    avgtxsize: others > 0 ? Math.floor(totalSize / others) : 0,
    blockhash: ctx.hashHex,
    feerate_percentiles: percentilesByWeight(scores, totalWeight),
    height: ctx.height,
    ins,
    maxfee: fee.max,
    maxfeerate: rate.max,
    maxtxsize: size.max,
    medianfee: truncatedMedian(fees),
    mediantime: ctx.medianTime,
    mediantxsize: truncatedMedian(sizes),
    minfee: fee.min,
    minfeerate: rate.min,
    mintxsize: size.min,
    outs,
    subsidy: blockSubsidy(ctx.height, ctx.params),
    swtotal_size: 0,
    swtotal_weight: 0,
    swtxs: 0,
    time: block.header.time,
    total_out: totalOut,
    total_size: totalSize,
    total_weight: totalWeight,
    totalfee: totalFee,
    txs: block.txs.length,
    utxo_increase: outs - ins,
    utxo_size_inc: utxoSizeInc,
    utxo_increase_actual: utxoIncActual - ins,
    utxo_size_inc_actual: utxoSizeIncActual,
  };
}
