// Shared by the conformance tests over Bitcoin Core's script vectors: which cases apply (the
// gatherer's legacy_subsets.json), Core's flag names, and the summary line each file prints.
import { readVectorJson } from '../vectors.js';
import { parseFlags } from '../../src/script/flags.js';
import { ScriptFlags } from '../../src/script/flags.js';

type Subsets = Record<string, { legacy: number[]; legacy_extra: number[]; witness: number[] }>;

/** Indices of the cases a legacy engine must reproduce, and of the witness ones it skips. */
export function legacyCases(file: string): { run: Set<number>; skip: Set<number> } {
  const s = readVectorJson<Subsets>('bitcoin-core', 'legacy_subsets.json')[file];
  return { run: new Set([...s.legacy, ...s.legacy_extra]), skip: new Set(s.witness) };
}

// Flags that only act inside witness programs: no effect on a legacy script.
const WITNESS_ONLY = new Set([
  'WITNESS',
  'MINIMALIF',
  'WITNESS_PUBKEYTYPE',
  'DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM',
  'TAPROOT',
  'DISCOURAGE_UPGRADABLE_TAPROOT_VERSION',
  'DISCOURAGE_OP_SUCCESS',
  'DISCOURAGE_UPGRADABLE_PUBKEYTYPE',
]);

/** Core's flag list as the vectors write it; NONE is 0 and witness-only flags are dropped. */
export function vectorFlags(s: string): number {
  const names = s
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '' && n !== 'NONE' && !WITNESS_ONLY.has(n));
  return parseFlags(names.join(','));
}

export const ALL_FLAGS = Object.values(ScriptFlags).reduce((a, b) => a | b, 0);
export const FLAG_BITS = Object.values(ScriptFlags).filter((f) => f !== 0);

/** Core's FillFlags/TrimFlags without WITNESS: CLEANSTACK only ever runs together with P2SH. */
export function fillFlags(f: number): number {
  return f & ScriptFlags.CLEANSTACK ? f | ScriptFlags.P2SH : f;
}
export function trimFlags(f: number): number {
  return f & ScriptFlags.P2SH ? f : f & ~ScriptFlags.CLEANSTACK;
}

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}

export function newTally(): Tally {
  return { passed: 0, failed: 0, skipped: 0, failures: [] };
}

export function report(file: string, t: Tally): string {
  const line = `${file}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped (witness)`;
  console.log(line);
  return line;
}
