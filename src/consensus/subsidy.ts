// Block subsidy and the coinbase amount rule. The subsidy halves every halvingInterval blocks
// and is zero from the 64th halving on (a shift by 64 or more is undefined in C++, so Core stops
// there explicitly; bigint would give 0 anyway, but the rule is stated, not inherited).
import type { Block } from '../primitives/block.js';
import { Reason, consensusError } from './errors.js';

/** The parameter fields the subsidy reads; ChainParams satisfies it. */
export interface SubsidyParams {
  initialSubsidy: bigint;
  halvingInterval: number;
}

export function blockSubsidy(height: number, params: SubsidyParams): bigint {
  const halvings = Math.floor(height / params.halvingInterval);
  if (halvings >= 64) return 0n;
  return params.initialSubsidy >> BigInt(halvings);
}

/**
 * Checked when the block is connected, once the fees are known (Core's ConnectBlock):
 * the coinbase may claim at most subsidy + fees. Claiming less is allowed (the rest is burnt).
 */
export function checkCoinbaseAmount(block: Block, fees: bigint, height: number, params: SubsidyParams): void {
  const limit = fees + blockSubsidy(height, params);
  let paid = 0n;
  for (const o of block.txs[0].outputs) paid += o.value;
  if (paid > limit)
    throw consensusError(Reason.CB_AMOUNT, `coinbase pays too much (actual=${paid} vs limit=${limit})`);
}
