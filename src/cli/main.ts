#!/usr/bin/env node
// The `tally` command. Owns: parsing the command line and printing results. Does not own any
// node logic; it reaches a running node over RPC or starts one through node/. Fails with one line
// on stderr ("error: ...") and a non-zero exit status, never a stack trace.
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { paramsOf } from '../node/network-file.js';
import { ConfigError, cookiePath, loadConfig, type NodeConfig } from '../node/config.js';
import { RpcClient, RpcConnectionError } from '../rpc/client.js';
import { RpcError } from '../rpc/errors.js';
import { CliError, oneLine, rpcErrorLine, withoutErrorPrefix } from './errors.js';
import { addWalletCommands, coins, destinationPath, feeRateOption, importLabels } from './wallet-command.js';
import { prettyJsonText, resultText } from './json-text.js';
import { readPassphrase } from './prompt.js';
import { addNodeCommand, coreNetworkFlags } from './node-command.js';
import { addMineCommand } from './mine-command.js';
import { addNetworkCommand } from './network-command.js';
import { addAnchorCommand } from './anchor-command.js';
import { addDevnetCommand } from './devnet-command.js';
import { installProcessConsole } from './console.js';

const require = createRequire(import.meta.url);
const pkg = require('../../../package.json') as { version: string };

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };
}

interface GlobalOpts {
  network?: string;
  regtest?: string | boolean;
  testnet?: string | boolean;
  chain?: string;
  datadir?: string;
  conf?: string;
  rpcport?: string;
  rpcconnect?: string;
  rpcuser?: string;
  rpcpassword?: string;
  rpcwallet?: string;
  wallet?: string;
  json?: boolean;
}

/** bitcoin-cli's rule: an argument that parses as JSON is sent as JSON, anything else as a string. */
export function parseRpcArg(arg: string): unknown {
  try {
    return JSON.parse(arg);
  } catch {
    return arg;
  }
}

function clientFor(g: GlobalOpts): { client: RpcClient; config: NodeConfig } {
  const config = loadConfig({
    network: g.network,
    ...coreNetworkFlags(g),
    datadir: g.datadir,
    conf: g.conf,
    rpcport: g.rpcport,
    rpcconnect: g.rpcconnect,
  });
  const port = config.rpcport ?? paramsOf(config).rpcPort;
  const client = new RpcClient({
    host: config.rpcconnect ?? '127.0.0.1',
    port,
    user: g.rpcuser ?? config.rpcuser,
    password: g.rpcpassword ?? config.rpcpassword,
    cookieFile: cookiePath(config),
    wallet: g.wallet ?? g.rpcwallet,
  });
  return { client, config };
}

function nonNegativeInt(option: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new CliError(`invalid ${option} ${value}: expected a non-negative integer`);
  return n;
}

/** As bitcoin-cli: a string plainly, null as nothing, anything else as indented JSON whose
 * numbers are the reply's own text (amounts keep their 8 decimals). */
function printResult(io: CliIO, result: unknown, replyText?: string): void {
  if (typeof result === 'string') io.stdout.write(result + '\n');
  else if (result === null || result === undefined) return;
  else {
    const raw = replyText !== undefined ? resultText(replyText) : undefined;
    io.stdout.write((raw !== undefined ? prettyJsonText(raw) : JSON.stringify(result, null, 2)) + '\n');
  }
}

interface CreateOptions {
  name: string;
  passphrase?: string;
  askPassphrase?: boolean;
  mnemonic?: string;
  labels?: string;
}

export function buildProgram(io: CliIO): Command {
  const program = new Command();
  const out = (s: string) => io.stdout.write(s + '\n');
  program
    .name('tally')
    .description('Tally: full node, miner and wallet')
    .version(pkg.version)
    .option('--network <name>', 'network: main, test or regtest')
    .option('--regtest [bool]', 'the regtest network (as Core: -regtest)')
    .option('--testnet [bool]', 'the test network (as Core: -testnet)')
    .option('--chain <name>', 'network, as Core names the option, or a network file NAME.json')
    .option('--datadir <dir>', 'data directory (default ~/.tally)')
    .option('--conf <file>', 'config file (default DATADIR/tally.conf)')
    .option('--rpcport <port>', 'RPC port of the node')
    .option('--rpcconnect <host>', 'RPC host of the node (default: 127.0.0.1)')
    .option('--rpcuser <user>', 'RPC user (default: the node .cookie file)')
    .option('--rpcpassword <password>', 'RPC password')
    .option('--wallet <name>', 'wallet to use when the node has several loaded')
    .option('--rpcwallet <name>', 'the same as --wallet (as bitcoin-cli names it)')
    .option('--json', 'print results as JSON')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const g = () => program.opts<GlobalOpts>();
  let lastReply: string | undefined;
  const call = async <T>(
    method: string,
    params: unknown[] | Record<string, unknown> = [],
    wallet?: string,
  ): Promise<T> => {
    const opts = wallet === undefined ? g() : { ...g(), wallet };
    const { result, text } = await clientFor(opts).client.callWithText<T>(method, params);
    lastReply = text;
    return result;
  };
  const emit = (result: unknown, human: () => void) =>
    g().json ? printResult(io, result, lastReply) : human();

  addNodeCommand(program, io, g);
  addNetworkCommand(program, io, () => g().json === true);
  addDevnetCommand(program, io);
  addAnchorCommand(program, io, {
    call: (method, params) => call(method, params ?? []),
    network: () => {
      const { config } = clientFor(g());
      return { params: paramsOf(config), networkDir: config.networkDir };
    },
    json: () => g().json === true,
  });
  addMineCommand(program, io, {
    params: () => paramsOf(clientFor(g()).config),
    rpcClient: (url, signal) => {
      const { config } = clientFor(g());
      return new RpcClient({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port || paramsOf(config).rpcPort),
        user: url.username ? decodeURIComponent(url.username) : (g().rpcuser ?? config.rpcuser),
        password: url.password ? decodeURIComponent(url.password) : (g().rpcpassword ?? config.rpcpassword),
        cookieFile: cookiePath(config),
        // A long poll is held up to 60 s by the node.
        timeoutMs: 90_000,
        signal,
      });
    },
  });

  program
    .command('rpc')
    .description('call a JSON-RPC method of the running node (arguments parse as JSON when they can)')
    .argument('<method>', 'method name, e.g. getblockcount; `tally rpc help` lists them')
    .argument('[params...]', 'parameters')
    .action(async (method: string, params: string[]) => {
      printResult(io, await call(method, params.map(parseRpcArg)), lastReply);
    });

  const wallet = program.command('wallet').description('use the wallet of the running node');
  wallet
    .command('create')
    .description('create a wallet and show its recovery phrase')
    .option('--name <name>', 'wallet name', 'default')
    .option('--passphrase <passphrase>', 'encrypt the wallet with this passphrase')
    .option('--ask-passphrase', 'prompt for the passphrase')
    .option('--mnemonic <words>', 'restore from an existing recovery phrase')
    .option('--labels <file>', 'with --mnemonic: set the labels of a `tally wallet label --export` file')
    .action(async (o: CreateOptions) => {
      let passphrase = o.passphrase;
      if (o.askPassphrase) passphrase = await readPassphrase('New passphrase: ', io.stdin, io.stderr);
      const r = await call<{ name: string; warnings?: string[]; mnemonic: string }>('createwallet', {
        wallet_name: o.name,
        passphrase,
        mnemonic: o.mnemonic,
      });
      emit(r, () => {
        out(`Created wallet "${r.name}".`);
        out('Recovery phrase (write it down and keep it safe; it is not shown again):');
        out(`  ${r.mnemonic}`);
        for (const w of r.warnings ?? []) out(`Warning: ${w}`);
      });
      // The phrase holds the keys, not the labels: they come back from the exported file.
      if (o.labels !== undefined)
        await importLabels(o.labels, (a, l) => call('setlabel', [a, l], r.name), out, g().json);
    });
  wallet
    .command('address')
    .description('a new receiving address')
    .option('--label <label>', 'label for the address')
    .action(async (o: { label?: string }) => {
      const a = await call<string>('getnewaddress', o.label !== undefined ? [o.label] : []);
      emit(a, () => out(a));
    });
  wallet
    .command('balance')
    .description('confirmed, unconfirmed and immature balances')
    .action(async () => {
      const r = await call<{ mine: { trusted: number; untrusted_pending: number; immature: number } }>(
        'getbalances',
      );
      emit(r, () => {
        out(`confirmed:   ${coins(r.mine.trusted)}`);
        out(`unconfirmed: ${coins(r.mine.untrusted_pending)}`);
        out(`immature:    ${coins(r.mine.immature)}`);
      });
    });
  wallet
    .command('send')
    .description('send AMOUNT coins to ADDRESS')
    .argument('<address>', 'destination address')
    .argument('<amount>', 'amount in coins, e.g. 1.5')
    .option('--fee-rate <satPerByte>', 'fee rate in base units per byte')
    .action(async (address: string, amount: string, o: { feeRate?: string }) => {
      const params: Record<string, unknown> = { address, amount };
      const rate = feeRateOption(o.feeRate);
      if (rate !== undefined) params.fee_rate = rate;
      const txid = await call<string>('sendtoaddress', params);
      emit(txid, () => out(txid));
    });
  wallet
    .command('history')
    .description('recent transactions')
    .option('--count <n>', 'how many entries', '10')
    .option('--skip <n>', 'skip the most recent n entries', '0')
    .action(async (o: { count: string; skip: string }) => {
      const count = nonNegativeInt('--count', o.count);
      const skip = nonNegativeInt('--skip', o.skip);
      const entries = await call<
        {
          time: number;
          category: string;
          amount: number;
          confirmations: number;
          address?: string;
          txid: string;
        }[]
      >('listtransactions', ['*', count, skip]);
      emit(entries, () => {
        if (entries.length === 0) out('no transactions');
        for (const e of entries) {
          const when = new Date(e.time * 1000).toISOString().replace('T', ' ').slice(0, 19);
          out(
            `${when}  ${e.category.padEnd(8)} ${coins(e.amount).padStart(18)}  ${String(e.confirmations).padStart(6)} conf  ${e.address ?? ''}  ${e.txid}`,
          );
        }
      });
    });
  wallet
    .command('abandon')
    .description('give up an unconfirmed transaction the node no longer holds, freeing its coins')
    .argument('<txid>', 'the transaction id')
    .action(async (txid: string) => {
      await call('abandontransaction', [txid]);
      emit(null, () => out(`Transaction ${txid} abandoned; its coins can be spent again.`));
    });
  wallet
    .command('unlock')
    .description('unlock the wallet for a while (prompts for the passphrase)')
    .option('--timeout <seconds>', 'how long to stay unlocked', '300')
    .option('--passphrase <passphrase>', 'the passphrase (default: prompt, or first line of stdin)')
    .action(async (o: { timeout: string; passphrase?: string }) => {
      const timeout = nonNegativeInt('--timeout', o.timeout);
      if (timeout === 0) throw new CliError(`invalid --timeout ${o.timeout}: expected a positive integer`);
      const passphrase = o.passphrase ?? (await readPassphrase('Passphrase: ', io.stdin, io.stderr));
      await call('walletpassphrase', [passphrase, timeout]);
      emit(null, () => out(`Wallet unlocked for ${timeout} seconds.`));
    });
  wallet
    .command('lock')
    .description('lock the wallet now')
    .action(async () => {
      await call('walletlock');
      emit(null, () => out('Wallet locked.'));
    });
  wallet
    .command('backup')
    .description('copy the wallet file to DESTINATION (written by the node, on its machine)')
    .argument('<destination>', 'file path; a relative one is taken from the current directory')
    .option('--force', 'replace DESTINATION if it exists')
    .action(async (dest: string, o: { force?: boolean }) => {
      const destination = destinationPath(dest, o.force);
      await call('backupwallet', [destination]);
      emit(null, () => out(`Wallet backed up to ${destination}.`));
    });
  wallet
    .command('load')
    .description('load a wallet from the data directory')
    .argument('<name>', 'wallet name')
    .action(async (name: string) => {
      await call('loadwallet', [name]);
      emit(null, () => out(`Loaded wallet "${name}".`));
    });
  wallet
    .command('list')
    .description('loaded wallets')
    .action(async () => {
      const names = await call<string[]>('listwallets');
      emit(names, () => out(names.length ? names.join('\n') : 'no wallet loaded'));
    });
  addWalletCommands(wallet, { call, emit, out });
  return program;
}

const GLOBALS_WITH_VALUE = new Set([
  '--network',
  '--datadir',
  '--conf',
  '--rpcport',
  '--rpcconnect',
  '--rpcuser',
  '--rpcpassword',
  '--rpcwallet',
  '--wallet',
  '--chain',
]);

/**
 * Core's single-dash options (-regtest, -rpcport=18443, -txindex) as the double-dash ones: before
 * the command, and everywhere after `node` (whose arguments are all options). A command's own
 * arguments (an RPC parameter such as -1) are left alone.
 */
export function coreStyleArgs(argv: string[]): string[] {
  const out: string[] = [];
  let rewrite = true;
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (rewrite && /^-[a-z][a-z0-9-]+(=.*)?$/s.test(a)) a = '-' + a;
    out.push(a);
    if (!rewrite || a.startsWith('-')) {
      if (rewrite && GLOBALS_WITH_VALUE.has(a) && i + 1 < argv.length) out.push(argv[++i]);
      continue;
    }
    rewrite = a === 'node';
  }
  return out;
}

/** The words of the command that ran (['wallet', 'send']), for the error line. */
function commandWords(cmd: Command | undefined): string[] {
  const words: string[] = [];
  for (let c = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words;
}

/** Runs the command line; returns the exit status. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  let ran: Command | undefined;
  program.hook('preAction', (_root, action) => {
    ran = action;
  });
  try {
    await program.parseAsync(coreStyleArgs(argv), { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    let message: string;
    if (e instanceof RpcError) {
      const g = program.opts<GlobalOpts>();
      let network = g.network ?? 'main';
      let call: ((method: string) => Promise<unknown>) | undefined;
      try {
        const { client, config } = clientFor(g);
        network = config.network;
        call = (method) => client.call(method, []);
      } catch {
        // The error came from the node, so its options were good; nothing to add if not.
      }
      message = await rpcErrorLine(e, { command: commandWords(ran), network, call });
    } else if (e instanceof RpcConnectionError || e instanceof ConfigError || e instanceof CliError)
      message = e.message;
    else message = e instanceof Error ? e.message : String(e);
    io.stderr.write(`error: ${oneLine(withoutErrorPrefix(message))}\n`);
    return 1;
  }
}

function isMain(): boolean {
  if (process.argv[1] === undefined) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  installProcessConsole();
  // runCli catches every failure and answers an exit code, so the promise never rejects.
  void runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  }).then((code) => {
    process.exitCode = code;
  });
}
