// The `tally wallet` subcommands beyond the basics in main.ts: sendmany, label, sign-message,
// verify-message, bump-fee, lock-coin/unlock-coin/locked-coins, import, export, restore. Each is one RPC method of the node
// (Core's), printed for people by default and as the raw result with --json. Fails with CliError
// for bad arguments (one line, naming the argument); RPC errors are worded by errors.ts.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatCoins, parseCoins } from '../rpc/amount.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { CliError } from './errors.js';

export interface WalletCommandDeps {
  call: <T>(method: string, params?: unknown[] | Record<string, unknown>) => Promise<T>;
  /** Prints the raw result with --json, else runs human(). */
  emit: (result: unknown, human: () => void) => void;
  out: (line: string) => void;
}

/** An RPC amount (a JSON number in coins) printed with 8 decimals; sends are negative. */
export function coins(v: unknown): string {
  const n = typeof v === 'number' ? v : Number(v);
  const sats = parseCoins(Math.abs(n));
  return formatCoins(n < 0 ? -sats : sats);
}

/** --fee-rate N (sat/vB, decimals allowed), as the RPC's fee_rate. */
export function feeRateOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (value.trim() === '' || !Number.isFinite(rate) || rate < 0)
    throw new CliError(`invalid --fee-rate ${value}: expected a number of base units per byte (sat/vB)`);
  return rate;
}

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CliError(`${what} ${file} is not JSON: ${(e as Error).message}`);
  }
}

/** ADDR=AMOUNT pairs and/or a JSON file {address: amount} -> sendmany's amounts (coins as strings). */
export function paymentsOf(pairs: string[], file: string | undefined): Record<string, string> {
  const amounts: Record<string, string> = {};
  const add = (address: string, amount: string, from: string) => {
    if (address === '' || !/^\d+(\.\d+)?$/.test(amount))
      throw new CliError(`invalid payment ${from}: expected ADDRESS=AMOUNT with AMOUNT in coins, e.g. 1.5`);
    if (address in amounts) throw new CliError(`address ${address} is paid twice`);
    amounts[address] = amount;
  };
  if (file !== undefined) {
    const json = readJsonFile(file, 'payments file');
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw new CliError(`payments file ${file}: expected a JSON object {"ADDRESS": AMOUNT, ...}`);
    for (const [a, v] of Object.entries(json))
      add(a, typeof v === 'number' ? String(v) : String(v), `${a} in ${file}`);
  }
  for (const p of pairs) {
    const i = p.lastIndexOf('=');
    add(i < 0 ? '' : p.slice(0, i), i < 0 ? '' : p.slice(i + 1), p);
  }
  if (Object.keys(amounts).length === 0)
    throw new CliError('no payments: give ADDRESS=AMOUNT pairs or --file PAYMENTS.json');
  return amounts;
}

/** TXID:VOUT -> {txid, vout}. */
export function outpointOf(text: string): { txid: string; vout: number } {
  const m = /^([0-9a-fA-F]{64}):(\d{1,9})$/.exec(text);
  if (m === null) throw new CliError(`invalid coin ${text}: expected TXID:VOUT`);
  return { txid: m[1].toLowerCase(), vout: Number(m[2]) };
}

/** Sets every label of a `label --export` file through setLabel; returns how many. */
export async function importLabels(
  file: string,
  setLabel: (address: string, label: string) => Promise<unknown>,
  out: (line: string) => void,
  quiet = false,
): Promise<number> {
  const json = readJsonFile(file, 'labels file');
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new CliError(`labels file ${file}: expected a JSON object {"ADDRESS": "LABEL", ...}`);
  const entries = Object.entries(json as Record<string, unknown>);
  for (const [a, l] of entries)
    if (typeof l !== 'string') throw new CliError(`labels file ${file}: the label of ${a} is not a string`);
  for (const [a, l] of entries) await setLabel(a, l as string);
  if (!quiet) out(`${entries.length} labels set from ${file}.`);
  return entries.length;
}

/**
 * The absolute path (the node writes the file, and its working directory is not the user's) of a
 * file a wallet command is about to write; refuses one that exists unless --force was given.
 */
export function destinationPath(file: string, force: boolean | undefined): string {
  const path = resolve(file);
  if (force !== true && existsSync(path))
    throw new CliError(`${path} exists: choose another file, or add --force to replace it`);
  return path;
}

export function addWalletCommands(wallet: Command, d: WalletCommandDeps): void {
  const { call, emit, out } = d;

  wallet
    .command('sendmany')
    .description('pay several addresses in one transaction')
    .argument('[payments...]', 'ADDRESS=AMOUNT pairs, amounts in coins')
    .option('--file <payments.json>', 'a JSON object {"ADDRESS": AMOUNT, ...} of payments')
    .option('--fee-rate <satPerByte>', 'fee rate in base units per byte')
    .action(async (pairs: string[], o: { file?: string; feeRate?: string }) => {
      const amounts = paymentsOf(pairs, o.file);
      const params: Record<string, unknown> = { dummy: '', amounts };
      const rate = feeRateOption(o.feeRate);
      if (rate !== undefined) params.fee_rate = rate;
      const r = await call<{ txid: string }>('sendmany', { ...params, verbose: true });
      let human = false;
      emit(r, () => (human = true));
      if (!human) return;
      // Core's verbose result has no fee ({txid, fee_reason}): the wallet's record of it does.
      const { fee } = await call<{ fee: number }>('gettransaction', [r.txid]);
      out(r.txid);
      out(`paid ${Object.keys(amounts).length} addresses, fee ${coins(-fee)} coins`);
    });

  wallet
    .command('label')
    .description('set the label of an address, or list the labels')
    .argument('[address]', 'the address to label (none: list every label and its addresses)')
    .argument('[label]', 'the label ("" removes it)')
    .option(
      '--export <file>',
      'write every label as JSON {"ADDRESS": "LABEL"} (to keep them across a restore from the phrase)',
    )
    .option('--import <file>', 'set the labels of such a file')
    .action(
      async (
        address: string | undefined,
        label: string | undefined,
        o: { export?: string; import?: string },
      ) => {
        if (o.import !== undefined) {
          const n = await importLabels(
            o.import,
            (a, l) => call('setlabel', [a, l]),
            () => undefined,
            true,
          );
          emit(n, () => out(`${n} labels set from ${o.import}.`));
          return;
        }
        if (address !== undefined) {
          if (label === undefined) throw new CliError('missing the label: tally wallet label ADDRESS LABEL');
          await call('setlabel', [address, label]);
          emit(null, () =>
            out(label === '' ? `Label of ${address} removed.` : `${address} is labelled "${label}".`),
          );
          return;
        }
        const labels = await call<string[]>('listlabels');
        const byAddress: Record<string, string> = {};
        for (const l of labels) {
          if (l === '') continue;
          const addrs = await call<Record<string, unknown>>('getaddressesbylabel', [l]);
          for (const a of Object.keys(addrs)) byAddress[a] = l;
        }
        if (o.export !== undefined) {
          // Owner-only even over an existing file (writeFileSync's mode applies only to a new one).
          writeFileAtomic(o.export, JSON.stringify(byAddress, null, 2) + '\n');
          emit(byAddress, () => out(`${Object.keys(byAddress).length} labels written to ${o.export}.`));
          return;
        }
        emit(byAddress, () => {
          const entries = Object.entries(byAddress);
          if (entries.length === 0) out('no labels');
          for (const [a, l] of entries) out(`${a}  ${l}`);
        });
      },
    );

  wallet
    .command('sign-message')
    .description('sign a message with the key of one of your addresses ("Tally Signed Message:\\n" magic)')
    .argument('<address>', 'an address of this wallet')
    .argument('<message>', 'the message')
    .action(async (address: string, message: string) => {
      const sig = await call<string>('signmessage', [address, message]);
      emit(sig, () => out(sig));
    });

  wallet
    .command('verify-message')
    .description('check that SIGNATURE signs MESSAGE with the key of ADDRESS (exit status 1 if not)')
    .argument('<address>', 'the address that signed')
    .argument('<signature>', 'the base64 signature')
    .argument('<message>', 'the message')
    .action(async (address: string, signature: string, message: string) => {
      const ok = await call<boolean>('verifymessage', [address, signature, message]);
      if (!ok) throw new CliError(`the signature does not sign this message with the key of ${address}`);
      emit(ok, () => out('The signature is valid.'));
    });

  wallet
    .command('bump-fee')
    .description('replace an unconfirmed send of yours with one paying a higher fee')
    .argument('<txid>', 'the transaction to speed up')
    .option('--fee-rate <satPerByte>', 'the new fee rate in base units per byte (default: the estimate)')
    .action(async (txid: string, o: { feeRate?: string }) => {
      const rate = feeRateOption(o.feeRate);
      const r = await call<{ txid: string; origfee: number; fee: number; errors: string[] }>('bumpfee', [
        txid,
        rate === undefined ? {} : { fee_rate: rate },
      ]);
      emit(r, () => {
        out(r.txid);
        out(`fee raised from ${coins(r.origfee)} to ${coins(r.fee)} coins; ${txid} is replaced`);
      });
    });

  wallet
    .command('lock-coin')
    .description('keep coins out of sends until unlocked (`tally wallet locked-coins` lists them)')
    .argument('<coins...>', 'TXID:VOUT of each coin')
    .option('--persistent', 'keep the lock across restarts (in the wallet file)')
    .action(async (list: string[], o: { persistent?: boolean }) => {
      const outpoints = list.map(outpointOf);
      const r = await call<boolean>('lockunspent', [false, outpoints, o.persistent === true]);
      emit(r, () => out(`${outpoints.length} coin${outpoints.length === 1 ? '' : 's'} locked.`));
    });

  wallet
    .command('unlock-coin')
    .description('let locked coins be spent again')
    .argument('[coins...]', 'TXID:VOUT of each coin')
    .option('--all', 'unlock every locked coin')
    .action(async (list: string[], o: { all?: boolean }) => {
      if (list.length === 0 && !o.all)
        throw new CliError('name the coins (TXID:VOUT) to unlock, or add --all');
      if (list.length > 0 && o.all) throw new CliError('give either coins or --all, not both');
      const outpoints = list.map(outpointOf);
      const r = await call<boolean>('lockunspent', o.all ? [true] : [true, outpoints]);
      emit(r, () =>
        out(
          o.all
            ? 'Every coin unlocked.'
            : `${outpoints.length} coin${outpoints.length === 1 ? '' : 's'} unlocked.`,
        ),
      );
    });

  wallet
    .command('locked-coins')
    .description('the coins locked by lock-coin')
    .action(async () => {
      const r = await call<{ txid: string; vout: number }[]>('listlockunspent');
      emit(r, () => {
        if (r.length === 0) out('no locked coins');
        for (const c of r) out(`${c.txid}:${c.vout}`);
      });
    });
  wallet
    .command('export')
    .description("write every key of the wallet to FILE in Core's dumpwallet text format (keep it secret)")
    .argument('<file>', 'file path; a relative one is taken from the current directory')
    .option('--force', 'replace FILE if it exists')
    .action(async (file: string, o: { force?: boolean }) => {
      const path = destinationPath(file, o.force);
      // dumpwallet refuses an existing file (as Core's): --force has been given, so clear the way.
      rmSync(path, { force: true });
      const r = await call<{ filename: string }>('dumpwallet', [path]);
      emit(r, () => out(`Keys written to ${r.filename}: anyone holding this file can spend the coins.`));
    });
  wallet
    .command('import')
    .description('import a WIF private key, an address to watch, or a `tally wallet export` file')
    .argument('<what>', 'a WIF key, an address, or the path of an export (dumpwallet) file')
    .option('--label <label>', 'label for an imported key or address')
    .action(async (what: string, o: { label?: string }) => {
      const path = resolve(what);
      if (existsSync(path)) {
        await call('importwallet', [path]);
        emit(null, () => out(`Imported the keys of ${path}.`));
        return;
      }
      // An address is not a key: try it as one first, then as an address (one error line if neither).
      const asKey = await call('importprivkey', [what, o.label ?? '']).then(
        () => true,
        (e: unknown) => {
          if ((e as { code?: number }).code !== -5) throw e;
          return false;
        },
      );
      if (!asKey)
        await call('importaddress', [what, o.label ?? '']).catch((e: unknown) => {
          if ((e as { code?: number }).code !== -5) throw e;
          throw new CliError(
            `cannot import ${what}: not a private key (WIF), an address of this network, nor a file`,
          );
        });
      emit(null, () => out(asKey ? 'Private key imported.' : `Watching ${what} (watch-only).`));
    });
  wallet
    .command('restore')
    .description('make a `tally wallet backup` file a loaded wallet of this node')
    .argument('<file>', 'the backup file')
    .option('--name <name>', 'the new wallet name (default: the file name without .json)')
    .action(async (file: string, o: { name?: string }) => {
      const path = resolve(file);
      const name = o.name ?? (path.split('/').pop() ?? 'restored').replace(/\.json$/, '');
      await call('restorewallet', [name, path]).catch((e: unknown) => {
        if ((e as { code?: number }).code !== -36) throw e;
        throw new CliError(`a wallet named "${name}" exists already: choose another with --name NAME`);
      });
      emit({ name }, () => out(`Restored wallet "${name}" from ${path}.`));
    });
}
