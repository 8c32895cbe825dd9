// `npm run bench -- script [rounds]`: verifies every input of mainnet block 300025 (1,427 inputs,
// flags P2SH|DERSIG) inline on one core and through ScriptVerifyPool on 1..N worker threads, and
// prints inputs/s beside the raw libsecp256k1 verify rate measured on the same signatures in the
// same run. Figures are the best and the median of `rounds` passes (default 7): the machine is
// shared, so the best pass is the closest to what the code can do.
import { availableParallelism } from 'node:os';
import {
  activeBackend,
  nativeBackend,
  parseDerLax,
  CURVE,
  normalizePubkey,
} from '../../src/crypto/secp256k1.js';
import type { Tx } from '../../src/primitives/tx.js';
import { ScriptVerifyPool, type ScriptCheck } from '../../src/chain/verify-pool.js';
import { ScriptFlags } from '../../src/script/flags.js';
import { TxSignatureChecker, verifyInput, verifyScript } from '../../src/script/interpreter.js';
import { signatureHash } from '../../src/script/sighash.js';
import { block300025 } from '../../test/conformance/spends.js';

const FLAGS = ScriptFlags.P2SH | ScriptFlags.DERSIG;

function stats(rates: number[]): { best: number; median: number } {
  const s = [...rates].sort((a, b) => a - b);
  return { best: s[s.length - 1], median: s[Math.floor(s.length / 2)] };
}

function fmt(r: { best: number; median: number }): string {
  return `${Math.round(r.best).toLocaleString('en-US').padStart(7)}/s best, ${Math.round(r.median)
    .toLocaleString('en-US')
    .padStart(7)}/s median`;
}

function to32(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** The exact (sig64, sighash, pubkey) triples the block's scripts verify, ready for the backend. */
function collectSignatures(spends: { tx: Tx; prevouts: { scriptPubKey: Uint8Array; value: bigint }[] }[]) {
  const triples: [Uint8Array, Uint8Array, Uint8Array][] = [];
  for (const { tx, prevouts } of spends) {
    for (let i = 0; i < tx.inputs.length; i++) {
      const checker = new (class extends TxSignatureChecker {
        override checkSig(sig: Uint8Array, pub: Uint8Array, code: Uint8Array): boolean {
          const ok = super.checkSig(sig, pub, code);
          const rs = parseDerLax(sig.subarray(0, sig.length - 1));
          const key = normalizePubkey(pub);
          if (ok && rs && key) {
            const s = rs[1] > CURVE.HALF_N ? CURVE.N - rs[1] : rs[1];
            const sig64 = new Uint8Array(64);
            sig64.set(to32(rs[0]), 0);
            sig64.set(to32(s), 32);
            triples.push([sig64, signatureHash(code, tx, i, sig[sig.length - 1]), key]);
          }
          return ok;
        }
      })(tx, i, prevouts[i].value);
      verifyScript(tx.inputs[i].scriptSig, prevouts[i].scriptPubKey, FLAGS, checker);
    }
  }
  return triples;
}

export async function run(args: string[]): Promise<void> {
  const rounds = Math.max(1, Number(args[0] ?? 7) || 7);
  const { spends } = block300025();
  const inputs = spends.reduce((n, s) => n + s.tx.inputs.length, 0);
  const backend = nativeBackend ?? activeBackend();
  console.log(
    `script bench: block 300025, ${inputs} inputs, flags P2SH|DERSIG, backend ${activeBackend().name}`,
  );
  console.log(`cores: ${availableParallelism()}, rounds: ${rounds}`);

  const triples = collectSignatures(spends);
  const raw: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const [sig, msg, pub] of triples)
      if (!backend.verify(sig, msg, pub)) throw new Error('raw verify failed');
    raw.push((triples.length / (performance.now() - t0)) * 1000);
  }
  const rawStats = stats(raw);
  console.log(`raw ${backend.name} verify (${triples.length} signatures): ${fmt(rawStats)}`);

  const inline: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const { tx, prevouts } of spends) {
      for (let i = 0; i < tx.inputs.length; i++) verifyInput(tx, i, prevouts[i], FLAGS);
    }
    inline.push((inputs / (performance.now() - t0)) * 1000);
  }
  const inlineStats = stats(inline);
  console.log(
    `script verify, 1 core inline:      ${fmt(inlineStats)}  (${((inlineStats.best / rawStats.best) * 100).toFixed(0)}% of raw verify)`,
  );

  const jobs: ScriptCheck[] = spends.map((s, k) => ({
    index: k + 1,
    tx: s.tx,
    prevouts: s.prevouts.map((p) => ({ value: p.value, script: p.scriptPubKey })),
    flags: FLAGS,
  }));
  const maxThreads = availableParallelism();
  const counts = [...new Set([1, 2, maxThreads])].filter((n) => n <= Math.max(2, maxThreads));
  for (const threads of counts) {
    const pool = ScriptVerifyPool.create({ threads });
    try {
      if ((await pool.verify(jobs)) !== null) throw new Error('pool reported a failure'); // warm-up
      const rates: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        const res = await pool.verify(jobs);
        rates.push((inputs / (performance.now() - t0)) * 1000);
        if (res !== null) throw new Error('pool reported a failure');
      }
      const st = stats(rates);
      console.log(
        `script verify, pool ${String(threads).padStart(2)} thread(s): ${fmt(st)}  (${(st.best / threads).toFixed(0)}/s per thread, ${(
          st.best / inlineStats.best
        ).toFixed(2)}x inline)`,
      );
    } finally {
      await pool.close();
    }
  }
}
