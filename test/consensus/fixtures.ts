// Hand-made transactions for the consensus rule tests: small, deterministic, no signatures
// (the rules here never run scripts).
import assert from 'node:assert/strict';
import { sha256d } from '../../src/crypto/hash.js';
import { NULL_HASH, OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { RejectError } from '../../src/consensus/errors.js';
import type { Coin, CoinView } from '../../src/consensus/tx-verify.js';

/** A deterministic fake txid (internal order). */
export function fakeTxid(n: number): Uint8Array {
  return sha256d(Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, 0x7a));
}

export const OP_TRUE_SCRIPT = Uint8Array.of(0x51);

export function outpoint(n: number, index = 0): OutPoint {
  return new OutPoint(fakeTxid(n), index);
}

export function spend(
  prevouts: OutPoint[],
  values: bigint[],
  opts: { version?: number; locktime?: number; sequences?: number[] } = {},
): Tx {
  return new Tx(
    opts.version ?? 1,
    prevouts.map((p, i) => new TxIn(p, new Uint8Array(0), opts.sequences?.[i] ?? 0xffffffff)),
    values.map((v) => new TxOut(v, OP_TRUE_SCRIPT)),
    opts.locktime ?? 0,
  );
}

export function coinbase(scriptSig: Uint8Array, values: bigint[] = [50n * 100_000_000n]): Tx {
  return new Tx(
    1,
    [new TxIn(new OutPoint(NULL_HASH, 0xffffffff), scriptSig)],
    values.map((v) => new TxOut(v, OP_TRUE_SCRIPT)),
    0,
  );
}

/** Asserts fn throws a RejectError with this reason and returns it for further checks. */
export function assertReject(fn: () => unknown, reason: string): RejectError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof RejectError, `expected RejectError ${reason}, got ${String(caught)}`);
  assert.equal(caught.reason, reason);
  return caught;
}

/** A CoinView over a plain map, keyed by OutPoint.key(). */
export class MapCoinView implements CoinView {
  readonly coins = new Map<string, Coin>();
  add(op: OutPoint, coin: Partial<Coin> & { value: bigint }): this {
    this.coins.set(op.key(), { script: OP_TRUE_SCRIPT, height: 1, coinbase: false, ...coin });
    return this;
  }
  getCoin(op: OutPoint): Coin | undefined {
    return this.coins.get(op.key());
  }
}
