// gettxoutproof and verifytxoutproof as Bitcoin Core's rpc/txoutproof.cpp: the proof is Core's
// CMerkleBlock (primitives/merkle-block.ts), so a proof from either node verifies on the other.
// Owns: finding the block (given, by an unspent output of a txid, or by the txindex), the
// checks and Core's error codes. Does not own the tree or its encoding. Fails with RpcError:
// -8 bad or duplicated txid, -5 not in a block / block not found / not in the best chain,
// -1 block not stored or a proof that does not decode.
import { DecodeError, bytesToHex, hashFromHex, hexToBytes, reverseHex } from '../primitives/bytes.js';
import { MerkleBlock } from '../primitives/merkle-block.js';
import { OutPoint } from '../primitives/tx.js';
import { hashParam } from './chain-json.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar } from './params.js';
import type { BlockInfo, ChainPort } from './ports.js';
import type { RpcServer } from './server.js';

export interface TxOutProofDeps {
  chain: ChainPort;
  /** With txindex: the hash of the block holding a txid (internal byte order). */
  txIndexBlock?: (txid: Uint8Array) => Promise<Uint8Array | undefined>;
}

/** Output indexes read per batch while looking for an unspent output of a txid: most
 * transactions have few outputs, so a short first batch, then long ones. */
const FIRST_BATCH = 16;
const COIN_BATCH = 4096;
/** Bytes of the smallest output (8-byte value, empty script): bounds the outputs of one block. */
const MIN_TXOUT_BYTES = 9;

function txidElement(v: unknown): string {
  if (typeof v !== 'string')
    throw new RpcError(RpcCode.TYPE_ERROR, `JSON value of type ${typeof v} is not of expected type string`);
  if (v.length !== 64)
    throw new RpcError(RpcCode.INVALID_PARAMETER, `txid must be of length 64 (not ${v.length}, for '${v}')`);
  if (!/^[0-9a-fA-F]+$/.test(v))
    throw new RpcError(RpcCode.INVALID_PARAMETER, `txid must be hexadecimal string (not '${v}')`);
  return v.toLowerCase();
}

export function registerTxOutProofMethods(server: RpcServer, deps: TxOutProofDeps): void {
  const { chain } = deps;
  const reg = methodRegistrar(server);
  // Core's MAX_OUTPUTS_PER_BLOCK (111,111 for 4 MWU), here from the network's block size.
  const maxOutputs = Math.floor(chain.params.maxBlockSize / MIN_TXOUT_BYTES);

  /** The height of a block on the active chain holding an unspent output of txid (Core's AccessByTxid). */
  async function unspentHeight(txid: Uint8Array): Promise<number | undefined> {
    for (let start = 0; start < maxOutputs;) {
      const end = Math.min(start + (start === 0 ? FIRST_BATCH : COIN_BATCH), maxOutputs);
      const ops: OutPoint[] = [];
      for (let i = start; i < end; i++) ops.push(new OutPoint(txid, i));
      const found = (await chain.getCoins(ops)).find((c) => c !== undefined);
      if (found) return found.height;
      start = end;
    }
    return undefined;
  }

  async function findBlock(txids: Uint8Array[]): Promise<BlockInfo> {
    for (const txid of txids) {
      const height = await unspentHeight(txid);
      const entry = height === undefined ? undefined : chain.getEntryAtHeight(height);
      if (entry) return entry;
    }
    // Core asks the txindex for the first txid of its sorted set.
    const first = [...txids].sort((a, b) => Buffer.compare(a, b))[0];
    const hash = deps.txIndexBlock ? await deps.txIndexBlock(first) : undefined;
    if (hash === undefined)
      throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Transaction not yet in block');
    const entry = chain.getEntry(hash);
    if (entry === undefined) throw new RpcError(RpcCode.INTERNAL_ERROR, 'Transaction index corrupt');
    return entry;
  }

  reg(
    'gettxoutproof',
    ['txids', 'blockhash'],
    'A hex-encoded proof (Core’s CMerkleBlock) that the txids are in a block.',
    async (r) => {
      const list = r.array(0);
      if (list.length === 0)
        throw new RpcError(RpcCode.INVALID_PARAMETER, "Parameter 'txids' cannot be empty");
      const seen = new Set<string>();
      for (const v of list) {
        const hex = txidElement(v);
        if (seen.has(hex))
          throw new RpcError(RpcCode.INVALID_PARAMETER, `Invalid parameter, duplicated txid: ${String(v)}`);
        seen.add(hex);
      }
      const txids = [...seen].map(hashFromHex);
      let entry: BlockInfo | undefined;
      if (r.has(1)) {
        entry = chain.getEntry(hashParam(r, 1, 'blockhash'));
        if (entry === undefined) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block not found');
      } else entry = await findBlock(txids);
      const block = entry.hasData() ? await chain.getBlock(entry.hash) : undefined;
      if (block === undefined)
        throw new RpcError(RpcCode.MISC_ERROR, 'Block not available (not fully downloaded)');
      const blockTxids = block.txs.map((t) => t.txid());
      const wanted = (id: Uint8Array) => seen.has(reverseHex(id));
      if (blockTxids.filter(wanted).length !== seen.size)
        throw new RpcError(
          RpcCode.INVALID_ADDRESS_OR_KEY,
          'Not all transactions found in specified or retrieved block',
        );
      return bytesToHex(MerkleBlock.fromBlock(block.header, blockTxids, wanted).encode());
    },
  );

  reg(
    'verifytxoutproof',
    ['proof'],
    'The txids a gettxoutproof proof commits to; [] if it does not check out.',
    async (r) => {
      const hex = r.string(0);
      if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex))
        throw new RpcError(RpcCode.INVALID_PARAMETER, `proof must be hexadecimal string (not '${hex}')`);
      let proof: MerkleBlock;
      try {
        proof = MerkleBlock.decode(hexToBytes(hex));
      } catch (e) {
        if (e instanceof DecodeError) throw new RpcError(RpcCode.MISC_ERROR, `Invalid proof: ${e.message}`);
        throw e;
      }
      const matches = proof.verify();
      if (matches === null) return [];
      const entry = chain.getEntry(proof.header.hash());
      const block =
        entry && chain.isOnActiveChain(entry) && entry.hasData()
          ? await chain.getBlock(entry.hash)
          : undefined;
      if (block === undefined) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block not found in chain');
      // The count is part of what the root commits to only through the tree's shape, so Core
      // checks it against the block it has.
      if (block.txs.length !== proof.tree.numTransactions) return [];
      return matches.map((m) => reverseHex(m.txid));
    },
  );
}
