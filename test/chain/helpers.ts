// Shared set-up for chain tests: a chain on a fresh temporary LevelDB directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chain, type ChainOptions } from '../../src/chain/chain.js';
import { LevelChainStore } from '../../src/storage/level-store.js';
import type { ChainParams } from '../../src/consensus/params.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tally-chain-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A clock far enough ahead that builder blocks are never too new. */
export const FAR_FUTURE = () => 4_000_000_000;

export async function openChain(
  dir: string,
  params: ChainParams,
  opts: Partial<ChainOptions> = {},
): Promise<Chain> {
  const store = await LevelChainStore.open(dir);
  return Chain.open({ store, params, verifyThreads: 0, now: FAR_FUTURE, ...opts });
}
