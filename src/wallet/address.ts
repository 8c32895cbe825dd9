// Base58check addresses (P2PKH and P2SH) with the network's version bytes passed in (ChainParams
// prefixes), so the wallet and RPC never hard-code a network. Fails with AddressError naming why.
import bs58check from 'bs58check';

export interface AddressPrefixes {
  pubkeyHash: number;
  scriptHash: number;
}

export type DecodedAddress = { type: 'pubkeyhash' | 'scripthash'; hash: Uint8Array };

export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

export function encodeAddress(
  type: DecodedAddress['type'],
  hash: Uint8Array,
  prefixes: AddressPrefixes,
): string {
  if (hash.length !== 20) throw new AddressError('address hash must be 20 bytes');
  const payload = new Uint8Array(21);
  payload[0] = type === 'pubkeyhash' ? prefixes.pubkeyHash : prefixes.scriptHash;
  payload.set(hash, 1);
  return bs58check.encode(payload);
}

export function decodeAddress(address: string, prefixes: AddressPrefixes): DecodedAddress {
  let payload: Uint8Array;
  try {
    payload = bs58check.decode(address);
  } catch {
    throw new AddressError(`invalid address ${JSON.stringify(address)}: bad base58 or checksum`);
  }
  if (payload.length !== 21)
    throw new AddressError(`invalid address ${JSON.stringify(address)}: wrong length`);
  const hash = payload.slice(1);
  if (payload[0] === prefixes.pubkeyHash) return { type: 'pubkeyhash', hash };
  if (payload[0] === prefixes.scriptHash) return { type: 'scripthash', hash };
  throw new AddressError(`invalid address ${JSON.stringify(address)}: not an address of this network`);
}

/** The output script an address pays to (P2PKH or P2SH). */
export function addressScript(decoded: DecodedAddress): Uint8Array {
  if (decoded.type === 'pubkeyhash') {
    // OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
    return Uint8Array.of(0x76, 0xa9, 0x14, ...decoded.hash, 0x88, 0xac);
  }
  // OP_HASH160 <20> OP_EQUAL
  return Uint8Array.of(0xa9, 0x14, ...decoded.hash, 0x87);
}

/** The address an output script pays to, when it is P2PKH or P2SH; otherwise null. */
export function scriptAddress(script: Uint8Array, prefixes: AddressPrefixes): string | null {
  if (
    script.length === 25 &&
    script[0] === 0x76 &&
    script[1] === 0xa9 &&
    script[2] === 0x14 &&
    script[23] === 0x88 &&
    script[24] === 0xac
  )
    return encodeAddress('pubkeyhash', script.subarray(3, 23), prefixes);
  if (script.length === 23 && script[0] === 0xa9 && script[1] === 0x14 && script[22] === 0x87)
    return encodeAddress('scripthash', script.subarray(2, 22), prefixes);
  return null;
}
