// `tally anchor FILE...`, `tally anchor proof TXID FILE` and `tally anchor verify FILE PROOF`
// (docs/anchor.md). Owns: hashing the files (streamed, so a large file is not read into memory),
// building and sending the anchoring transaction through the node's wallet with Core's raw
// transaction calls (one confirmed coin, an OP_RETURN output and change), the record of an
// anchor's files under DATADIR/anchors/ (a proof needs the other files' hashes), fetching a
// proof, and the verdict of a verification with or without a node. The tree and the offline
// check are anchor.ts's. Fails with one line (CliError) and exit status 1.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ChainParams } from '../consensus/params.js';
import { dustThreshold } from '../mempool/policy.js';
import { bytesToHex, hexToBytes } from '../primitives/bytes.js';
import { TxOut } from '../primitives/tx.js';
import { formatCoins, parseCoins } from '../rpc/amount.js';
import { RpcConnectionError } from '../rpc/client.js';
import { RpcCode, RpcError } from '../rpc/errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import {
  type AnchorProof,
  anchorData,
  anchorScript,
  anchorTree,
  ProofError,
  verifyOffline,
} from './anchor.js';
import { CliError } from './errors.js';
import type { CliIO } from './main.js';
import { feeRateOption } from './wallet-command.js';

export interface AnchorDeps {
  call: <T>(method: string, params?: unknown[]) => Promise<T>;
  /** The chosen network's parameters and its folder (DATADIR/NAME). */
  network: () => { params: ChainParams; networkDir: string };
  json: () => boolean;
}

/** What `tally anchor` keeps of an anchor, so that a proof can give a file's path in its tree. */
interface AnchorRecord {
  txid: string;
  root: string;
  files: { name: string; sha256: string }[];
}

/** Bytes of the anchoring transaction at most: one P2PKH input (148), the OP_RETURN output
 * (8 + 1 + its script), a P2PKH change output (34) and the version, counts and locktime (10). */
const txBytes = (script: Uint8Array) => 148 + 9 + script.length + 34 + 10;

export async function fileSha256(file: string): Promise<Uint8Array> {
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return new Uint8Array(h.digest());
}

function readProof(file: string): AnchorProof {
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as AnchorProof;
    if (typeof p !== 'object' || p === null || !Array.isArray(p.path)) throw new Error('not an anchor proof');
    return p;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new CliError(`cannot read the proof ${file}: ${why}`);
  }
}

const recordPath = (networkDir: string, txid: string) => join(networkDir, 'anchors', `${txid}.json`);

export function addAnchorCommand(program: Command, io: CliIO, deps: AnchorDeps): void {
  const out = (s: string): void => void io.stdout.write(s + '\n');
  const { call } = deps;

  /** base units per byte: the option, else the node's estimate, else its relay floor. */
  async function feeRate(option: string | undefined): Promise<number> {
    const given = feeRateOption(option);
    if (given !== undefined) return given;
    const est = await call<{ feerate?: number }>('estimatesmartfee', [6]);
    if (est.feerate !== undefined) return (est.feerate * 1e8) / 1000;
    const pool = await call<{ mempoolminfee: number; minrelaytxfee: number }>('getmempoolinfo');
    return (Math.max(pool.mempoolminfee, pool.minrelaytxfee) * 1e8) / 1000;
  }

  const anchor = program
    .command('anchor')
    .description(
      'commit the SHA-256 of files (a Merkle root of several) to the chain in an OP_RETURN output; ' +
        '`anchor proof` and `anchor verify` prove it (docs/anchor.md)',
    )
    .argument('[files...]', 'the files to anchor')
    .option('--fee-rate <satPerByte>', 'fee rate in base units per byte')
    .action(async (files: string[], o: { feeRate?: string }) => {
      if (files.length === 0) throw new CliError('name at least one file to anchor');
      const hashes: Uint8Array[] = [];
      for (const f of files) hashes.push(await fileSha256(f));
      const { root } = anchorTree(hashes);
      const script = anchorScript(root);
      const fee = BigInt(Math.ceil((await feeRate(o.feeRate)) * txBytes(script)));
      const dust = dustThreshold(new TxOut(0n, new Uint8Array(25)));
      const coins = (
        await call<{ txid: string; vout: number; amount: number; spendable: boolean }[]>('listunspent', [1])
      )
        .filter((c) => c.spendable)
        .map((c) => ({ ...c, value: parseCoins(c.amount) }))
        .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
      const coin = coins.find((c) => c.value >= fee);
      if (coin === undefined)
        throw new CliError(
          `the wallet has no confirmed coin of at least ${formatCoins(fee)} to pay the anchor's fee`,
        );
      const outputs: Record<string, string>[] = [{ data: bytesToHex(anchorData(root)) }];
      const change = coin.value - fee;
      if (change >= dust) outputs.push({ [await call<string>('getrawchangeaddress')]: formatCoins(change) });
      const raw = await call<string>('createrawtransaction', [
        [{ txid: coin.txid, vout: coin.vout }],
        outputs,
      ]);
      const signed = await call<{ hex: string; complete: boolean }>('signrawtransactionwithwallet', [raw]);
      if (!signed.complete) throw new CliError('the wallet could not sign the anchoring transaction');
      const txid = await call<string>('sendrawtransaction', [signed.hex]);
      const record: AnchorRecord = {
        txid,
        root: bytesToHex(root),
        files: files.map((name, i) => ({ name, sha256: bytesToHex(hashes[i]) })),
      };
      // Owner-only (0600, the writeFileAtomic default) as everything in the data directory.
      writeFileAtomic(recordPath(deps.network().networkDir, txid), JSON.stringify(record, null, 2) + '\n');
      if (deps.json()) return out(JSON.stringify(record, null, 2));
      out(`anchored ${files.length} file${files.length === 1 ? '' : 's'} in transaction ${txid}`);
      out(`root ${record.root}`);
      out(`once it is in a block: tally anchor proof ${txid} FILE > FILE.proof`);
    });

  anchor
    .command('proof')
    .description('print the proof (JSON) that FILE is anchored by transaction TXID, once it is in a block')
    .argument('<txid>', 'the anchoring transaction')
    .argument('<file>', 'one of the anchored files')
    .action(async (txid: string, file: string) => {
      const { params, networkDir } = deps.network();
      const hash = bytesToHex(await fileSha256(file));
      let record: AnchorRecord;
      try {
        record = JSON.parse(readFileSync(recordPath(networkDir, txid), 'utf8')) as AnchorRecord;
      } catch {
        // Not anchored from this data directory: a single file's anchor needs no record.
        record = { txid, root: hash, files: [{ name: file, sha256: hash }] };
      }
      const leaves = record.files.map((f) => hexToBytes(f.sha256));
      const index = record.files.findIndex((f) => f.sha256 === hash);
      if (index < 0)
        throw new CliError(`${file} (SHA-256 ${hash}) is not one of the files anchored by ${txid}`);
      const { root, paths } = anchorTree(leaves);
      const tx = await call<{ blockhash?: string; hex: string }>('getrawtransaction', [txid, 1]).catch(() =>
        call<{ blockhash?: string; hex: string }>('gettransaction', [txid]),
      );
      if (tx.blockhash === undefined)
        throw new CliError(`transaction ${txid} is not in a block yet: ask again after a confirmation`);
      const header = await call<{ height: number; confirmations: number }>('getblockheader', [tx.blockhash]);
      const proof: AnchorProof = {
        version: 1,
        network: params.name,
        genesis: params.genesis.hashHex(),
        file_sha256: hash,
        leaf_index: index,
        leaf_count: leaves.length,
        path: paths[index],
        root: bytesToHex(root),
        txid,
        tx: tx.hex,
        txoutproof: await call<string>('gettxoutproof', [[txid], tx.blockhash]),
        blockhash: tx.blockhash,
        header: await call<string>('getblockheader', [tx.blockhash, false]),
        height: header.height,
      };
      // The transaction must commit to this root: checked now rather than by whoever gets the proof.
      try {
        verifyOffline(hexToBytes(hash), proof, params);
      } catch (e) {
        if (e instanceof ProofError) throw new CliError(`no proof for ${file}: ${e.message}`);
        throw e;
      }
      out(JSON.stringify(proof, null, 2));
    });

  anchor
    .command('verify')
    .description('check that FILE is anchored as PROOF says: offline, then on the node when one answers')
    .argument('<file>', 'the file')
    .argument('<proof>', 'its proof from `tally anchor proof`')
    .action(async (file: string, proofFile: string) => {
      const proof = readProof(proofFile);
      const { params } = deps.network();
      let got;
      try {
        got = verifyOffline(await fileSha256(file), proof, params);
      } catch (e) {
        if (e instanceof ProofError) throw new CliError(`${file}: proof does not hold: ${e.message}`);
        throw e;
      }
      const where = `${file}: anchored in transaction ${got.txid}, block ${got.blockhash} at height ${got.height}`;
      let confirmations: number;
      try {
        confirmations = (await call<{ confirmations: number }>('getblockheader', [got.blockhash]))
          .confirmations;
      } catch (e) {
        if (e instanceof RpcError && e.code === RpcCode.INVALID_ADDRESS_OR_KEY)
          throw new CliError(`${file}: the node does not know block ${got.blockhash}`);
        if (!(e instanceof RpcConnectionError)) throw e;
        return out(`${where} (checked offline; no node answered, so its place in the chain is not checked)`);
      }
      if (confirmations < 1)
        throw new CliError(`${file}: block ${got.blockhash} is not on the node's most-work chain`);
      out(
        `${where}, on the most-work chain, ${confirmations} confirmation${confirmations === 1 ? '' : 's'} deep`,
      );
    });
}
