// BIP23 block proposals: would this block, solved, connect on the tip? (Core's TestBlockValidity
// with fCheckPOW = false.) Owns: the checks a proposal gets without touching the chain's state:
// consensus/checkBlock without proof of work (merkle root, sizes, coinbase position, each
// transaction, legacy sigops), the contextual header and block rules, inputs against the tip's
// UTXO set plus earlier outputs of the same block, BIP68, the coinbase amount and every input
// script under the block's flags. Does not own proof of work (a proposal is unsolved) or storing
// anything. Returns the reject reason, or null when valid.
import type { Chain } from '../chain/chain.js';
import { checkBlock, contextualCheckBlock, contextualCheckBlockHeader } from '../consensus/block-check.js';
import { checkBlockSigOps, transactionSigOpCount } from '../consensus/block-check.js';
import { Reason, RejectError, consensusError } from '../consensus/errors.js';
import { blockScriptFlags } from '../consensus/flags.js';
import { checkCoinbaseAmount } from '../consensus/subsidy.js';
import {
  type Coin,
  calculateSequenceLocks,
  checkSequenceLocks,
  checkTxInputs,
} from '../consensus/tx-verify.js';
import type { Block } from '../primitives/block.js';
import { equalBytes } from '../primitives/bytes.js';
import { OutPoint, TxOut } from '../primitives/tx.js';
import { ScriptError } from '../script/errors.js';
import { verifyInput } from '../script/interpreter.js';
import type { SigCache } from '../script/sigcache.js';

export type ProposalChain = Pick<
  Chain,
  'tip' | 'params' | 'getCoins' | 'medianTimePast' | 'medianTimePastAt' | 'nextWorkRequired'
>;

/**
 * null when the block would be valid on the current tip; otherwise Core's reject reason. A
 * signature cache (the mempool's) spares re-verifying what the pool already verified.
 */
export async function checkProposal(
  chain: ProposalChain,
  block: Block,
  now: number,
  sigCache?: SigCache,
): Promise<string | null> {
  try {
    await validate(chain, block, now, sigCache);
    return null;
  } catch (e) {
    if (e instanceof RejectError) return e.reason;
    throw e;
  }
}

async function validate(chain: ProposalChain, block: Block, now: number, sigCache?: SigCache): Promise<void> {
  const params = chain.params;
  const tip = chain.tip;
  if (!equalBytes(block.header.prevHash, tip.hash))
    throw new RejectError('inconclusive-not-best-prevblk', 'internal');
  const height = tip.height + 1;
  const mtp = chain.medianTimePast(tip);

  checkBlock(block, params, { checkPow: false });

  contextualCheckBlockHeader(
    block.header,
    { height, medianTimePast: mtp, expectedBits: chain.nextWorkRequired(tip) },
    params,
    now,
  );
  contextualCheckBlock(block, { height, medianTimePast: mtp }, params);

  // Coins: the tip's UTXO set, then the outputs of earlier transactions in this block.
  const spent = new Set<string>();
  const created = new Map<string, Coin>();
  const confirmed = new Map<string, Coin | undefined>();
  const wanted = block.txs.slice(1).flatMap((t) => t.inputs.map((i) => i.prevout));
  const fetched = await chain.getCoins(wanted);
  wanted.forEach((op, i) => confirmed.set(op.key(), fetched[i]));
  const flags = blockScriptFlags(height, block.hash(), params);
  let fees = 0n;
  let sigops = 0;
  for (const [n, tx] of block.txs.entries()) {
    if (n > 0) {
      const coins = tx.inputs.map((input) => {
        const key = input.prevout.key();
        const coin = spent.has(key) ? undefined : (created.get(key) ?? confirmed.get(key));
        if (!coin) throw consensusError(Reason.INPUTS_MISSINGORSPENT, `tx ${tx.txidHex()} input ${key}`);
        spent.add(key);
        return coin;
      });
      const view = {
        getCoin: (op: OutPoint) => coins[tx.inputs.findIndex((i) => i.prevout.key() === op.key())],
      };
      fees += checkTxInputs(tx, view, height, params);
      const locks = calculateSequenceLocks(
        tx,
        coins.map((c) => c.height),
        (h) => chain.medianTimePastAt(h),
        height >= params.csvHeight,
      );
      checkSequenceLocks(locks, height, mtp, 'block');
      const scripts = coins.map((c) => c.script);
      sigops += transactionSigOpCount(tx, scripts, height >= params.bip16Height);
      for (let i = 0; i < tx.inputs.length; i++) {
        try {
          verifyInput(tx, i, new TxOut(coins[i].value, coins[i].script), flags, sigCache);
        } catch (e) {
          if (e instanceof ScriptError)
            throw consensusError(`mandatory-script-verify-flag-failed (${e.code})`);
          throw e;
        }
      }
    } else sigops += transactionSigOpCount(tx, [], false);
    checkBlockSigOps(sigops, params);
    const txid = tx.txid();
    tx.outputs.forEach((o, i) =>
      created.set(new OutPoint(txid, i).key(), {
        value: o.value,
        script: o.scriptPubKey,
        height,
        coinbase: n === 0,
      }),
    );
  }
  checkCoinbaseAmount(block, fees, height, params);
}
