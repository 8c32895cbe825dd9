// Anchoring records in the chain (docs/anchor.md). A transaction commits to files by one
// OP_RETURN output holding ANCHOR_TAG and a 32-byte root: the SHA-256 of the file when there is
// one, else the root of the anchor tree over the files' SHA-256s in the order given, where a
// parent is SHA-256(0x01 || left || right) and an odd last node moves up unchanged (no
// duplication, so no two file lists share a root by the CVE-2012-2459 trick; the 0x01 prefix
// keeps a parent from passing for a file hash). A proof carries a file's path to the root, the
// transaction, Core's gettxoutproof bytes for it and the block header, and is checked here
// without a node: file hash -> root -> OP_RETURN of the transaction -> txid in the partial merkle
// tree -> the header's merkle root -> the header's proof of work.
// Owns: the tree, the payload, the proof's JSON form and the offline check. Pure: no I/O.
import { checkProofOfWork } from '../consensus/pow.js';
import type { ChainParams } from '../consensus/params.js';
import { sha256 } from '../crypto/hash.js';
import { BlockHeader } from '../primitives/block.js';
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from '../primitives/bytes.js';
import { MerkleBlock } from '../primitives/merkle-block.js';
import { Tx } from '../primitives/tx.js';
import { nullDataScript } from '../script/standard.js';

/** The first bytes of an anchor's OP_RETURN data: the ASCII of "tally:anchor:1". */
export const ANCHOR_TAG = new TextEncoder().encode('tally:anchor:1');

/** One step of a file's path: the sibling's hash and which side of the parent it is on. */
export interface PathStep {
  side: 'left' | 'right';
  hash: string;
}

/** The JSON that `tally anchor proof` writes and `tally anchor verify` reads. */
export interface AnchorProof {
  version: 1;
  network: string;
  /** The network's genesis block hash: which chain the proof is of. */
  genesis: string;
  file_sha256: string;
  /** Position of the file among the anchored files, and their number. */
  leaf_index: number;
  leaf_count: number;
  /** Siblings from the file's hash up to the root. */
  path: PathStep[];
  root: string;
  txid: string;
  /** The transaction in hex. */
  tx: string;
  /** Core's gettxoutproof bytes (verifytxoutproof accepts them). */
  txoutproof: string;
  blockhash: string;
  /** The 80-byte block header in hex. */
  header: string;
  height: number;
}

const node = (left: Uint8Array, right: Uint8Array) => sha256(concatBytes(Uint8Array.of(1), left, right));

/** The anchor root over file hashes and each file's path to it (empty for a single file). */
export function anchorTree(leaves: readonly Uint8Array[]): { root: Uint8Array; paths: PathStep[][] } {
  if (leaves.length === 0) throw new Error('no files to anchor');
  const paths: PathStep[][] = leaves.map(() => []);
  // Which leaves sit under each node of the current level.
  let level = leaves.map((h, i) => ({ hash: h, under: [i] }));
  while (level.length > 1) {
    const next: typeof level = [];
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i];
      const r = level[i + 1];
      if (r === undefined) {
        next.push(l);
        continue;
      }
      for (const k of l.under) paths[k].push({ side: 'right', hash: bytesToHex(r.hash) });
      for (const k of r.under) paths[k].push({ side: 'left', hash: bytesToHex(l.hash) });
      next.push({ hash: node(l.hash, r.hash), under: [...l.under, ...r.under] });
    }
    level = next;
  }
  return { root: level[0].hash, paths };
}

/** The root a file hash reaches by its path. */
export function foldPath(leaf: Uint8Array, path: readonly PathStep[]): Uint8Array {
  let h = leaf;
  for (const step of path) {
    const sib = hexToBytes(step.hash);
    if (sib.length !== 32) throw new Error('a path hash is not 32 bytes');
    h = step.side === 'left' ? node(sib, h) : node(h, sib);
  }
  return h;
}

/** The OP_RETURN data committing to a root: ANCHOR_TAG then the root (46 bytes). */
export function anchorData(root: Uint8Array): Uint8Array {
  return concatBytes(ANCHOR_TAG, root);
}

/** The OP_RETURN script committing to a root. */
export function anchorScript(root: Uint8Array): Uint8Array {
  return nullDataScript(anchorData(root));
}

export class ProofError extends Error {}

/** What an offline check established. */
export interface OfflineResult {
  txid: string;
  blockhash: string;
  height: number;
}

/**
 * Checks a proof for a file's SHA-256 without a node: every link from the file to the header's
 * proof of work under `params`. Throws ProofError naming the first link that fails.
 */
export function verifyOffline(fileHash: Uint8Array, proof: AnchorProof, params: ChainParams): OfflineResult {
  const fail = (why: string): never => {
    throw new ProofError(why);
  };
  if (proof.version !== 1) fail(`unknown proof version ${String(proof.version)}`);
  if (proof.genesis !== params.genesis.hashHex())
    fail(
      `the proof is of network ${proof.network} (genesis ${proof.genesis}), not ${params.name}: pass its --chain`,
    );
  if (bytesToHex(fileHash) !== proof.file_sha256)
    fail(`the file's SHA-256 is ${bytesToHex(fileHash)}, the proof is for ${proof.file_sha256}`);
  let tx: Tx;
  let mb: MerkleBlock;
  let header: BlockHeader;
  let root: Uint8Array;
  try {
    root = foldPath(fileHash, proof.path);
    tx = Tx.decode(hexToBytes(proof.tx));
    mb = MerkleBlock.decode(hexToBytes(proof.txoutproof));
    header = BlockHeader.decode(hexToBytes(proof.header));
  } catch (e) {
    return fail(`the proof file is malformed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (bytesToHex(root) !== proof.root.toLowerCase())
    fail('the file does not lead to the anchored root by its path');
  const script = anchorScript(root);
  if (!tx.outputs.some((o) => equalBytes(o.scriptPubKey, script)))
    fail(`transaction ${tx.txidHex()} has no OP_RETURN output committing to root ${proof.root}`);
  const matches = mb.verify() ?? fail('the merkle proof does not reach its header’s merkle root');
  if (!matches.some((m) => equalBytes(m.txid, tx.txid())))
    fail(`the merkle proof does not contain transaction ${tx.txidHex()}`);
  if (!equalBytes(mb.header.encode(), header.encode()))
    fail('the merkle proof is of another block than the header');
  if (header.hashHex() !== proof.blockhash)
    fail(`the header is of block ${header.hashHex()}, not ${proof.blockhash}`);
  if (!checkProofOfWork(header.hash(), header.bits, params))
    fail(`block ${header.hashHex()} does not meet its proof-of-work target`);
  return { txid: tx.txidHex(), blockhash: header.hashHex(), height: proof.height };
}
