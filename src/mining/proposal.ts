// BIP23 block proposals: would this block, solved, connect on the tip? (Core's TestBlockValidity
// with fCheckPOW = false.) Owns: running the chain's own rules on a block without storing it:
// consensus/checkBlock without proof of work, the contextual header and block rules, then
// consensus/connectBlock over the tip's UTXO set and every input script inline. Does not own proof
// of work (a proposal is unsolved), any rule of its own, or storing anything. Returns the reject
// reason, or null when valid.
import { checkBlock, contextualCheckBlock, contextualCheckBlockHeader } from '../consensus/block-check.js';
import { OverlayView, connectBlock, connectFetchList, runScriptChecks } from '../consensus/connect.js';
import { RejectError } from '../consensus/errors.js';
import type { Block } from '../primitives/block.js';
import { equalBytes, reverseHex } from '../primitives/bytes.js';
import type { SigCache } from '../script/sigcache.js';
import type { ProposalChain } from './ports.js';

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
  const mtp = chain.medianTimePast();

  // Core's TestBlockValidity order: contextual header, CheckBlock, contextual block, connect.
  contextualCheckBlockHeader(
    block.header,
    { height, medianTimePast: mtp, expectedBits: chain.nextWorkRequired() },
    params,
    now,
  );
  checkBlock(block, params, { checkPow: false });
  contextualCheckBlock(block, { height, medianTimePast: mtp }, params);

  // The one connectBlock the chain runs, over the tip's coins read in one batch; scripts run
  // after every other rule, as the chain reports them.
  const ancestor = chain.getBlockHashAtHeight(params.bip34Height);
  const ctx = {
    height,
    prevMedianTimePast: mtp,
    medianTimePastAt: (h: number) => chain.medianTimePastAt(h),
    bip34Ancestor: ancestor && reverseHex(ancestor),
  };
  const wanted = connectFetchList(block, ctx, params);
  const view = OverlayView.of(wanted, await chain.getCoins(wanted));
  const { scriptChecks } = connectBlock(block, view, ctx, params);
  runScriptChecks(scriptChecks, sigCache);
}
