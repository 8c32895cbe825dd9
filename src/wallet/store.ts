// Wallet file I/O: JSON in DATADIR/wallets/<name>.json, written atomically (temp file, fsync,
// rename) with mode 0600 so a crash never leaves half a wallet. Fails with WalletFileError
// naming the file and what is wrong with it.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

export class WalletFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalletFileError';
  }
}

const hex = z.string().regex(/^([0-9a-f]{2})*$/);
const encrypted = z.object({
  kdf: z.literal('scrypt'),
  N: z.number().int().positive(),
  r: z.number().int().positive(),
  p: z.number().int().positive(),
  salt: hex,
  iv: hex,
  tag: hex,
  ciphertext: hex,
});
const branch = z.object({ xpub: z.string(), next: z.number().int().min(0), used: z.number().int().min(0) });
const txRecord = z.object({
  hex,
  height: z.number().int().min(0).nullable(),
  blockHash: z.string().nullable(),
  blockTime: z.number().int().nullable(),
  time: z.number().int(),
});

export const walletFileSchema = z.object({
  format: z.literal('tally-wallet'),
  version: z.literal(1),
  network: z.string(),
  coinType: z.number().int().min(0),
  gap: z.number().int().min(1).max(1000),
  secret: z.union([z.object({ encrypted }), z.object({ mnemonic: z.string() })]),
  receive: branch,
  change: branch,
  labels: z.record(z.string(), z.string()),
  tip: z.object({ height: z.number().int().min(-1), hash: z.string() }).nullable(),
  txs: z.record(z.string(), txRecord),
});

export type WalletFile = z.infer<typeof walletFileSchema>;
export type TxRecord = z.infer<typeof txRecord>;

export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readWalletFile(path: string): WalletFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new WalletFileError(`wallet file ${path} not found`);
    throw new WalletFileError(`cannot read wallet file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WalletFileError(`wallet file ${path} is not valid JSON`);
  }
  const r = walletFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new WalletFileError(
      `wallet file ${path} is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return r.data;
}
