// A fake chain for mempool tests: a coin map and a tip, and P2PKH keys that sign real spends.
import type { Coin } from '../../src/consensus/tx-verify.js';
import { hash160 } from '../../src/crypto/hash.js';
import { publicKeyFromPrivate } from '../../src/crypto/secp256k1.js';
import { OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { p2pkhScript } from '../../src/script/standard.js';
import { signP2PKHInput } from '../../src/wallet/signing.js';
import type { MempoolChain } from '../../src/mempool/mempool.js';

export class FakeChain implements MempoolChain {
  coins = new Map<string, Coin>();
  height = 200;
  mtp = 1_700_000_000;
  tipHeight(): number {
    return this.height;
  }
  tipMedianTimePast(): number {
    return this.mtp;
  }
  medianTimePastAt(h: number): number {
    return this.mtp - (this.height - h) * 600;
  }
  async getCoins(outpoints: readonly OutPoint[]): Promise<(Coin | undefined)[]> {
    return outpoints.map((o) => this.coins.get(o.key()));
  }
}

export class Key {
  readonly pub: Uint8Array;
  readonly script: Uint8Array;
  constructor(readonly sk: Uint8Array) {
    this.pub = publicKeyFromPrivate(sk, true);
    this.script = p2pkhScript(hash160(this.pub));
  }
  static fromSeed(n: number): Key {
    const sk = new Uint8Array(32);
    sk[31] = n;
    sk[0] = 1;
    return new Key(sk);
  }
}

let fundingCounter = 0;

/** Puts a confirmed coin paying `key` into the fake chain and returns its outpoint. */
export function fund(
  chain: FakeChain,
  key: Key,
  value: bigint,
  opts: { height?: number; coinbase?: boolean } = {},
): OutPoint {
  const hash = new Uint8Array(32);
  const n = ++fundingCounter;
  hash[0] = n & 0xff;
  hash[1] = (n >> 8) & 0xff;
  hash[31] = 0xaa;
  const op = new OutPoint(hash, 0);
  chain.coins.set(op.key(), {
    value,
    script: key.script,
    height: opts.height ?? 100,
    coinbase: opts.coinbase ?? false,
  });
  return op;
}

export interface Spend {
  outpoint: OutPoint;
  key: Key;
  sequence?: number;
}

/** A version-2 transaction spending P2PKH coins, each input signed SIGHASH_ALL. */
export function spend(
  inputs: Spend[],
  outputs: { value: bigint; script: Uint8Array }[],
  opts: { locktime?: number; version?: number } = {},
): Tx {
  const unsigned = new Tx(
    opts.version ?? 2,
    inputs.map((i) => new TxIn(i.outpoint, new Uint8Array(0), i.sequence ?? 0xffffffff)),
    outputs.map((o) => new TxOut(o.value, o.script)),
    opts.locktime ?? 0,
  );
  return inputs.reduce(
    (tx, inp, idx) => signP2PKHInput(tx, idx, inp.key.script, inp.key.sk, inp.key.pub),
    unsigned,
  );
}
