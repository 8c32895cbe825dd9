// Which `bits` the next block must carry.
// Owns: Bitcoin's 2016-block retarget (timespan clamped to [1/4, 4]x, capped at the limit),
// aserti3-2d anchored at genesis (Tally's main and test), and no retarget (regtest). Does not own:
// checking a header's bits against this (block-check.ts) or walking the block index (chain/, which
// hands in `getAncestor`). Throws only on a caller error (an ancestor the chain does not have).
import { calculateAsert } from './asert.js';
import type { ChainParams } from './params.js';
import { compactToTarget, targetToCompact } from './pow.js';

const MASK_256 = (1n << 256n) - 1n;

export interface HeaderInfo {
  height: number;
  time: number;
  bits: number;
}

/** Bits required for the block after `prev`; `getAncestor(h)` returns the header at height h <= prev.height. */
export function getNextWorkRequired(
  prev: HeaderInfo,
  getAncestor: (height: number) => HeaderInfo,
  params: ChainParams,
): number {
  const rule = params.retarget;
  switch (rule.kind) {
    case 'none':
      return params.powLimitBits;
    case 'bitcoin': {
      if ((prev.height + 1) % rule.interval !== 0) return prev.bits;
      const first = getAncestor(prev.height - (rule.interval - 1));
      return bitcoinRetarget(prev, first.time, rule.targetTimespan, params.powLimit);
    }
    case 'asert': {
      // Anchored at genesis: its parent is taken to be one spacing before it, so the block after
      // genesis, on schedule, keeps genesis's target.
      const genesis = params.genesis.header;
      const anchorParentTime = genesis.time - params.targetSpacing;
      const next = calculateAsert(
        compactToTarget(genesis.bits).target,
        prev.time - anchorParentTime,
        prev.height,
        {
          targetSpacing: params.targetSpacing,
          halfLife: rule.halfLife,
          powLimit: params.powLimit,
        },
      );
      return targetToCompact(next);
    }
  }
}

/**
 * Core's CalculateNextWorkRequired: scale the last target by the period's actual timespan over
 * the intended one, clamping the timespan to a factor of 4 either way.
 */
export function bitcoinRetarget(
  last: HeaderInfo,
  firstTime: number,
  targetTimespan: number,
  powLimit: bigint,
): number {
  const min = Math.floor(targetTimespan / 4);
  const max = targetTimespan * 4;
  const actual = Math.min(Math.max(last.time - firstTime, min), max);
  // Core multiplies in 256 bits; the wrap cannot happen under any real limit but is kept exact.
  let next = ((compactToTarget(last.bits).target * BigInt(actual)) & MASK_256) / BigInt(targetTimespan);
  if (next > powLimit) next = powLimit;
  return targetToCompact(next);
}

/**
 * Whether `newBits` may follow a header `prev` without knowing the chain below it (Core's
 * PermittedDifficultyTransition, used by headers pre-sync, which keeps no ancestors). Tally's
 * aserti3-2d is anchored at genesis, so the next target depends only on the parent's height and
 * time: the check is exact. No retarget: the limit always. Bitcoin's rule: unchanged inside a
 * period, at a boundary within the factor-4 clamp of the previous target.
 */
export function permittedDifficultyTransition(
  prev: HeaderInfo,
  newBits: number,
  params: ChainParams,
): boolean {
  const rule = params.retarget;
  switch (rule.kind) {
    case 'none':
      return newBits === params.powLimitBits;
    case 'asert':
      // getAncestor is not consulted by the genesis-anchored rule.
      return (
        newBits ===
        getNextWorkRequired(
          prev,
          () => {
            throw new Error('asert needs no ancestor');
          },
          params,
        )
      );
    case 'bitcoin': {
      if ((prev.height + 1) % rule.interval !== 0) return newBits === prev.bits;
      // The largest and smallest targets the clamped timespan allows, each rounded through the
      // compact form as the real retarget would be; the new target must lie between them.
      const largest = compactToTarget(
        bitcoinRetarget({ ...prev, time: rule.targetTimespan * 4 }, 0, rule.targetTimespan, params.powLimit),
      ).target;
      const smallest = compactToTarget(
        bitcoinRetarget(
          { ...prev, time: Math.floor(rule.targetTimespan / 4) },
          0,
          rule.targetTimespan,
          params.powLimit,
        ),
      ).target;
      const { target, negative, overflow } = compactToTarget(newBits);
      if (negative || overflow) return false;
      return target <= largest && target >= smallest;
    }
  }
}
