// mempool/: what this node relays and keeps for mining, on top of consensus. Owns standardness
// (Core's policy.cpp: IsStandardTx, AreInputsStandard, dust), fee-rate floors and the pool itself.
// Does not own validity: consensus/ decides that, and a policy rejection never scores the peer.
// Fails by throwing RejectError with category 'policy' (or 'consensus' for invalid transactions).
import { Reason as ConsensusReason, RejectError } from '../consensus/errors.js';
import type { Tx, TxOut } from '../primitives/tx.js';
import { BufferWriter } from '../primitives/bytes.js';
import { countP2SHSigOps } from '../script/sigops.js';
import { classifyScript, isPushOnly } from '../script/standard.js';
import { isUnspendable } from '../script/script.js';

export const MAX_STANDARD_TX_SIZE = 100_000;
export const MAX_STANDARD_SCRIPTSIG_SIZE = 1650;
export const MAX_P2SH_SIGOPS = 15;
/** Core's MAX_STANDARD_TX_SIGOPS_COST / WITNESS_SCALE_FACTOR. */
export const MAX_STANDARD_TX_SIGOPS = 4000;
export const MAX_OP_RETURN_RELAY = 83;
export const MAX_STANDARD_MULTISIG_KEYS = 3;
/** Base units per 1,000 bytes. */
export const DEFAULT_MIN_RELAY_FEE_RATE = 1000n;
export const DUST_RELAY_FEE_RATE = 3000n;
/** Core's DEFAULT_INCREMENTAL_RELAY_FEE: what a replacement pays for its own relay, per 1,000 bytes. */
export const DEFAULT_INCREMENTAL_RELAY_FEE_RATE = 1000n;
/** Core's MAX_REPLACEMENT_CANDIDATES (BIP125 rule 5): transactions one replacement may evict. */
export const MAX_REPLACEMENT_CANDIDATES = 100;
export const DEFAULT_ANCESTOR_LIMIT = 25;
export const DEFAULT_DESCENDANT_LIMIT = 25;

export const PolicyReason = {
  VERSION: 'version',
  TX_SIZE: 'tx-size',
  SCRIPTSIG_SIZE: 'scriptsig-size',
  SCRIPTSIG_NOT_PUSHONLY: 'scriptsig-not-pushonly',
  SCRIPTPUBKEY: 'scriptpubkey',
  DUST: 'dust',
  MULTI_OP_RETURN: 'multi-op-return',
  NONSTANDARD_INPUTS: 'bad-txns-nonstandard-inputs',
  TOO_MANY_SIGOPS: 'bad-txns-too-many-sigops',
  COINBASE: 'coinbase',
  NON_FINAL: 'non-final',
  ALREADY_IN_MEMPOOL: 'txn-already-in-mempool',
  ALREADY_KNOWN: 'txn-already-known',
  CONFLICT: 'txn-mempool-conflict',
  INSUFFICIENT_FEE: 'insufficient fee',
  TOO_MANY_REPLACEMENTS: 'too many potential replacements',
  REPLACEMENT_ADDS_UNCONFIRMED: 'replacement-adds-unconfirmed',
  SPENDS_CONFLICTING_TX: 'bad-txns-spends-conflicting-tx',
  MISSING_INPUTS: 'missing-inputs',
  MIN_RELAY_FEE: 'min relay fee not met',
  MEMPOOL_MIN_FEE: 'mempool min fee not met',
  TOO_LONG_CHAIN: 'too-long-mempool-chain',
  MEMPOOL_FULL: 'mempool full',
  NON_BIP68_FINAL: ConsensusReason.NON_BIP68_FINAL,
} as const;

export function policyReject(reason: string, debug?: string): RejectError {
  return new RejectError(reason, 'policy', { debug, dos: 0 });
}

/** Fee for `size` bytes at `rate` base units per 1,000 bytes (Core's CFeeRate::GetFee). */
export function feeForSize(rate: bigint, size: number): bigint {
  const fee = (rate * BigInt(size)) / 1000n;
  return fee === 0n && size !== 0 && rate > 0n ? 1n : fee;
}

/** Core's GetDustThreshold for a non-witness output: the cost of spending it at the dust rate. */
export function dustThreshold(out: TxOut, rate = DUST_RELAY_FEE_RATE): bigint {
  if (isUnspendable(out.scriptPubKey)) return 0n;
  const w = new BufferWriter(out.scriptPubKey.length + 9);
  out.write(w);
  // outpoint 36 + scriptSig length 1 + a 107-byte P2PKH scriptSig + sequence 4.
  return feeForSize(rate, w.pos + 148);
}

export function isDust(out: TxOut, rate = DUST_RELAY_FEE_RATE): boolean {
  return out.value < dustThreshold(out, rate);
}

/** Core's IsStandard for one output script. */
function isStandardOutput(script: Uint8Array): { ok: boolean; nulldata: boolean } {
  const c = classifyScript(script);
  switch (c.type) {
    case 'nonstandard':
      return { ok: false, nulldata: false };
    case 'nulldata':
      return { ok: script.length <= MAX_OP_RETURN_RELAY, nulldata: true };
    case 'multisig':
      return { ok: c.pubkeys.length >= 1 && c.pubkeys.length <= MAX_STANDARD_MULTISIG_KEYS, nulldata: false };
    default:
      return { ok: true, nulldata: false };
  }
}

/** Core's IsStandardTx (legacy only). Throws a policy RejectError. */
export function checkStandardTx(tx: Tx): void {
  if (tx.version < 1 || tx.version > 2) throw policyReject(PolicyReason.VERSION);
  if (tx.size > MAX_STANDARD_TX_SIZE) throw policyReject(PolicyReason.TX_SIZE, `${tx.size} bytes`);
  tx.inputs.forEach((input, i) => {
    if (input.scriptSig.length > MAX_STANDARD_SCRIPTSIG_SIZE) {
      throw policyReject(PolicyReason.SCRIPTSIG_SIZE, `input ${i}`);
    }
    if (!isPushOnly(input.scriptSig)) throw policyReject(PolicyReason.SCRIPTSIG_NOT_PUSHONLY, `input ${i}`);
  });
  let nulldata = 0;
  tx.outputs.forEach((out, i) => {
    const s = isStandardOutput(out.scriptPubKey);
    if (!s.ok) throw policyReject(PolicyReason.SCRIPTPUBKEY, `output ${i}`);
    if (s.nulldata) nulldata++;
    else if (isDust(out))
      throw policyReject(PolicyReason.DUST, `output ${i}: ${out.value} < ${dustThreshold(out)}`);
  });
  if (nulldata > 1) throw policyReject(PolicyReason.MULTI_OP_RETURN);
}

/** Core's AreInputsStandard: spends of standard outputs, P2SH redeem scripts with few sigops. */
export function checkInputsStandard(tx: Tx, prevScripts: readonly Uint8Array[]): void {
  tx.inputs.forEach((input, i) => {
    const c = classifyScript(prevScripts[i]);
    if (c.type === 'nonstandard') throw policyReject(PolicyReason.NONSTANDARD_INPUTS, `input ${i}`);
    if (c.type === 'scripthash') {
      if (input.scriptSig.length === 0) {
        throw policyReject(PolicyReason.NONSTANDARD_INPUTS, `input ${i}: no redeem script`);
      }
      if (countP2SHSigOps(prevScripts[i], input.scriptSig) > MAX_P2SH_SIGOPS) {
        throw policyReject(PolicyReason.NONSTANDARD_INPUTS, `input ${i}: too many P2SH sigops`);
      }
    }
  });
}
