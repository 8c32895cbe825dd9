// Parallel script verification for block connection: a piscina pool of verify-worker.ts threads.
// Owns: splitting a block's transactions over the workers and picking the failure to report.
// Does not own: which flags apply or where prevouts come from (the caller's). A script failure
// is a VerifyFailure value; a crashed worker rejects the promise.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { Tx } from '../primitives/tx.js';
import { verifyScript, TxSignatureChecker } from '../script/interpreter.js';
import { SigCache } from '../script/sigcache.js';
import { signatureHash } from '../script/sighash.js';
import { verifyJobs, type VerifyFailure, type VerifyJob } from './verify-worker.js';

export type { VerifyFailure, VerifyJob };

/** Thrown by CachedOnlyChecker when a signature is not in the cache: the job needs a worker. */
const MISS = Symbol('sigcache-miss');

/** Answers signature checks from the cache alone, so mempool-verified txs skip the workers. */
class CachedOnlyChecker extends TxSignatureChecker {
  override checkSig(sig: Uint8Array, pubkey: Uint8Array, scriptCode: Uint8Array): boolean {
    if (sig.length === 0) return false;
    const sighash = signatureHash(scriptCode, this.tx, this.inputIndex, sig[sig.length - 1]);
    if ((this.sigCache as SigCache).has(SigCache.key(sighash, pubkey, sig))) return true;
    throw MISS;
  }
}

function settledFromCache(job: VerifyJob, cache: SigCache): boolean {
  try {
    const tx = Tx.decode(job.tx);
    if (tx.inputs.length !== job.prevouts.length) return false;
    for (let i = 0; i < tx.inputs.length; i++) {
      const p = job.prevouts[i];
      const checker = new CachedOnlyChecker(tx, i, p.value, cache);
      verifyScript(tx.inputs[i].scriptSig, p.script, job.flags, checker);
    }
    return true;
  } catch {
    // A miss, or a failure the worker will name precisely.
    return false;
  }
}

function inputCount(job: VerifyJob): number {
  return job.prevouts.length;
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

  /** Verifies every input of every job; resolves to the failure with the lowest (index, input), or null. */
  async verify(jobs: VerifyJob[]): Promise<VerifyFailure | null> {
    if (!this.pool) return verifyJobs(jobs, this.sigCache);
    const cache = this.sigCache;
    const pending = cache ? jobs.filter((j) => !settledFromCache(j, cache)) : jobs;
    if (pending.length === 0) return null;
    // Several chunks per thread even out transactions of very different sizes.
    const total = pending.reduce((n, j) => n + inputCount(j), 0);
    const target = Math.max(1, Math.ceil(total / (this.threads * 4)));
    const chunks: VerifyJob[][] = [];
    let cur: VerifyJob[] = [];
    let n = 0;
    for (const j of pending) {
      cur.push(j);
      n += inputCount(j);
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
    let first: VerifyFailure | null = null;
    for (const r of results) {
      if (r && (!first || r.index < first.index || (r.index === first.index && r.input < first.input)))
        first = r;
    }
    return first;
  }

  async close(): Promise<void> {
    if (this.pool) await this.pool.destroy();
  }
}
