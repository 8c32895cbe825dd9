// The node the adversarial tests attack (issue 11): a `tally node` A with an honest tally node B
// dialling it, and the one check every scenario ends with: A is alive, its RSS grew less than a
// stated bound since the start, and B still follows A's chain (a block mined on A reaches B).
import assert from 'node:assert/strict';
import type { ChainParams } from '../../src/consensus/params.js';
import type { Block } from '../../src/primitives/block.js';
import { TxOut } from '../../src/primitives/tx.js';
import { withTx, type Builder } from '../chain/builder.js';
import { mine, startNode, waitSameTip, type TallyProcess } from './cluster.js';
import { alive, rssMB } from './raw-peer.js';

export interface Target {
  /** The attacked node. */
  a: TallyProcess;
  /** The honest node, dialling only A. */
  b: TallyProcess;
  /** A's RSS in MB once set up, before any attack. */
  rss0: number;
  /** Asserts A is up within `boundMB` of rss0 and that B follows a new block of A's. */
  fine(what: string, boundMB: number): Promise<void>;
}

export interface TargetOptions {
  /** A's data directory (a tally.conf in it sets A's options); default a new temp one. */
  datadir?: string;
  /** Address paid by the blocks mined on A. */
  pay: string;
  /** What to do on A before the baseline is taken (default: mine one block). */
  setup?: (a: TallyProcess) => Promise<unknown>;
}

/** Starts A and B (stopped by cluster's stopAll), sets A up, waits for B to follow, takes rss0. */
export async function startTarget(opts: TargetOptions): Promise<Target> {
  const a = await startNode({ datadir: opts.datadir });
  const b = await startNode({ args: ['--connect', a.p2pUrl] });
  await (opts.setup ?? ((n) => mine(n, 1, opts.pay)))(a);
  await waitSameTip([a, b], 60_000);
  const rss0 = rssMB(a.pid);
  return {
    a,
    b,
    rss0,
    async fine(what, boundMB) {
      assert.ok(alive(a.pid), `node exited after ${what}:\n${a.output.slice(-2000)}`);
      const rss = rssMB(a.pid);
      assert.ok(rss - rss0 < boundMB, `RSS ${rss0.toFixed(0)} -> ${rss.toFixed(0)} MB after ${what}`);
      await mine(a, 1, opts.pay);
      await waitSameTip([a, b], 30_000);
    },
  };
}

/**
 * A block of about 1 MB on genesis (height 1): its coinbase has an extra output of 990,000 bytes
 * that no one can spend. Submitted first, it is what non-reading peers ask for again and again.
 */
export function bigBlock(builder: Builder, params: ChainParams): Block {
  return builder.block(params.genesis, {
    munge: (d) => {
      d.txs[0] = withTx(d.txs[0], { outputs: [...d.txs[0].outputs, new TxOut(0n, new Uint8Array(990_000))] });
    },
  });
}
