// What the command line says when something fails: one line, in the command line's terms. The
// node's RPC errors are written for RPC users (Core's wording: "walletpassphrase", "loadwallet",
// "min relay fee not met, 0 < 225"); a person at `tally wallet ...` is told the command to run
// instead. `tally rpc` is for RPC users and keeps the node's wording (less a doubled "Error:").
// Everything here is the one place that maps codes and messages to people's wording.
import { RpcCode, RpcError } from '../rpc/errors.js';

/** A bad argument or option of the command line, found before or without the node. */
export class CliError extends Error {}

/** What the failed command was and how to ask the node for context (fee floors). */
export interface ErrorContext {
  /** The command's words, e.g. ['wallet', 'send']; ['rpc'] keeps the node's wording. */
  command: string[];
  /** The network the command used (main, test, regtest or a network file's name). */
  network: string;
  /** Calls the node; used only to name a fee floor in sat/vB. */
  call?: (method: string) => Promise<unknown>;
}

/** Core's messages often start "Error: "; the CLI prints its own "error: " in front. */
export function withoutErrorPrefix(message: string): string {
  return message.replace(/^(error:\s*)+/i, '');
}

/** coins per 1,000 bytes (an RPC fee rate) -> "N sat/vB" with at most 3 decimals. */
function satPerVb(coinsPerKb: unknown): string | undefined {
  if (typeof coinsPerKb !== 'number' || !Number.isFinite(coinsPerKb)) return undefined;
  const v = Math.round(coinsPerKb * 1e8) / 1000;
  return `${v} sat/vB`;
}

async function feeFloor(ctx: ErrorContext, poolFull: boolean): Promise<string | undefined> {
  if (ctx.call === undefined) return undefined;
  try {
    if (poolFull) {
      const info = (await ctx.call('getmempoolinfo')) as { mempoolminfee?: unknown };
      return satPerVb(info.mempoolminfee);
    }
    const info = (await ctx.call('getnetworkinfo')) as { relayfee?: unknown };
    return satPerVb(info.relayfee);
  } catch {
    return undefined;
  }
}

/** A wallet name quoted in one of the node's messages. */
function quotedName(message: string): string | undefined {
  return /"([^"]*)"/.exec(message)?.[1];
}

/** One line (no trailing newline, no leading "error: ") for an RPC error of a non-`rpc` command. */
async function peopleLine(e: RpcError, ctx: ErrorContext): Promise<string | undefined> {
  const m = withoutErrorPrefix(e.message);
  // The wallet's own floor on an explicit rate (Core's -6/-4/-8 "Fee rate (X) is lower than ...").
  const below =
    /^Fee rate \([\d.]+ sat\/vB\) is lower than the minimum fee rate setting \(([\d.]+) sat\/vB\)/.exec(m);
  if (below !== null)
    return `fee rate too low: at least ${Number(below[1])} sat/vB (the node's minimum relay fee); raise --fee-rate`;
  switch (e.code) {
    case RpcCode.WALLET_UNLOCK_NEEDED:
      return 'the wallet is locked: run `tally wallet unlock` first';
    case RpcCode.WALLET_PASSPHRASE_INCORRECT:
      return 'wrong passphrase: the wallet stays locked';
    case RpcCode.WALLET_NOT_FOUND: {
      if (/^No wallet is loaded/.test(m))
        return 'no wallet is loaded: run `tally wallet load NAME` (or `tally wallet create`), or name one with `--wallet NAME`';
      const name = quotedName(m);
      if (name !== undefined && /not loaded/.test(m))
        return `wallet "${name}" is not loaded: run \`tally wallet load ${name}\` (\`tally wallet list\` shows the loaded ones)`;
      return undefined;
    }
    case RpcCode.WALLET_NOT_SPECIFIED:
      return 'several wallets are loaded: choose one with `--wallet NAME` (`tally wallet list` shows them)';
    case RpcCode.WALLET_INSUFFICIENT_FUNDS:
      return 'not enough coins for this payment and its fee (`tally wallet balance` shows what can be spent)';
    case RpcCode.VERIFY_REJECTED: {
      const poolFull = /^mempool min fee not met/.test(m);
      if (!poolFull && !/^min relay fee not met/.test(m)) return undefined;
      const floor = await feeFloor(ctx, poolFull);
      const why = poolFull ? "the node's pool is full" : "the node's minimum relay fee";
      return floor === undefined
        ? `fee rate too low (${why}): raise --fee-rate`
        : `fee rate too low: at least ${floor} (${why}); raise --fee-rate`;
    }
    case RpcCode.INVALID_ADDRESS_OR_KEY: {
      const other = /it is an address of (.+?)(?: \(--network (\S+)\))?$/.exec(m);
      if (other !== null)
        return `that address belongs to ${other[1]}, not to ${ctx.network === 'main' ? 'the main network' : `the ${ctx.network} network`} this command uses${other[2] !== undefined ? ` (use --network ${other[2]} for it)` : ''}`;
      return undefined;
    }
    case RpcCode.WALLET_ERROR:
    case RpcCode.INVALID_PARAMETER: {
      const fee = /would pay ([\d.]+) coins, above maxtxfee ([\d.]+)/.exec(m);
      if (fee !== null)
        return (
          `the fee would be ${fee[1]} coins, above the node's ceiling of ${fee[2]} coins: lower --fee-rate, ` +
          `or allow it by starting the node with --maxtxfee ${fee[1]} (maxtxfee=${fee[1]} in tally.conf)`
        );
      if (/^Fee exceeds maximum|maxfeerate/.test(m))
        return `${m}: lower --fee-rate, or allow a higher fee with the node's --maxtxfee (maxtxfee= in tally.conf)`;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The line the CLI prints (without "error: ") for an RPC error. */
export async function rpcErrorLine(e: RpcError, ctx: ErrorContext): Promise<string> {
  if (ctx.command[0] !== 'rpc') {
    const line = await peopleLine(e, ctx);
    if (line !== undefined) return line;
  }
  let line = `${withoutErrorPrefix(e.message)} (code ${e.code})`;
  // As bitcoin-cli: the node cannot know the option that names a wallet; the CLI can.
  if (e.code === RpcCode.WALLET_NOT_SPECIFIED) line += ' Try adding "--wallet NAME" to the command.';
  return oneLine(line);
}

/** Any message on one line (a multi-line message would read as several errors). */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
