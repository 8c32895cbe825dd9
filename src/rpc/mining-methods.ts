// Mining RPC methods with Bitcoin Core's names, parameters, result fields and error codes:
// getblocktemplate (BIP22 templates, BIP23 proposals, long polling), submitblock, getmininginfo,
// getnetworkhashps and generatetoaddress. Owns: the JSON shapes and mapping chain verdicts onto
// Core's BIP22 result strings. Does not own templates, the producer or validation (mining/,
// chain/). Fails with RpcError: -22 for undecodable blocks, -5 for a bad address, -8/-3 for bad
// parameters, -9 when main has no peers, -10 during main's initial block download.
import type { ChainParams } from '../consensus/params.js';
import type { BlockTemplate } from '../mining/template.js';
import { AddressError, addressToScript } from '../primitives/address.js';
import { Block } from '../primitives/block.js';
import { bytesToHex, hashFromHex, hexToBytes, reverseHex } from '../primitives/bytes.js';
import { DescriptorError } from './descriptor.js';
import { parseDescriptorText } from './descriptor-parse.js';
import { descriptorScript, rpcDescriptor } from './descriptor-methods.js';
import { decodeTx } from './rawtx-methods.js';
import type { Tx } from '../primitives/tx.js';
import { RpcCode, RpcError } from './errors.js';
import { methodRegistrar } from './params.js';
import type { ChainPort, EventHooks, MempoolPort, ProducerPort, TemplatePort } from './ports.js';
import type { RpcServer } from './server.js';
import { difficultyFromBits, targetHex, u32Hex } from './chain-json.js';

/**
 * Hands a solved block to the chain and says how it went in BIP22's words: null when it became
 * the tip, else "duplicate", "duplicate-invalid", "inconclusive" or the reject reason. Shared by
 * submitblock and the Stratum server.
 */
export async function submitBlock(chain: ChainPort, block: Block): Promise<string | null> {
  const known = chain.getEntry(block.hash());
  if (known?.hasData()) return known.isFailed() ? 'duplicate-invalid' : 'duplicate';
  const res = await chain.processBlock(block);
  if (!res.accepted) return res.reason ?? 'rejected';
  if (!res.isNew) return 'duplicate';
  if (res.orphan) return 'inconclusive';
  const entry = chain.getEntry(block.hash());
  // Valid but on a side branch with less work: stored, not connected (Core says inconclusive).
  if (!entry || !chain.isOnActiveChain(entry)) return 'inconclusive';
  return null;
}

export interface MiningRpcDeps {
  chain: ChainPort;
  mempool: Pick<MempoolPort, 'size' | 'revision' | 'get' | 'settled'>;
  params: ChainParams;
  producer: ProducerPort;
  templates: TemplatePort<BlockTemplate>;
  connectionCount: () => number;
  isInitialBlockDownload: () => boolean;
  /** Unix seconds (default the wall clock). */
  now?: () => number;
  /** Longest wait of a long poll (default 60 s, as a miner re-asks anyway). */
  longPollSeconds?: number;
}

/** Core's RPC_CLIENT_NOT_CONNECTED and RPC_CLIENT_IN_INITIAL_DOWNLOAD. */
export const RPC_CLIENT_NOT_CONNECTED = -9;
export const RPC_CLIENT_IN_INITIAL_DOWNLOAD = -10;
/** A template is rebuilt at most this often while only the mempool changes (Core: 5 s). */
const TEMPLATE_CACHE_SECONDS = 5;
const DEFAULT_HASHPS_BLOCKS = 120;
const DEFAULT_MAX_TRIES = 1_000_000;

/** Core's GetNetworkHashPS: chain work over the time span of the last `blocks` blocks up to `height`. */
export function networkHashPs(chain: ChainPort, blocks: number, height: number): number {
  const tip = chain.tip;
  const pb = height >= 0 && height < tip.height ? chain.getEntryAtHeight(height) : tip;
  if (!pb || pb.height === 0) return 0;
  // -1 (since the last retarget) means nothing under ASERT's per-block rule: use the default span.
  let lookup = blocks <= 0 ? DEFAULT_HASHPS_BLOCKS : blocks;
  if (lookup > pb.height) lookup = pb.height;
  let minTime = pb.time;
  let maxTime = pb.time;
  let pb0 = pb;
  for (let i = 0; i < lookup; i++) {
    pb0 = pb0.prev ?? pb0;
    minTime = Math.min(minTime, pb0.time);
    maxTime = Math.max(maxTime, pb0.time);
  }
  if (minTime === maxTime) return 0;
  return Number(pb.chainWork - pb0.chainWork) / (maxTime - minTime);
}

/**
 * The output script a block pays to, from what generatetoaddress ('address'), generatetodescriptor
 * ('descriptor') or generateblock ('either': a descriptor, else an address) was given; -5 with
 * Core's message when it is neither.
 */
function payoutScript(
  text: string,
  accept: 'address' | 'descriptor' | 'either',
  prefixes: ChainParams['prefixes'],
): Uint8Array {
  if (accept === 'descriptor') return descriptorScript(rpcDescriptor(text, prefixes));
  if (accept === 'either') {
    try {
      return descriptorScript(parseDescriptorText(text, prefixes));
    } catch (e) {
      if (!(e instanceof DescriptorError)) throw e;
    }
  }
  try {
    return addressToScript(text, prefixes);
  } catch (e) {
    if (!(e instanceof AddressError)) throw e;
    const what = accept === 'either' ? 'address or descriptor' : 'address';
    throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Error: Invalid ${what}`);
  }
}

function decodeBlock(hex: string): Block {
  let block: Block;
  try {
    block = Block.decode(hexToBytes(hex));
  } catch {
    throw new RpcError(RpcCode.DESERIALIZATION_ERROR, 'Block decode failed');
  }
  if (block.txs.length === 0 || !block.txs[0].isCoinbase())
    throw new RpcError(RpcCode.DESERIALIZATION_ERROR, 'Block does not start with a coinbase');
  return block;
}

/**
 * Registers the methods; node/ calls the returned hook on a new tip (a long poll ends then).
 * longpollid and the template cache read the pool's revision.
 */
export function registerMiningMethods(server: RpcServer, deps: MiningRpcDeps): EventHooks {
  const { chain, mempool, params, producer, templates } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const longPollMs = (deps.longPollSeconds ?? 60) * 1000;

  // Mempool changes, counted for longpollid and for the template cache.
  const tipWaiters = new Set<() => void>();

  let cached: { tipHash: string; version: number; at: number; template: BlockTemplate } | null = null;
  const currentTemplate = (): BlockTemplate => {
    const t = now();
    const tipHash = chain.tip.hashHex;
    if (
      cached &&
      cached.tipHash === tipHash &&
      (cached.version === mempool.revision || t - cached.at < TEMPLATE_CACHE_SECONDS)
    ) {
      // Same template, the clock moved on (Core's UpdateTime).
      cached.template.curtime = Math.max(t, cached.template.mintime);
      return cached.template;
    }
    const template = templates.create(t);
    cached = { tipHash, version: mempool.revision, at: t, template };
    return template;
  };
  const longPollId = (): string => `${chain.tip.hashHex}${mempool.revision}`;

  /** Resolves when the tip changes, or after the wait if the mempool changed meanwhile. */
  const longPoll = (id: string): Promise<void> =>
    new Promise((resolve) => {
      const startTip = chain.tip.hashHex;
      const startVersion = mempool.revision;
      let timer: NodeJS.Timeout;
      const done = (): void => {
        clearTimeout(timer);
        tipWaiters.delete(onTip);
        resolve();
      };
      const onTip = (): void => {
        if (chain.tip.hashHex !== startTip) done();
      };
      const tick = (): void => {
        if (mempool.revision !== startVersion || !id.startsWith(startTip)) done();
        else {
          timer = setTimeout(tick, longPollMs);
          timer.unref();
        }
      };
      tipWaiters.add(onTip);
      timer = setTimeout(tick, longPollMs);
      timer.unref();
    });

  const reg = methodRegistrar(server);

  reg(
    'getblocktemplate',
    ['template_request'],
    'Returns data needed to construct a block to work on (BIP22), or checks a block proposal (BIP23, ' +
      'mode "proposal": null when valid, else the reject reason).',
    async (r) => {
      const req = r.has(0) ? r.object(0) : {};
      const mode = req.mode ?? 'template';
      if (mode === 'proposal') {
        if (typeof req.data !== 'string')
          throw new RpcError(RpcCode.TYPE_ERROR, 'Missing data String key for proposal');
        if (!/^([0-9a-fA-F]{2})*$/.test(req.data))
          throw new RpcError(RpcCode.DESERIALIZATION_ERROR, 'Block decode failed');
        const block = decodeBlock(req.data);
        const known = chain.getEntry(block.hash());
        if (known) {
          if (known.isFailed()) return 'duplicate-invalid';
          if (known.hasData()) return 'duplicate';
          return 'duplicate-inconclusive';
        }
        return templates.checkProposal(block, now());
      }
      if (mode !== 'template') throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid mode');
      // Core's IsTestChain: test networks skip the peer and initial-sync checks, so a GBT miner
      // can start a fresh chain at height 0.
      if (params.name === 'main' || params.name === 'bitcoin') {
        if (deps.connectionCount() === 0)
          throw new RpcError(RPC_CLIENT_NOT_CONNECTED, 'Tally is not connected!');
        if (deps.isInitialBlockDownload())
          throw new RpcError(
            RPC_CLIENT_IN_INITIAL_DOWNLOAD,
            'Tally is in initial sync and waiting for blocks...',
          );
      }
      if (req.longpollid !== undefined && req.longpollid !== null) {
        if (typeof req.longpollid !== 'string')
          throw new RpcError(RpcCode.TYPE_ERROR, 'longpollid must be a string');
        if (req.longpollid === longPollId()) await longPoll(req.longpollid);
      }
      // A reorg's transactions back in the pool first (Core builds templates under its lock).
      await mempool.settled();
      const t = currentTemplate();
      return {
        capabilities: ['proposal'],
        version: t.version,
        rules: [],
        vbavailable: {},
        vbrequired: 0,
        previousblockhash: reverseHex(t.prevHash),
        transactions: t.txs.map((x) => ({
          data: bytesToHex(x.tx.encode()),
          txid: x.txid,
          hash: x.txid,
          depends: x.depends,
          fee: Number(x.fee),
          sigops: x.sigops,
          weight: x.tx.size * 4,
        })),
        coinbaseaux: {},
        coinbasevalue: Number(t.coinbaseValue),
        longpollid: longPollId(),
        target: t.target.toString(16).padStart(64, '0'),
        mintime: t.mintime,
        mutable: ['time', 'transactions', 'prevblock'],
        noncerange: '00000000ffffffff',
        sigoplimit: params.maxBlockSigops,
        sizelimit: params.maxBlockSize,
        curtime: t.curtime,
        bits: u32Hex(t.bits),
        height: t.height,
      };
    },
  );

  reg(
    'submitblock',
    ['hexdata', 'dummy'],
    'Attempts to submit a new block to the network (BIP22): null when accepted, otherwise ' +
      '"duplicate", "inconclusive" or the reject reason.',
    async (r) => {
      const hex = r.string(0);
      if (!/^([0-9a-fA-F]{2})*$/.test(hex))
        throw new RpcError(RpcCode.DESERIALIZATION_ERROR, 'Block decode failed');
      return submitBlock(chain, decodeBlock(hex));
    },
  );

  reg(
    'getmininginfo',
    [],
    'Returns mining-related information: blocks, difficulty, network and local hash rate, pool size.',
    () => {
      const next = chain.nextWorkRequired();
      return {
        blocks: chain.height,
        bits: u32Hex(chain.tip.bits),
        difficulty: difficultyFromBits(chain.tip.header.bits),
        target: targetHex(chain.tip.bits),
        networkhashps: networkHashPs(chain, DEFAULT_HASHPS_BLOCKS, -1),
        pooledtx: mempool.size,
        chain: params.name,
        generate: producer.running,
        hashespersec: Math.round(producer.hashrate),
        kernel: producer.kernel,
        blocksfound: producer.blocksFound,
        next: {
          height: chain.height + 1,
          bits: u32Hex(next),
          difficulty: difficultyFromBits(next),
          target: targetHex(next),
        },
        warnings: [],
      };
    },
  );

  reg(
    'getnetworkhashps',
    ['nblocks', 'height'],
    'Returns the estimated network hashes per second over the last nblocks blocks (default 120; ' +
      '-1 also means 120, as ASERT has no retarget period) ending at height (default -1, the tip).',
    (r) => networkHashPs(chain, r.optInt(0, DEFAULT_HASHPS_BLOCKS), r.optInt(1, -1)),
  );

  reg(
    'generatetoaddress',
    ['nblocks', 'address', 'maxtries'],
    'Mines nblocks blocks immediately to address (meant for regtest) and returns their hashes; ' +
      'stops early after maxtries nonces (default 1000000).',
    async (r) => {
      const n = r.int(0, 0);
      const address = r.string(1);
      const maxTries = r.optInt(2, DEFAULT_MAX_TRIES, 1);
      return producer.mineBlocks(n, payoutScript(address, 'address', params.prefixes), { maxTries });
    },
  );

  reg(
    'generatetodescriptor',
    ['num_blocks', 'descriptor', 'maxtries'],
    'Mines num_blocks blocks immediately to the output script of an unranged descriptor (meant for ' +
      'regtest) and returns their hashes; combo() pays its P2PKH output.',
    async (r) => {
      const n = r.int(0, 0);
      const script = payoutScript(r.string(1), 'descriptor', params.prefixes);
      const maxTries = r.optInt(2, DEFAULT_MAX_TRIES, 1);
      return producer.mineBlocks(n, script, { maxTries });
    },
  );

  reg(
    'generateblock',
    ['output', 'transactions', 'submit'],
    'Mines a block with exactly the given transactions (raw hex, or txids of pool transactions) to an ' +
      'address or descriptor; returns its hash (and its hex when submit is false).',
    async (r) => {
      const output = r.string(0);
      const script = payoutScript(output, 'either', params.prefixes);
      const txs: Tx[] = [];
      for (const item of r.array(1)) {
        if (typeof item !== 'string')
          throw new RpcError(
            RpcCode.TYPE_ERROR,
            `JSON value of type ${typeof item} is not of expected type string`,
          );
        if (/^[0-9a-fA-F]{64}$/.test(item)) {
          const entry = mempool.get(hashFromHex(item));
          if (!entry)
            throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, `Transaction ${item} not in mempool.`);
          txs.push(entry.tx);
        } else
          txs.push(
            decodeTx(item, `Transaction decode failed for ${item}. Make sure the tx has at least one input.`),
          );
      }
      const submit = r.optBool(2, true);
      const made = await producer.generateBlock(script, txs, { submit, maxTries: DEFAULT_MAX_TRIES });
      if ('invalid' in made)
        throw new RpcError(RpcCode.VERIFY_ERROR, `TestBlockValidity failed: ${made.invalid}`);
      if ('failed' in made) throw new RpcError(RpcCode.MISC_ERROR, 'Failed to make block.');
      if ('notAccepted' in made)
        throw new RpcError(RpcCode.INTERNAL_ERROR, 'ProcessNewBlock, block not accepted');
      const hash = made.block.hashHex();
      return submit ? { hash } : { hash, hex: bytesToHex(made.block.encode()) };
    },
  );

  return {
    tipChanged: () => {
      for (const w of [...tipWaiters]) w();
    },
  };
}
