// Parallel script verification for block connection: a piscina pool of verify-worker.ts threads.
// Takes consensus/connect's ScriptCheck (decoded transactions); workers get each transaction's
// bytes as received. Owns: splitting a block's transactions over the workers and picking the failure to report.
// Does not own: which flags apply or where prevouts come from (the caller's). A script failure
// is a VerifyFailure value; a crashed worker rejects the promise.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { TxOut } from '../primitives/tx.js';
import type { ScriptCheck } from '../consensus/connect.js';
import { ScriptError } from '../script/errors.js';
import { TxSignatureChecker, verifyInput, verifyScript } from '../script/interpreter.js';
import { SigCache } from '../script/sigcache.js';
import { signatureHash } from '../script/sighash.js';
import type { VerifyFailure, VerifyJob } from './verify-worker.js';

export type { ScriptCheck, VerifyFailure };

/** Thrown by CachedOnlyChecker when a signature is not in the cache: the job needs a worker. */
const MISS = new Error('sigcache-miss');

/** Answers signature checks from the cache alone, so mempool-verified txs skip the workers. */
class CachedOnlyChecker extends TxSignatureChecker {
  override checkSig(sig: Uint8Array, pubkey: Uint8Array, scriptCode: Uint8Array): boolean {
    if (sig.length === 0) return false;
    const sighash = signatureHash(scriptCode, this.tx, this.inputIndex, sig[sig.length - 1]);
    if ((this.sigCache as SigCache).has(SigCache.key(sighash, pubkey, sig))) return true;
    throw MISS;
  }
}

function settledFromCache(check: ScriptCheck, cache: SigCache): boolean {
  try {
    const tx = check.tx;
    for (let i = 0; i < tx.inputs.length; i++) {
      const p = check.prevouts[i];
      const checker = new CachedOnlyChecker(tx, i, p.value, cache);
      verifyScript(tx.inputs[i].scriptSig, p.script, check.flags, checker);
    }
    return true;
  } catch {
    // A miss, or a failure the worker will name precisely.
    return false;
  }
}

/** Verifies on the calling thread, filling the cache; the first failure or null. */
function verifyInline(checks: readonly ScriptCheck[], sigCache?: SigCache): VerifyFailure | null {
  for (const c of checks) {
    for (let i = 0; i < c.tx.inputs.length; i++) {
      const p = c.prevouts[i];
      try {
        verifyInput(c.tx, i, new TxOut(p.value, p.script), c.flags, sigCache);
      } catch (e) {
        if (e instanceof ScriptError) return { index: c.index, input: i, code: e.code };
        throw e;
      }
    }
  }
  return null;
}

/** The failure with the lowest (index, input): the one a block reports. */
export function earliestFailure(a: VerifyFailure | null, b: VerifyFailure | null): VerifyFailure | null {
  if (!a) return b;
  if (!b) return a;
  return b.index < a.index || (b.index === a.index && b.input < a.input) ? b : a;
}

/** The worker's job for a check: the transaction's bytes as received (no re-encoding). */
function toJob(c: ScriptCheck): VerifyJob {
  return {
    index: c.index,
    tx: c.tx.encode(),
    prevouts: c.prevouts.map((p) => ({ value: p.value, script: p.script })),
    flags: c.flags,
  };
}

function inputCount(check: ScriptCheck): number {
  return check.prevouts.length;
}

/**
 * Node options for piscina workers. Piscina loads a worker file with require() first; on Node 20.19+
 * require() of an ES module is on by default and has crashed the process now and then with an
 * internal assertion (ModuleWrap::CreateRequiredModuleFacade). Turning it off in the workers makes
 * piscina fall back to import(), which is the path ES modules are meant to take.
 */
export function workerExecArgv(): string[] {
  const [major, minor] = process.versions.node.split('.').map(Number);
  // Only the lines where the assertion was seen (Node 20 and 22); later lines keep their defaults.
  const affected = major === 22 || (major === 20 && minor >= 17);
  return affected ? [...process.execArgv, '--no-experimental-require-module'] : [...process.execArgv];
}

export class ScriptVerifyPool {
  private constructor(
    readonly threads: number,
    private readonly pool: Piscina | null,
    private readonly sigCache?: SigCache,
  ) {}

  /**
   * threads: worker count (default: every core); 0 verifies inline on the calling thread.
   * sigCache: signatures verified before (on mempool entry): jobs it fully answers are settled
   * on the calling thread without reaching a worker; inline verification also fills it.
   */
  static create(opts: { threads?: number; sigCache?: SigCache } = {}): ScriptVerifyPool {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 0) throw new RangeError('threads must be an integer >= 0');
    const pool =
      threads === 0
        ? null
        : new Piscina({
            filename: new URL('./verify-worker.js', import.meta.url).href,
            execArgv: workerExecArgv(),
            minThreads: threads,
            maxThreads: threads,
            idleTimeout: 60_000,
          });
    return new ScriptVerifyPool(threads, pool, opts.sigCache);
  }

  /** Verifies every input of every check; resolves to the failure with the lowest (index, input), or null. */
  async verify(checks: readonly ScriptCheck[]): Promise<VerifyFailure | null> {
    if (!this.pool) return verifyInline(checks, this.sigCache);
    const cache = this.sigCache;
    const pending = cache ? checks.filter((c) => !settledFromCache(c, cache)) : checks;
    if (pending.length === 0) return null;
    // Several chunks per thread even out transactions of very different sizes.
    const total = pending.reduce((n, c) => n + inputCount(c), 0);
    const target = Math.max(1, Math.ceil(total / (this.threads * 4)));
    const chunks: VerifyJob[][] = [];
    let cur: VerifyJob[] = [];
    let n = 0;
    for (const c of pending) {
      cur.push(toJob(c));
      n += inputCount(c);
      if (n >= target) {
        chunks.push(cur);
        cur = [];
        n = 0;
      }
    }
    if (cur.length) chunks.push(cur);
    const pool = this.pool;
    const results = await Promise.all(
      chunks.map((c) => pool.run({ jobs: c }) as Promise<VerifyFailure | null>),
    );
    return results.reduce(earliestFailure, null);
  }

  async close(): Promise<void> {
    if (this.pool) await this.pool.destroy();
  }
}
