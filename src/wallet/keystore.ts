// Secrets at rest: the mnemonic encrypted with AES-256-GCM under a key stretched from the
// passphrase by scrypt. The cost is calibrated when a passphrase is set, as Core calibrates its
// wallet key derivation: N (r=8, p=1) is chosen so one derivation takes about 100 ms on the machine
// doing it, never below 2^14 (the old fixed default, ~50-105 ms on the development machine) nor
// above 2^17 (128 MiB of memory). Slow enough to hamper guessing, quick enough to unlock. The
// parameters are stored with each wallet, so a file moves between machines. A wrong passphrase
// fails GCM authentication: WrongPassphraseError, never garbage.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export interface EncryptedSecret {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 14, r: 8, p: 1 };
export const MIN_SCRYPT_N = 1 << 14;
export const MAX_SCRYPT_N = 1 << 17;
export const TARGET_KDF_MS = 100;
const PROBE_N = 1 << 13;

async function timeScrypt(N: number): Promise<number> {
  const start = performance.now();
  await deriveKey('calibration', randomBytes(16), N, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p);
  return performance.now() - start;
}

/**
 * The scrypt cost that takes about `targetMs` here: one derivation at a probe cost (the faster of
 * two, so a busy moment does not weaken the choice), scaled linearly to the power of two nearest
 * the target, within [MIN_SCRYPT_N, MAX_SCRYPT_N].
 */
export async function calibrateScrypt(
  targetMs = TARGET_KDF_MS,
  timeAt: (N: number) => Promise<number> = timeScrypt,
): Promise<ScryptParams> {
  const ms = Math.max(Math.min(await timeAt(PROBE_N), await timeAt(PROBE_N)), 0.001);
  const exponent = Math.round(Math.log2((targetMs * PROBE_N) / ms));
  const N = Math.min(MAX_SCRYPT_N, Math.max(MIN_SCRYPT_N, 2 ** exponent));
  return { ...DEFAULT_SCRYPT, N };
}

export class WrongPassphraseError extends Error {
  constructor() {
    super('the wallet passphrase entered was incorrect');
    this.name = 'WrongPassphraseError';
  }
}

function deriveKey(passphrase: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase.normalize('NFKC'),
      salt,
      32,
      { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

/** An AES-256-GCM box under an already derived key (imported keys share the wallet's key). */
export interface Sealed {
  iv: string;
  tag: string;
  ciphertext: string;
}

export function seal(key: Uint8Array, plain: Uint8Array): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  return {
    iv: iv.toString('hex'),
    tag: cipher.getAuthTag().toString('hex'),
    ciphertext: ciphertext.toString('hex'),
  };
}

/** Opens a box; a wrong key fails GCM authentication: WrongPassphraseError. */
export function unseal(key: Uint8Array, box: Sealed): Uint8Array {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(box.iv, 'hex'));
  decipher.setAuthTag(Buffer.from(box.tag, 'hex'));
  try {
    return new Uint8Array(
      Buffer.concat([decipher.update(Buffer.from(box.ciphertext, 'hex')), decipher.final()]),
    );
  } catch {
    throw new WrongPassphraseError();
  }
}

/**
 * Encrypts under a fresh salt; also returns the derived key, so what else the wallet seals
 * (imported private keys) can be sealed under the same passphrase. The caller zeroes the key.
 */
export async function encryptSecretWithKey(
  secret: Uint8Array,
  passphrase: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<{ enc: EncryptedSecret; key: Buffer }> {
  const salt = randomBytes(16);
  const key = await deriveKey(passphrase, salt, params.N, params.r, params.p);
  return { enc: { kdf: 'scrypt', ...params, salt: salt.toString('hex'), ...seal(key, secret) }, key };
}

export async function encryptSecret(
  secret: Uint8Array,
  passphrase: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<EncryptedSecret> {
  const { enc, key } = await encryptSecretWithKey(secret, passphrase, params);
  key.fill(0);
  return enc;
}

/** Decrypts; also returns the derived key (the caller zeroes it). */
export async function decryptSecretWithKey(
  enc: EncryptedSecret,
  passphrase: string,
): Promise<{ plain: Uint8Array; key: Buffer }> {
  const key = await deriveKey(passphrase, Buffer.from(enc.salt, 'hex'), enc.N, enc.r, enc.p);
  try {
    return { plain: unseal(key, enc), key };
  } catch (e) {
    key.fill(0);
    throw e;
  }
}

export async function decryptSecret(enc: EncryptedSecret, passphrase: string): Promise<Uint8Array> {
  const { plain, key } = await decryptSecretWithKey(enc, passphrase);
  key.fill(0);
  return plain;
}
