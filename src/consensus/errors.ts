// consensus/: Tally's validity rules, pure and synchronous. Inputs (transactions, blocks, UTXO
// views, parameters, the clock) come in as arguments; a verdict comes out. Owns the reject reasons
// and their categories. Does not own storage, chain selection or mempool policy beyond the error
// type. Fails by throwing RejectError, never by returning a flag, so a caller cannot forget a check.

export type RejectCategory = 'consensus' | 'policy' | 'internal';

/**
 * Bitcoin Core's reject reason strings (consensus/validation.h users). They are stable: P2P scores
 * peers by them and RPC reports them, so a rule that fails must use one of these names.
 */
export const Reason = {
  // CheckTransaction (context-free)
  VIN_EMPTY: 'bad-txns-vin-empty',
  VOUT_EMPTY: 'bad-txns-vout-empty',
  OVERSIZE: 'bad-txns-oversize',
  VOUT_NEGATIVE: 'bad-txns-vout-negative',
  VOUT_TOOLARGE: 'bad-txns-vout-toolarge',
  TXOUTTOTAL_TOOLARGE: 'bad-txns-txouttotal-toolarge',
  INPUTS_DUPLICATE: 'bad-txns-inputs-duplicate',
  CB_LENGTH: 'bad-cb-length',
  PREVOUT_NULL: 'bad-txns-prevout-null',
  // Checks against the UTXO view
  INPUTS_MISSINGORSPENT: 'bad-txns-inputs-missingorspent',
  PREMATURE_SPEND_OF_COINBASE: 'bad-txns-premature-spend-of-coinbase',
  INPUTVALUES_OUTOFRANGE: 'bad-txns-inputvalues-outofrange',
  IN_BELOWOUT: 'bad-txns-in-belowout',
  FEE_OUTOFRANGE: 'bad-txns-fee-outofrange',
  ACCUMULATED_FEE_OUTOFRANGE: 'bad-txns-accumulated-fee-outofrange',
  NONFINAL: 'bad-txns-nonfinal',
  NON_BIP68_FINAL: 'non-BIP68-final',
  BIP30: 'bad-txns-BIP30',
  // Blocks
  CB_AMOUNT: 'bad-cb-amount',
  CB_MISSING: 'bad-cb-missing',
  CB_MULTIPLE: 'bad-cb-multiple',
  CB_HEIGHT: 'bad-cb-height',
  BLK_LENGTH: 'bad-blk-length',
  BLK_SIGOPS: 'bad-blk-sigops',
  TXNMRKLROOT: 'bad-txnmrklroot',
  TXNS_DUPLICATE: 'bad-txns-duplicate',
  HIGH_HASH: 'high-hash',
  DIFFBITS: 'bad-diffbits',
  TIME_TOO_OLD: 'time-too-old',
  TIME_TOO_NEW: 'time-too-new',
  BAD_VERSION: 'bad-version',
  PREVBLK: 'bad-prevblk',
} as const;

export type RejectReason = (typeof Reason)[keyof typeof Reason];

export interface RejectOptions {
  debug?: string;
  dos?: number;
  /**
   * The data may have been damaged in transit rather than being invalid by itself (a mutated
   * merkle tree, a wrong merkle root): the caller must not mark the block hash as permanently
   * invalid, only drop this copy (Bitcoin Core's BLOCK_MUTATED).
   */
  corruptionPossible?: boolean;
}

export class RejectError extends Error {
  override readonly name = 'RejectError';
  readonly dos: number;
  readonly debug?: string;
  readonly corruptionPossible: boolean;
  constructor(
    readonly reason: string,
    readonly category: RejectCategory,
    opts: RejectOptions = {},
  ) {
    super(opts.debug ? `${reason} (${opts.debug})` : reason);
    this.dos = opts.dos ?? (category === 'consensus' ? 100 : 0);
    this.debug = opts.debug;
    this.corruptionPossible = opts.corruptionPossible ?? false;
  }
}

export function consensusError(reason: string, debug?: string, dos = 100): RejectError {
  return new RejectError(reason, 'consensus', { debug, dos });
}

/** A block that may be an honest block damaged in transit: reject this copy, keep the hash open. */
export function mutatedError(reason: string, debug?: string): RejectError {
  return new RejectError(reason, 'consensus', { debug, dos: 100, corruptionPossible: true });
}

export function policyError(reason: string, debug?: string): RejectError {
  return new RejectError(reason, 'policy', { debug, dos: 0 });
}

export function internalError(reason: string, debug?: string): RejectError {
  return new RejectError(reason, 'internal', { debug, dos: 0 });
}

export function isRejectError(e: unknown): e is RejectError {
  return e instanceof RejectError;
}
