// How a genesis block is put together: one coinbase, no parent, its merkle root the coinbase id.
// Owns: the block layout shared by the Tally genesis miner (scripts/mine-genesis.ts) and the
// Bitcoin preset. Does not own: the nonce search or the recorded parameters (genesis.json).
// Throws RangeError for a push longer than a coinbase scriptSig can hold.
import { Block, BlockHeader } from '../primitives/block.js';
import { concatBytes } from '../primitives/bytes.js';
import { NULL_HASH, OutPoint, Tx, TxIn, TxOut } from '../primitives/tx.js';

const OP_PUSHDATA1 = 0x4c;

/** A minimal data push (direct for up to 75 bytes, PUSHDATA1 up to 255), as a coinbase needs. */
export function pushBytes(data: Uint8Array): Uint8Array {
  if (data.length <= 75) return concatBytes(Uint8Array.of(data.length), data);
  if (data.length <= 255) return concatBytes(Uint8Array.of(OP_PUSHDATA1, data.length), data);
  throw new RangeError('pushBytes: longer than 255 bytes');
}

export interface GenesisSpec {
  version: number;
  time: number;
  bits: number;
  nonce: number;
  scriptSig: Uint8Array;
  reward: bigint;
  outputScript: Uint8Array;
}

export function genesisCoinbase(spec: Pick<GenesisSpec, 'scriptSig' | 'reward' | 'outputScript'>): Tx {
  return new Tx(
    1,
    [new TxIn(new OutPoint(NULL_HASH, 0xffffffff), spec.scriptSig, 0xffffffff)],
    [new TxOut(spec.reward, spec.outputScript)],
    0,
  );
}

export function createGenesisBlock(spec: GenesisSpec): Block {
  const coinbase = genesisCoinbase(spec);
  const header = new BlockHeader(spec.version, NULL_HASH, coinbase.txid(), spec.time, spec.bits, spec.nonce);
  return new Block(header, [coinbase]);
}
