// Wallet file I/O: JSON in DATADIR/wallets/<name>.json, written atomically (storage/atomic-file.ts:
// temp file, fsync, rename, folder fsync) with mode 0600 so a crash never leaves half a wallet. Fails with WalletFileError
// naming the file and what is wrong with it. Version 2 added imported keys and watched scripts
// (importprivkey, importaddress, addmultisigaddress) and the wallet flags; version 3 the HD seed
// as raw BIP32 seed bytes (sethdseed) beside the mnemonic, the HD chain's birth time and the HD
// path of a key kept from a replaced chain. An older file is read as the current version with
// none of these, and written back as the current version (upgradewallet reports the step).
import { readFileSync } from 'node:fs';
import { HDKey } from '@scure/bip32';
import { z } from 'zod';
import { hexToBytes } from '../primitives/bytes.js';
import { Tx } from '../primitives/tx.js';
import { isValidPubkey } from '../crypto/secp256k1.js';
import { normalizeMnemonic } from './keys.js';

export class WalletFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalletFileError';
  }
}

const hex = z.string().regex(/^([0-9a-f]{2})*$/);
const hexBytes = (n: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${2 * n}}$`), `expected ${n} bytes of hex`);
// BIP32 indexes below 2^31 are the non-hardened ones public derivation can reach.
const MAX_INDEX = 0x7fffffff;

function parses(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

// Everything the wallet decodes at load or unlock is checked here, so a damaged file fails with
// one WalletFileError naming the field instead of a library error later. scrypt's N must be a
// power of two; the bounds keep a damaged file from asking for gigabytes (N=2^20, r=16 is 2 GiB).
const encrypted = z.object({
  kdf: z.literal('scrypt'),
  N: z
    .number()
    .int()
    .min(2)
    .max(2 ** 20)
    .refine((n) => (n & (n - 1)) === 0, 'expected a power of two'),
  r: z.number().int().min(1).max(16),
  p: z.number().int().min(1).max(16),
  salt: hexBytes(16),
  iv: hexBytes(12),
  tag: hexBytes(16),
  ciphertext: hex,
});
const branch = z.object({
  xpub: z
    .string()
    .refine((x) => parses(() => HDKey.fromExtendedKey(x).deriveChild(0)), 'not an extended public key'),
  next: z.number().int().min(0).max(MAX_INDEX),
  used: z.number().int().min(0).max(MAX_INDEX),
});
const txRecord = z.object({
  hex: hex.refine((h) => parses(() => Tx.decode(hexToBytes(h))), 'not a transaction'),
  height: z.number().int().min(0).nullable(),
  blockHash: z.string().nullable(),
  blockTime: z.number().int().nullable(),
  /** Its position in the block (Core's blockindex); absent when unknown (older files, importprunedfunds). */
  blockIndex: z.number().int().min(0).optional(),
  time: z.number().int(),
  /** abandontransaction: its inputs are free again and its outputs count for nothing. */
  abandoned: z.boolean().optional(),
  /** bumpfee: the replacement that took its place (Core's replaced_by_txid), and the reverse. */
  replacedBy: z.string().optional(),
  replaces: z.string().optional(),
});

/** The current version; older files are migrated when read. */
export const WALLET_FILE_VERSION = 3;

/** An imported private key sealed under the wallet's passphrase key (keystore.ts seal). */
const sealedBox = z.object({ iv: hexBytes(12), tag: hexBytes(16), ciphertext: hex });
const importedKey = z.object({
  pubkey: z
    .string()
    .regex(/^(0[23][0-9a-f]{64}|04[0-9a-f]{128})$/, 'expected a public key')
    .refine((k) => isValidPubkey(hexToBytes(k)), 'not a point on the curve'),
  /** Absent: a watched public key (importpubkey). */
  secret: z.union([z.object({ plain: hexBytes(32) }), z.object({ sealed: sealedBox })]).optional(),
  /** Seconds since the epoch: the key's birth (rescans start there). */
  time: z.number().int().min(0),
  /** A key of an HD chain that sethdseed replaced: its path, and whether it was a change key. */
  hdkeypath: z.string().max(100).optional(),
  change: z.boolean().optional(),
  /** That chain's seed id and master key fingerprint (getaddressinfo's hdseedid, hdmasterfingerprint). */
  hdseedid: hexBytes(20).optional(),
  hdfingerprint: hexBytes(4).optional(),
  /**
   * Pre-derived by that chain and not handed out when sethdseed ran with newkeypool=false: new
   * addresses (change ones for change keys) take these first, in file order, as Core's keypool.
   */
  keypool: z.literal(true).optional(),
});
const importedScript = z.object({
  /** A watched output script (importaddress), or the P2SH script of a redeem script. */
  script: hex.refine((h) => h.length > 0 && h.length <= 20_000, 'expected 1..10,000 bytes'),
  redeemScript: hex.optional(),
  time: z.number().int().min(0),
});

export const walletFileSchema = z
  .object({
    format: z.literal('tally-wallet'),
    version: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    network: z.string(),
    coinType: z.number().int().min(0).max(MAX_INDEX),
    gap: z.number().int().min(1).max(1000),
    // The HD chain's secret: a BIP39 mnemonic, or (after sethdseed) a BIP32 seed of 32 bytes, in
    // clear or encrypted (bip32Seed: the encrypted bytes are the seed, else the mnemonic's text).
    secret: z.union([
      z.object({ encrypted, bip32Seed: z.literal(true).optional() }),
      z.object({
        mnemonic: z.string().refine((m) => parses(() => normalizeMnemonic(m)), 'not a valid mnemonic'),
      }),
      z.object({ seed: hexBytes(32) }),
    ]),
    /** When the HD chain's first key was made (seconds); absent when unknown (restored from a phrase). */
    hdBirth: z.number().int().min(0).optional(),
    /**
     * The HD chain's seed id and master key fingerprint, read whenever the seed is open (at load of
     * an unencrypted wallet, at unlock of an encrypted one); absent until then.
     */
    hdMaster: z.object({ seedId: hexBytes(20), fingerprint: hexBytes(4) }).optional(),
    receive: branch,
    change: branch,
    labels: z.record(z.string(), z.string()),
    /** lockunspent with persistent=true: outpoints ("txid:vout", display txid) kept from spending. */
    locked: z.array(z.string().regex(/^[0-9a-f]{64}:\d{1,10}$/)).optional(),
    tip: z.object({ height: z.number().int().min(-1), hash: z.string() }).nullable(),
    txs: z.record(z.string(), txRecord),
    imported: z.object({ keys: z.array(importedKey), scripts: z.array(importedScript) }).optional(),
    /** setwalletflag: avoid_reuse (Core's WALLET_FLAG_AVOID_REUSE). */
    flags: z.object({ avoid_reuse: z.boolean().optional() }).optional(),
  })
  .superRefine((f, ctx) => {
    // The lookahead derives up to max(next, used) + gap: that must stay a non-hardened index.
    for (const b of ['receive', 'change'] as const) {
      if (Math.max(f[b].next, f[b].used) + f.gap > MAX_INDEX)
        ctx.addIssue({ code: 'custom', path: [b, 'next'], message: 'address index past the BIP32 limit' });
    }
  })
  // Migration: version 1 had no imported keys nor flags. `version` stays the one read (upgradewallet
  // reports it); the file is written as WALLET_FILE_VERSION.
  .transform((f) => ({
    ...f,
    imported: f.imported ?? { keys: [], scripts: [] },
    flags: f.flags ?? {},
  }));

export type WalletFile = z.infer<typeof walletFileSchema>;
export type TxRecord = z.infer<typeof txRecord>;
export type ImportedKey = z.infer<typeof importedKey>;
export type ImportedScript = z.infer<typeof importedScript>;

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
