// `npm run bench -- sync [--blocks N] [--txs K]`: a fresh node catching up N blocks (K spends
// each) over P2P from two peers on 127.0.0.1, beside the reference of the same blocks decoded and
// handed to the same in-memory chain directly, without the network.
import { Block } from '../../src/primitives/block.js';
import { FakeChain, genesis, makeBlock, spend } from '../../test/p2p/fake-chain.js';
import { startNode, waitFor } from '../../test/p2p/helpers.js';

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

export async function run(args: string[]): Promise<void> {
  const n = arg(args, '--blocks', 3000);
  const k = arg(args, '--txs', 20);
  const blocks: Block[] = [];
  let prev = genesis().hash();
  for (let h = 1; h <= n; h++) {
    const txs = Array.from({ length: k }, (_, i) => spend(h * 1000 + i));
    const b = makeBlock(prev, h, txs);
    blocks.push(b);
    prev = b.hash();
  }
  const bytes = blocks.reduce((s, b) => s + b.size, 0);
  console.log(`chain: ${n} blocks, ${k} spends each, ${(bytes / 1e6).toFixed(1)} MB`);

  const ref = new FakeChain();
  const raw = blocks.map((b) => b.encode());
  let t0 = performance.now();
  for (const r of raw) await ref.processBlock(Block.decode(r));
  const refMs = performance.now() - t0;

  const a = new FakeChain();
  const b = new FakeChain();
  await a.load(blocks);
  await b.load(blocks);
  const pa = await startNode({}, a);
  const pb = await startNode({}, b);
  const fresh = new FakeChain();
  t0 = performance.now();
  const c = await startNode({ connect: [pa.url, pb.url] }, fresh);
  await waitFor(() => fresh.tipHeight() === n, 600_000, 'catch-up');
  const p2pMs = performance.now() - t0;
  for (const x of [c, pa, pb]) await x.node.stop();

  const rate = (ms: number) =>
    `${((n * 1000) / ms).toFixed(0)} blocks/s, ${(bytes / 1e3 / ms).toFixed(1)} MB/s`;
  console.log(`reference (decode + in-memory chain, no network): ${refMs.toFixed(0)} ms, ${rate(refMs)}`);
  console.log(`p2p catch-up from two peers:                      ${p2pMs.toFixed(0)} ms, ${rate(p2pMs)}`);
}
