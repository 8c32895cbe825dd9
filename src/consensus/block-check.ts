// Block rules (Bitcoin Core's CheckBlockHeader, CheckBlock, ContextualCheckBlockHeader,
// ContextualCheckBlock), pre-SegWit. Context-free checks need only the block and the parameters;
// contextual ones take the facts about the parent that the chain supplies (height, median time
// past, the bits the retarget rule expects) and the caller's clock. Checks against the UTXO set
// (inputs, fees, P2SH sigops, BIP30, sequence locks, bad-cb-amount) run when the chain connects
// the block, with tx-verify.ts and subsidy.ts. Throws RejectError.
import type { Block, BlockHeader } from '../primitives/block.js';
import { equalBytes } from '../primitives/bytes.js';
import { getLegacySigOpCount, getP2SHSigOpCount } from '../script/sigops.js';
import type { Tx } from '../primitives/tx.js';
import type { ChainParams } from './params.js';
import { checkProofOfWork } from './pow.js';
import { checkCoinbaseHeight } from './coinbase.js';
import { Reason, RejectError, consensusError, mutatedError } from './errors.js';
import { checkTransaction } from './tx-check.js';
import { isFinalTx, lockTimeCutoff } from './tx-verify.js';

/** How far ahead of the node's clock a block's time may be (Core's MAX_FUTURE_BLOCK_TIME). */
export const MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60;

/** Proof of work alone: the hash meets the target its own bits claim (and bits are in range). */
export function checkBlockHeader(header: BlockHeader, params: ChainParams): void {
  if (!checkProofOfWork(header.hash(), header.bits, params)) {
    throw consensusError(Reason.HIGH_HASH, 'proof of work failed');
  }
}

/**
 * Everything that can be checked without the chain. The merkle checks come before the size and
 * transaction checks, as in Core, and report corruptionPossible: a block whose transactions do
 * not match its header (or whose tree is CVE-2012-2459 mutated) may be an honest block damaged or
 * padded in transit, so its hash must not be marked invalid.
 */
export function checkBlock(block: Block, params: ChainParams, opts: { checkPow?: boolean } = {}): void {
  // An unsolved block (a BIP23 proposal) is checked for everything but its proof of work, as
  // Core's CheckBlock with fCheckPOW = false.
  if (opts.checkPow !== false) checkBlockHeader(block.header, params);

  const { root, mutated } = block.merkle();
  if (!equalBytes(root, block.header.merkleRoot))
    throw mutatedError(Reason.TXNMRKLROOT, 'hashMerkleRoot mismatch');
  if (mutated) throw mutatedError(Reason.TXNS_DUPLICATE, 'duplicate transaction');

  if (block.txs.length === 0 || block.txs.length > params.maxBlockSize || block.size > params.maxBlockSize) {
    throw consensusError(
      Reason.BLK_LENGTH,
      `size limits failed (${block.txs.length} txs, ${block.size} bytes)`,
    );
  }

  if (!block.txs[0].isCoinbase()) throw consensusError(Reason.CB_MISSING, 'first tx is not coinbase');
  for (let i = 1; i < block.txs.length; i++) {
    if (block.txs[i].isCoinbase())
      throw consensusError(Reason.CB_MULTIPLE, `more than one coinbase (tx ${i})`);
  }

  for (const tx of block.txs) {
    try {
      checkTransaction(tx);
    } catch (e) {
      if (e instanceof RejectError) {
        throw consensusError(
          e.reason,
          `transaction check failed (tx ${tx.txidHex()}) ${e.debug ?? ''}`.trim(),
        );
      }
      throw e;
    }
  }

  let sigops = 0;
  for (const tx of block.txs) sigops += getLegacySigOpCount(tx);
  if (sigops > params.maxBlockSigops)
    throw consensusError(Reason.BLK_SIGOPS, `out-of-bounds SigOpCount ${sigops}`);
}

/**
 * Sigops a transaction adds when connected: legacy ones (as checkBlock counts) plus, with P2SH
 * active, those of the redeem scripts it spends. prevScripts[i] is input i's coin script. The
 * chain sums this over a block and rejects bad-blk-sigops above params.maxBlockSigops.
 */
export function transactionSigOpCount(tx: Tx, prevScripts: Uint8Array[], p2sh: boolean): number {
  let n = getLegacySigOpCount(tx);
  if (p2sh && !tx.isCoinbase()) n += getP2SHSigOpCount(tx, prevScripts);
  return n;
}

/** Throws bad-blk-sigops when a connect-time running total passes the limit. */
export function checkBlockSigOps(total: number, params: Pick<ChainParams, 'maxBlockSigops'>): void {
  if (total > params.maxBlockSigops) throw consensusError(Reason.BLK_SIGOPS, `too many sigops (${total})`);
}

export interface HeaderContext {
  /** Height of this header. */
  height: number;
  /** Median time past of the parent (the last 11 blocks ending at the parent). */
  medianTimePast: number;
  /** The bits the retarget rule requires for this height (getNextWorkRequired on the parent). */
  expectedBits: number;
}

/**
 * Header rules that depend on the parent. `now` is the node's (network-adjusted) clock in Unix
 * seconds. time-too-new is reported with corruptionPossible: the same header becomes acceptable
 * once the clock catches up, so it must not be cached as invalid, and it costs the peer nothing.
 */
export function contextualCheckBlockHeader(
  header: BlockHeader,
  ctx: HeaderContext,
  params: ChainParams,
  now: number,
): void {
  if (header.bits !== ctx.expectedBits) {
    throw consensusError(
      Reason.DIFFBITS,
      `incorrect proof of work (bits ${hex32(header.bits)}, expected ${hex32(ctx.expectedBits)})`,
    );
  }
  if (header.time <= ctx.medianTimePast) {
    throw consensusError(
      Reason.TIME_TOO_OLD,
      `block's timestamp ${header.time} is not after median time past ${ctx.medianTimePast}`,
    );
  }
  if (header.time > now + MAX_FUTURE_BLOCK_TIME) {
    throw new RejectError(Reason.TIME_TOO_NEW, 'consensus', {
      debug: `block timestamp ${header.time} too far in the future (now ${now})`,
      dos: 0,
      corruptionPossible: true,
    });
  }
  // Once a soft fork keyed to a version is active, older versions are rejected (BIP34/66/65).
  const h = ctx.height;
  if (
    (header.version < 2 && h >= params.bip34Height) ||
    (header.version < 3 && h >= params.bip66Height) ||
    (header.version < 4 && h >= params.bip65Height)
  ) {
    throw consensusError(
      `${Reason.BAD_VERSION}(${hex32(header.version >>> 0)})`,
      `rejected nVersion=${hex32(header.version >>> 0)} block`,
    );
  }
}

export interface BlockContext {
  /** Height of this block. */
  height: number;
  /** Median time past of the parent. */
  medianTimePast: number;
}

/** Block rules that depend on the parent but not on the UTXO set: finality (BIP113) and BIP34. */
export function contextualCheckBlock(block: Block, ctx: BlockContext, params: ChainParams): void {
  const cutoff = lockTimeCutoff(ctx.height, block.header.time, ctx.medianTimePast, params);
  for (const tx of block.txs) {
    if (!isFinalTx(tx, ctx.height, cutoff)) {
      throw consensusError(Reason.NONFINAL, `non-final transaction ${tx.txidHex()}`);
    }
  }
  if (ctx.height >= params.bip34Height) {
    // checkBlock has normally run first; without it there may be no coinbase to read.
    if (block.txs.length === 0) throw consensusError(Reason.CB_MISSING, 'no transactions');
    checkCoinbaseHeight(block.txs[0], ctx.height);
  }
}

function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
