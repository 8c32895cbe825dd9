// The aserti3-2d difficulty rule (Bitcoin Cash, spec 2020-11-15-asert.md), integer-only.
// Owns: the target for the next block from an anchor block, by exponential response to how far
// the chain is ahead of or behind its ideal schedule. Does not own: choosing the anchor
// (retarget.ts does: Tally anchors at genesis). Pure bigint arithmetic; never throws for
// parameters within the ranges the spec allows.

const RADIX = 65536n;

export interface AsertParams {
  /** Ideal seconds between blocks. */
  targetSpacing: number;
  /** Seconds of schedule drift that double (or halve) the target. */
  halfLife: number;
  /** Largest allowed target. */
  powLimit: bigint;
}

/**
 * Target for the block after one that is `heightDiff` blocks above the anchor and whose time is
 * `timeDiff` seconds after the anchor's parent. The anchor's own target is `anchorTarget`.
 *
 * next = anchorTarget * 2^((timeDiff - spacing * (heightDiff + 1)) / halfLife), with the exponent
 * in 16.16 fixed point and 2^frac by the spec's cubic, so every node gets the same bits.
 */
export function calculateAsert(
  anchorTarget: bigint,
  timeDiff: number,
  heightDiff: number,
  p: AsertParams,
): bigint {
  if (anchorTarget <= 0n || anchorTarget > p.powLimit)
    throw new RangeError('asert: anchor target out of range');
  if (!Number.isSafeInteger(timeDiff) || !Number.isSafeInteger(heightDiff) || heightDiff < 0) {
    throw new RangeError('asert: time and height differences must be safe integers, height not negative');
  }
  const spacing = BigInt(p.targetSpacing);
  // BigInt division truncates toward zero, exactly as the reference's int64 division.
  const exponent = ((BigInt(timeDiff) - spacing * (BigInt(heightDiff) + 1n)) * RADIX) / BigInt(p.halfLife);
  // An arithmetic right shift floors, so frac lands in [0, 65536) for negative exponents too.
  let shifts = exponent >> 16n;
  const frac = exponent - shifts * RADIX;
  // 2^x ~ 1 + 0.695502049x + 0.2262698x^2 + 0.0782318x^3 on [0, 1), scaled by 2^16 (error < 0.013%).
  const factor =
    RADIX +
    ((195766423245049n * frac + 971821376n * frac * frac + 5127n * frac * frac * frac + (1n << 47n)) >> 48n);
  let next = anchorTarget * factor;
  shifts -= 16n;
  if (shifts <= 0n) {
    next >>= -shifts;
  } else if (shifts >= 256n) {
    // Far behind schedule; also keeps a hostile timestamp from asking for a gigantic shift.
    next = p.powLimit;
  } else {
    // The reference works in 256 bits; a shift that would lose high bits means "above the limit".
    const shifted = next << shifts;
    next = shifted >> 256n !== 0n ? p.powLimit : shifted;
  }
  if (next === 0n) return 1n;
  return next > p.powLimit ? p.powLimit : next;
}
