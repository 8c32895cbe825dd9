// `tally network create|show`: a network of one's own, as a file anyone can join with
// `tally node --chain NAME.json`. Owns the command line and the printed summary; the rules and the
// genesis mining are node/network-create's, the checks consensus/params'. Fails with one line.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ChainParams } from '../consensus/params.js';
import { formatCoins, parseCoins } from '../rpc/amount.js';
import { bytesToHex } from '../primitives/bytes.js';
import { createNetwork } from '../node/network-create.js';
import { loadNetworkFile } from '../node/network-file.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import type { CliIO } from './main.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface CreateFlags {
  seed?: string[];
  spacing?: string;
  halfLife?: string;
  maxBlockSize?: string;
  subsidy?: string;
  prefixP2pkh?: string;
  prefixP2sh?: string;
  prefixWif?: string;
  powLimit?: string;
  port?: string;
  rpcport?: string;
  message?: string;
  out?: string;
  force?: boolean;
  threads?: string;
}

function int(option: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`invalid ${option} ${v}: expected a non-negative integer`);
  return Number(v);
}

/** What a party joining the network should compare with what its creator published. */
export function describeNetwork(p: ChainParams, file: string): Record<string, unknown> {
  const msg = p.genesis.txs[0].inputs[0].scriptSig;
  return {
    name: p.name,
    file,
    genesis: p.genesis.hashHex(),
    genesis_time: new Date(p.genesis.header.time * 1000).toISOString(),
    genesis_message: new TextDecoder().decode(msg.subarray(msg[1] === 0x4c ? 3 : 2)),
    magic: bytesToHex(p.magic),
    p2p_port: p.defaultPort,
    rpc_port: p.rpcPort,
    target_spacing: p.targetSpacing,
    retarget: p.retarget.kind === 'asert' ? `ASERT, half-life ${p.retarget.halfLife} s` : p.retarget.kind,
    pow_limit_bits: p.powLimitBits.toString(16).padStart(8, '0'),
    subsidy: formatCoins(p.initialSubsidy),
    halving_interval: p.halvingInterval,
    coinbase_maturity: p.coinbaseMaturity,
    max_block_size: p.maxBlockSize,
    prefixes: { ...p.prefixes },
    seeds: [...p.seeds],
  };
}

function printDescription(io: CliIO, d: Record<string, unknown>, json: boolean): void {
  if (json) {
    io.stdout.write(JSON.stringify(d, null, 2) + '\n');
    return;
  }
  for (const [k, v] of Object.entries(d)) {
    // Numbers, booleans and objects print as JSON writes them (the --json form prints the same values).
    const text = Array.isArray(v)
      ? v.length
        ? v.join(' ')
        : '(none)'
      : typeof v === 'string'
        ? v
        : JSON.stringify(v);
    io.stdout.write(`${(k + ':').padEnd(19)}${text}\n`);
  }
}

export function addNetworkCommand(program: Command, io: CliIO, json: () => boolean): void {
  const network = program.command('network').description("a network of one's own: create one, show one");
  network
    .command('create')
    .description('write NAME.json: a new network with a fresh magic and a genesis block mined now')
    .argument('<name>', 'lowercase letters, digits and -; also the data folder ~/.tally/NAME')
    .option('--seed <url>', 'a peer everyone can reach, ws://HOST:PORT (repeatable)', collect)
    .option('--spacing <seconds>', 'target seconds between blocks (default 600)')
    .option('--half-life <seconds>', 'ASERT half-life (default 36 spacings; 0: no retarget)')
    .option('--max-block-size <bytes>', 'largest block (default 1000000)')
    .option('--subsidy <coins>', 'first block reward, halving every 210,000 blocks (default 50)')
    .option('--prefix-p2pkh <n>', 'address version byte of P2PKH (default the test network)')
    .option('--prefix-p2sh <n>', 'address version byte of P2SH')
    .option('--prefix-wif <n>', 'version byte of private keys (WIF)')
    .option('--pow-limit <bits>', 'easiest target, compact hex (default 1e00ffff; 207fffff as regtest)')
    .option('--port <port>', 'default P2P port (default: a random free pair above 20000)')
    .option('--rpcport <port>', 'default RPC port')
    .option('--message <text>', "the genesis coinbase's text (default: the name and creation time)")
    .option('--threads <n>', 'mining threads for the genesis block (default: one per core)')
    .option('--out <file>', 'where to write (default ./NAME.json)')
    .option('--force', 'overwrite the file')
    .action(async (name: string, o: CreateFlags, cmd: Command) => {
      // The global --rpcport and this command's share a name; commander gives it to the program.
      const rpcport = o.rpcport ?? cmd.parent?.parent?.opts<{ rpcport?: string }>().rpcport;
      const out = resolve(o.out ?? `${name}.json`);
      if (existsSync(out) && !o.force) throw new Error(`${out} exists; choose --out FILE or add --force`);
      let subsidy: bigint | undefined;
      if (o.subsidy !== undefined) {
        const n = Number(o.subsidy);
        if (!/^\d+(\.\d{1,8})?$/.test(o.subsidy) || !Number.isFinite(n))
          throw new Error(`invalid --subsidy ${o.subsidy}: expected coins, e.g. 50 or 0.5`);
        subsidy = parseCoins(n);
      }
      let powLimitBits: number | undefined;
      if (o.powLimit !== undefined) {
        if (!/^(0x)?[0-9a-fA-F]{1,8}$/.test(o.powLimit))
          throw new Error(`invalid --pow-limit ${o.powLimit}: expected compact hex such as 1e00ffff`);
        powLimitBits = parseInt(o.powLimit.replace(/^0x/, ''), 16);
      }
      const prefixes = {
        pubkeyHash: int('--prefix-p2pkh', o.prefixP2pkh),
        scriptHash: int('--prefix-p2sh', o.prefixP2sh),
        wif: int('--prefix-wif', o.prefixWif),
      };
      io.stderr.write(`mining the genesis block of ${name}...\n`);
      const created = await createNetwork({
        name,
        seeds: o.seed,
        spacing: int('--spacing', o.spacing),
        halfLife: int('--half-life', o.halfLife),
        maxBlockSize: int('--max-block-size', o.maxBlockSize),
        subsidy,
        prefixes: Object.fromEntries(Object.entries(prefixes).filter(([, v]) => v !== undefined)),
        powLimitBits,
        port: int('--port', o.port),
        rpcPort: int('--rpcport', rpcport),
        message: o.message,
        threads: int('--threads', o.threads),
      });
      // Mining took a while: look again (no await from here to the write). Whole or not at all,
      // and 0644 on purpose: the file is public, meant to be handed to whoever joins.
      if (existsSync(out) && !o.force) throw new Error(`${out} appeared while mining; nothing written`);
      writeFileAtomic(out, JSON.stringify(created.file, null, 2) + '\n', { mode: 0o644 });
      io.stderr.write(
        `genesis mined in ${created.seconds.toFixed(1)} s (${created.hashes} hashes on ${created.threads} ` +
          `thread${created.threads === 1 ? '' : 's'}); wrote ${out}\n` +
          `run it: tally node --chain ${out} (give the file to whoever joins; they check the genesis hash)\n`,
      );
      printDescription(io, describeNetwork(created.params, out), json());
    });
  network
    .command('show')
    .description('what a joining party checks: genesis hash, magic, rules, seeds')
    .argument('<file>', 'a network file NAME.json')
    .action((file: string) => {
      const path = resolve(file);
      printDescription(io, describeNetwork(loadNetworkFile(path), path), json());
    });
}
