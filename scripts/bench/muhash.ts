// `npm run bench -- muhash [--coins N]`: MuHash3072 over N coins (default 20,000) of Core's
// TxOutSer shape (a P2PKH coin, 73 bytes), as gettxoutsetinfo muhash and the coinstatsindex
// apply it: inserts per second (SHA-256, ChaCha20 expansion, one 3,072-bit multiply and
// reduction each), the final digest (one modular inverse), and, in the same run, the
// hash_serialized_3 rate over the same coins (double SHA-256 of the concatenation) as reference.
// Wall and CPU seconds are both printed: on a shared machine the CPU figure is the per-core speed.
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { coinHashBytes } from '../../src/chain/coin-stats.js';
import { MuHash3072 } from '../../src/crypto/muhash.js';
import { OutPoint } from '../../src/primitives/tx.js';
import { p2pkhScript } from '../../src/script/standard.js';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function timed(f: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

export async function run(args: string[]): Promise<void> {
  const n = Number(option(args, '--coins') ?? 20_000);
  const coins = Array.from({ length: n }, (_, i) => {
    const txid = createHash('sha256').update(String(i)).digest();
    const coin = {
      value: 5_000_000_000n - BigInt(i),
      script: p2pkhScript(txid.subarray(0, 20)),
      height: i,
      coinbase: i % 2 === 0,
    };
    return coinHashBytes(new OutPoint(txid, i % 3), coin);
  });
  const mu = new MuHash3072();
  for (const c of coins.slice(0, 500)) new MuHash3072().insert(c); // warm-up
  const ins = timed(() => {
    for (const c of coins) mu.insert(c);
  });
  mu.remove(coins[0]);
  const fin = timed(() => mu.digest());
  const sha = timed(() => {
    const h = createHash('sha256');
    for (const c of coins) h.update(c);
    createHash('sha256').update(h.digest()).digest();
  });
  const rate = (t: { wall: number; cpu: number }) =>
    `${Math.round(n / t.wall).toLocaleString('en')}/s wall, ${Math.round(n / t.cpu).toLocaleString('en')}/s CPU`;
  console.log(`MuHash3072 insert, ${n.toLocaleString('en')} coins: ${rate(ins)}`);
  console.log(`MuHash3072 digest (one inverse): ${(fin.wall * 1000).toFixed(1)} ms`);
  console.log(`hash_serialized_3 (reference):   ${rate(sha)}`);
  console.log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  await Promise.resolve();
}
