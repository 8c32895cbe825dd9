// Signed messages (signmessage, verifymessage, signmessagewithprivkey) in Bitcoin's format with
// Tally's own magic: the digest is sha256d(varstr("Tally Signed Message:\n") || varstr(message)),
// the signature 65 bytes (header 27 + recovery id, + 4 for a compressed key, then r and s) in
// base64, and verifying recovers the key and compares its P2PKH address. Tally's magic, not
// Bitcoin's, so that a message signed with a key used on both chains cannot be replayed from one
// to the other (bitcoinjs-message verifies these with messagePrefix "\x16Tally Signed Message:\n").
// Fails with MessageError for a malformed signature or an address that is not a key's.
import { hash160, sha256d } from '../crypto/hash.js';
import { recoverPublicKey, signRecoverable } from '../crypto/secp256k1.js';
import { AddressPrefixes, decodeAddress } from '../primitives/address.js';
import { BufferWriter, equalBytes } from '../primitives/bytes.js';

export const MESSAGE_MAGIC = 'Tally Signed Message:\n';

export class MessageError extends Error {
  constructor(
    readonly kind: 'malformed' | 'not-key',
    message: string,
  ) {
    super(message);
    this.name = 'MessageError';
  }
}

export function messageHash(message: string): Uint8Array {
  const enc = new TextEncoder();
  const magic = enc.encode(MESSAGE_MAGIC);
  const body = enc.encode(message);
  return sha256d(new BufferWriter(magic.length + body.length + 18).varBytes(magic).varBytes(body).finish());
}

/** Base64 of the 65-byte compact signature of `message` by `privateKey`. */
export function signMessage(privateKey: Uint8Array, message: string, compressed = true): string {
  const { sig64, recid } = signRecoverable(messageHash(message), privateKey);
  const out = new Uint8Array(65);
  out[0] = 27 + recid + (compressed ? 4 : 0);
  out.set(sig64, 1);
  return Buffer.from(out).toString('base64');
}

/** Whether `signature` (base64) signs `message` with the key of P2PKH `address`. */
export function verifyMessage(
  address: string,
  signature: string,
  message: string,
  prefixes: AddressPrefixes,
): boolean {
  const decoded = decodeAddress(address, prefixes);
  if (decoded.kind !== 'pubkeyhash') throw new MessageError('not-key', 'Address does not refer to key');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(signature) || signature.length % 4 !== 0)
    throw new MessageError('malformed', 'Malformed base64 encoding');
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 65 || sig[0] < 27 || sig[0] > 34) return false;
  const recid = (sig[0] - 27) & 3;
  const compressed = sig[0] - 27 >= 4;
  const pub = recoverPublicKey(sig.subarray(1), recid, messageHash(message), compressed);
  return pub !== null && equalBytes(hash160(pub), decoded.hash);
}
