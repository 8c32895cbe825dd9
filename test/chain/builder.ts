// A reusable block builder for chain tests (after btcd's fullblocktests and Bitcoin Core's
// feature_block.py): regtest blocks on any parent with a BIP34 coinbase, P2PKH spends with real
// signatures, and a hook to corrupt any field before the block is solved.
import { signP2PKHInput } from '../../src/wallet/signing.js';
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { concatBytes } from '../../src/primitives/bytes.js';
import { computeMerkleRoot } from '../../src/primitives/merkle.js';
import { NULL_HASH, OutPoint, Tx, TxIn, TxOut } from '../../src/primitives/tx.js';
import { hash160 } from '../../src/crypto/hash.js';
import { publicKeyFromPrivate } from '../../src/crypto/secp256k1.js';
import { checkProofOfWork } from '../../src/consensus/pow.js';
import { blockSubsidy } from '../../src/consensus/subsidy.js';
import type { ChainParams } from '../../src/consensus/params.js';
import { p2pkhScript, pushData, pushNumber } from '../../src/script/standard.js';

/** An output a test can spend. */
export interface Spendable {
  outpoint: OutPoint;
  value: bigint;
  script: Uint8Array;
}

/** The parts of a block a test may change before it is solved. */
export interface Draft {
  version: number;
  prevHash: Uint8Array;
  time: number;
  bits: number;
  txs: Tx[];
  /** Left undefined: the merkle root of txs. */
  merkleRoot?: Uint8Array;
}

export interface BlockOptions {
  txs?: Tx[];
  /** Seconds after the parent (default 600). */
  timeDelta?: number;
  time?: number;
  /** Added to the subsidy in the coinbase output (pass the fees the block collects). */
  fees?: bigint;
  /** Extra bytes in the coinbase scriptSig (distinguishes sibling blocks). */
  tag?: number;
  /** Change anything before solving. */
  munge?: (d: Draft) => void;
  /** Leave the nonce unsolved (for high-hash). */
  unsolved?: boolean;
}

/** A fixed private key so runs are reproducible. */
export const TEST_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

export class Builder {
  readonly pub = publicKeyFromPrivate(TEST_KEY, true);
  readonly script = p2pkhScript(hash160(this.pub));
  private readonly heights = new Map<string, number>();
  private tagCounter = 0;

  constructor(readonly params: ChainParams) {
    this.heights.set(params.genesis.hashHex(), 0);
  }

  get genesis(): Block {
    return this.params.genesis;
  }

  heightOf(b: Block): number {
    const h = this.heights.get(b.hashHex());
    if (h === undefined) throw new Error(`builder does not know block ${b.hashHex()}`);
    return h;
  }

  coinbase(height: number, value: bigint, tag: number): Tx {
    const scriptSig = concatBytes(pushNumber(height), pushData(Uint8Array.of(tag & 0xff, tag >> 8, 0x54)));
    return new Tx(
      1,
      [new TxIn(new OutPoint(NULL_HASH, 0xffffffff), scriptSig)],
      [new TxOut(value, this.script)],
      0,
    );
  }

  /** A block on `parent`; mined at the regtest target unless munge changes it. */
  block(parent: Block, opts: BlockOptions = {}): Block {
    const height = this.heightOf(parent) + 1;
    const cb = this.coinbase(
      height,
      blockSubsidy(height, this.params) + (opts.fees ?? 0n),
      opts.tag ?? this.tagCounter++,
    );
    const d: Draft = {
      version: 4,
      prevHash: parent.hash(),
      time: opts.time ?? parent.header.time + (opts.timeDelta ?? 600),
      bits: this.params.powLimitBits,
      txs: [cb, ...(opts.txs ?? [])],
    };
    opts.munge?.(d);
    const root = d.merkleRoot ?? computeMerkleRoot(d.txs.map((t) => t.txid())).root;
    let nonce = 0;
    let header = new BlockHeader(d.version, d.prevHash, root, d.time, d.bits, nonce);
    const ok = (h: BlockHeader): boolean => checkProofOfWork(h.hash(), h.bits, this.params);
    while (opts.unsolved ? ok(header) : !ok(header))
      header = new BlockHeader(d.version, d.prevHash, root, d.time, d.bits, ++nonce);
    const b = new Block(header, d.txs);
    this.heights.set(b.hashHex(), height);
    return b;
  }

  /** A chain of `n` blocks on `parent` (coinbase only unless `txs` gives some per height). */
  chain(parent: Block, n: number, opts: (i: number) => BlockOptions = () => ({})): Block[] {
    const out: Block[] = [];
    for (let i = 0; i < n; i++) out.push(this.block(out[i - 1] ?? parent, opts(i)));
    return out;
  }

  /** Output `i` of a transaction as a Spendable. */
  out(tx: Tx, i = 0): Spendable {
    return {
      outpoint: new OutPoint(tx.txid(), i),
      value: tx.outputs[i].value,
      script: tx.outputs[i].scriptPubKey,
    };
  }

  cbOut(b: Block): Spendable {
    return this.out(b.txs[0], 0);
  }

  /**
   * Spends `inputs` (P2PKH outputs of the test key) into `outputs` values (default: one output
   * of everything less `fee`) plus `extraOutputs`, signing each input with SIGHASH_ALL.
   */
  spend(
    inputs: Spendable[],
    opts: {
      outputs?: bigint[];
      extraOutputs?: TxOut[];
      fee?: bigint;
      version?: number;
      locktime?: number;
      sequence?: number;
    } = {},
  ): Tx {
    const total = inputs.reduce((s, i) => s + i.value, 0n);
    const values = opts.outputs ?? [total - (opts.fee ?? 0n)];
    const outs = [...values.map((v) => new TxOut(v, this.script)), ...(opts.extraOutputs ?? [])];
    const seq = opts.sequence ?? 0xffffffff;
    const unsigned = new Tx(
      opts.version ?? 1,
      inputs.map((i) => new TxIn(i.outpoint, new Uint8Array(0), seq)),
      outs,
      opts.locktime ?? 0,
    );
    return this.sign(unsigned, inputs);
  }

  /** Signs every input of `tx` (spending `prev[i]`) with the test key, SIGHASH_ALL. */
  sign(tx: Tx, prev: Spendable[]): Tx {
    return prev.reduce((t, p, i) => signP2PKHInput(t, i, p.script, TEST_KEY, this.pub), tx);
  }
}

/** Rebuilds a transaction with some fields changed (tests corrupt transactions with it). */
export function withTx(
  tx: Tx,
  change: Partial<{ version: number; inputs: TxIn[]; outputs: TxOut[]; locktime: number }>,
): Tx {
  return new Tx(
    change.version ?? tx.version,
    change.inputs ?? [...tx.inputs],
    change.outputs ?? [...tx.outputs],
    change.locktime ?? tx.locktime,
  );
}
