// Wallet RPC methods that read what the wallet holds or received, or steer which coins and keys
// it uses: getreceivedby*, listreceivedby*, labels, address groupings, the unconfirmed balance,
// locked coins, the key pool, listsinceblock and rescans, with Core's parameters, fields and
// codes. Owns only the mapping; the wallet's reading is wallet/received.ts and Wallet's own.
import { addressToScript } from '../primitives/address.js';
import { addressGroupings, addressesWithLabel, receivedByAddress } from '../wallet/received.js';
import type { Wallet } from '../wallet/wallet.js';
import { JsonAmount } from './amount.js';
import { RpcCode, RpcError } from './errors.js';
import type { ParamReader } from './params.js';
import type { BlockInfo } from './ports.js';
import type { RpcServer } from './server.js';
import {
  historyJson,
  rescanWallet,
  runningRescan,
  walletRegistrar,
  type WalletRpcDeps,
} from './wallet-common.js';

const amount = (sats: bigint) => new JsonAmount(sats);

/** A label parameter: any string but "*" (Core's LabelFromValue). */
function labelParam(r: ParamReader, i: number): string {
  const label = r.string(i);
  if (label === '*') throw new RpcError(RpcCode.WALLET_INVALID_LABEL_NAME, 'Invalid label name');
  return label;
}

/** Every address the label names; "" names the handed-out addresses without one. */
function labelled(wallet: Wallet, label: string): string[] {
  if (label !== '') return addressesWithLabel(wallet, label);
  const labels = wallet.labels();
  return wallet.receiveAddresses().filter((a) => labels[a] === undefined);
}

export function registerWalletInfoMethods(server: RpcServer, deps: WalletRpcDeps): void {
  const reg = walletRegistrar(server, deps.wallets);

  reg(
    'getreceivedbyaddress',
    ['address', 'minconf', 'include_immature_coinbase'],
    'Total received by an address of the wallet in transactions with at least minconf confirmations.',
    (r, _c, w) => {
      const wallet = w();
      const address = r.string(0);
      const script = addressToScript(address, wallet.prefixes);
      if (wallet.keyOf(script) === undefined)
        throw new RpcError(RpcCode.WALLET_ERROR, 'Address not found in wallet');
      const got = receivedByAddress(wallet, r.optInt(1, 1, 0), r.optBool(2, false)).get(address);
      return amount(got?.amount ?? 0n);
    },
  );

  reg(
    'getreceivedbylabel',
    ['label', 'minconf', 'include_immature_coinbase'],
    'Total received by the addresses with a label in transactions with at least minconf confirmations.',
    (r, _c, w) => {
      const wallet = w();
      const addresses = labelled(wallet, labelParam(r, 0));
      if (addresses.length === 0) throw new RpcError(RpcCode.WALLET_ERROR, 'Label not found in wallet');
      const all = receivedByAddress(wallet, r.optInt(1, 1, 0), r.optBool(2, false));
      return amount(addresses.reduce((s, a) => s + (all.get(a)?.amount ?? 0n), 0n));
    },
  );

  /** Core's ListReceived by address: receiving addresses only, empty ones when asked. */
  const listReceived = (r: ParamReader, wallet: Wallet, filterIndex: number, immatureIndex: number) => {
    const all = receivedByAddress(wallet, r.optInt(0, 1, 0), r.optBool(immatureIndex, false));
    const includeEmpty = r.optBool(1, false);
    const only = filterIndex >= 0 && r.has(filterIndex) ? r.string(filterIndex) : undefined;
    if (only !== undefined) addressToScript(only, wallet.prefixes);
    const labels = wallet.labels();
    const addresses = includeEmpty
      ? [
          ...new Set([
            ...wallet.receiveAddresses(),
            ...[...all.values()].filter((x) => x.receiving).map((x) => x.address),
          ]),
        ]
      : [...all.values()].filter((x) => x.receiving).map((x) => x.address);
    return addresses
      .filter((a) => only === undefined || a === only)
      .map((address) => {
        const got = all.get(address);
        return {
          address,
          amount: got?.amount ?? 0n,
          confirmations: got === undefined ? 0 : got.confirmations,
          label: labels[address] ?? '',
          txids: got?.txids ?? [],
        };
      });
  };

  reg(
    'listreceivedbyaddress',
    ['minconf', 'include_empty', 'include_watchonly', 'address_filter', 'include_immature_coinbase'],
    'Amounts received by each receiving address: [{address, amount, confirmations, label, txids}].',
    (r, _c, w) => listReceived(r, w(), 3, 4).map((x) => ({ ...x, amount: amount(x.amount) })),
  );

  reg(
    'listreceivedbylabel',
    ['minconf', 'include_empty', 'include_watchonly', 'include_immature_coinbase'],
    'Amounts received by each label: [{amount, confirmations, label}].',
    (r, _c, w) => {
      const byLabel = new Map<string, { amount: bigint; confirmations: number; seen: boolean }>();
      for (const x of listReceived(r, w(), -1, 3)) {
        const prev = byLabel.get(x.label) ?? {
          amount: 0n,
          confirmations: Number.MAX_SAFE_INTEGER,
          seen: false,
        };
        const counted = x.txids.length > 0;
        byLabel.set(x.label, {
          amount: prev.amount + x.amount,
          confirmations: counted ? Math.min(prev.confirmations, x.confirmations) : prev.confirmations,
          seen: prev.seen || counted,
        });
      }
      return [...byLabel.entries()].map(([label, v]) => ({
        amount: amount(v.amount),
        confirmations: v.seen ? v.confirmations : 0,
        label,
      }));
    },
  );

  reg('getaddressesbylabel', ['label'], 'The addresses with a label: {address: {purpose}}.', (r, _c, w) => {
    const label = labelParam(r, 0);
    const addresses = labelled(w(), label);
    if (addresses.length === 0)
      throw new RpcError(RpcCode.WALLET_INVALID_LABEL_NAME, `No addresses with label ${label}`);
    return Object.fromEntries(addresses.map((a) => [a, { purpose: 'receive' }]));
  });

  reg('listlabels', ['purpose'], 'Every label of the wallet, sorted.', (r, _c, w) => {
    const purpose = r.optString(0);
    if (purpose !== undefined && purpose !== 'receive' && purpose !== 'send')
      throw r.invalid(0, `unknown purpose ${purpose}`);
    if (purpose === 'send') return [];
    const wallet = w();
    const set = new Set(Object.values(wallet.labels()));
    if (labelled(wallet, '').length > 0) set.add('');
    return [...set].sort();
  });

  reg(
    'listaddressgroupings',
    [],
    'Groups of addresses whose common ownership is public (spent together, or as change): [[[address, amount, label?], ...], ...].',
    (_r, _c, w) => {
      const wallet = w();
      const balance = new Map<string, bigint>();
      for (const c of wallet.listCoins()) balance.set(c.address, (balance.get(c.address) ?? 0n) + c.value);
      return addressGroupings(wallet).map((g) =>
        g.map((a) => {
          const label = wallet.labelOf(a);
          return label === undefined
            ? [a, amount(balance.get(a) ?? 0n)]
            : [a, amount(balance.get(a) ?? 0n), label];
        }),
      );
    },
  );

  reg(
    'getunconfirmedbalance',
    [],
    'Unconfirmed balance not from the wallet itself (untrusted_pending).',
    (_r, _c, w) => amount(w().getBalances().untrustedPending),
  );

  reg(
    'lockunspent',
    ['unlock', 'transactions', 'persistent'],
    'Locks (unlock=false) or unlocks coins [{txid, vout}] so sends do not choose them; with no transactions and ' +
      'unlock=true, unlocks all. persistent=true keeps the lock in the wallet file. Returns true.',
    (r, _c, w) => {
      const unlock = r.bool(0);
      const wallet = w();
      const persistent = r.optBool(2, false);
      if (!r.has(1)) {
        if (!unlock) throw r.invalid(1, 'no unspent outputs specified');
        wallet.setLocked(wallet.listLocked(), false, false);
        return true;
      }
      const keys = r.array(1).map((o) => {
        const x = o as { txid?: unknown; vout?: unknown };
        if (
          typeof x !== 'object' ||
          x === null ||
          typeof x.txid !== 'string' ||
          !/^[0-9a-f]{64}$/.test(x.txid)
        )
          throw new RpcError(
            RpcCode.INVALID_PARAMETER,
            'Invalid parameter, expected txid of 64 hex characters',
          );
        if (typeof x.vout !== 'number' || !Number.isInteger(x.vout) || x.vout < 0)
          throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, vout cannot be negative');
        const found = wallet.getTransaction(x.txid);
        if (found === null)
          throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, unknown transaction');
        if (x.vout >= found.tx.outputs.length)
          throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, vout index out of bounds');
        const key = `${x.txid}:${x.vout}`;
        if (!unlock && !wallet.listCoins().some((c) => c.txid === x.txid && c.vout === x.vout))
          throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, expected unspent output');
        if (unlock && !wallet.isLockedCoin(key))
          throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, expected locked output');
        if (!unlock && wallet.isLockedCoin(key))
          throw new RpcError(RpcCode.INVALID_PARAMETER, 'Invalid parameter, output already locked');
        return key;
      });
      wallet.setLocked(keys, !unlock, persistent);
      return true;
    },
  );

  reg('listlockunspent', [], 'The locked coins: [{txid, vout}].', (_r, _c, w) =>
    w()
      .listLocked()
      .map((k) => {
        const [txid, vout] = k.split(':');
        return { txid, vout: Number(vout) };
      }),
  );

  reg(
    'keypoolrefill',
    ['newsize'],
    'Watches at least newsize addresses past the last used on each branch.',
    (r, _c, w) => {
      const wallet = w();
      wallet.refillKeypool(r.optInt(0, 0, 0, 10_000));
      return null;
    },
  );

  reg(
    'newkeypool',
    [],
    'Treats every pre-derived address as used, so the next ones handed out are new.',
    (_r, _c, w) => {
      w().refillKeypool(0, true);
      return null;
    },
  );

  reg(
    'listsinceblock',
    ['blockhash', 'target_confirmations', 'include_watchonly', 'include_removed', 'include_change', 'label'],
    'Wallet transactions in blocks after blockhash (all without it), and with include_removed those of its ' +
      'blocks a reorg took away: {transactions, removed, lastblock}.',
    async (r, _c, w) => {
      const chain = deps.chain;
      if (chain === undefined) throw new RpcError(RpcCode.MISC_ERROR, 'listsinceblock needs the chain');
      const wallet = w();
      const target = r.optInt(1, 1, 1);
      const includeRemoved = r.optBool(3, true);
      const label = r.optString(5);
      let forkHeight = -1;
      const stale: BlockInfo[] = [];
      if (r.has(0) && r.string(0) !== '') {
        const start = chain.getEntry(r.hex(0, 32));
        if (start === undefined) throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Block not found');
        let e: BlockInfo | null = start;
        while (e !== null && !chain.isOnActiveChain(e)) {
          stale.push(e);
          e = e.prev;
        }
        forkHeight = e?.height ?? -1;
      }
      const tipHeight = chain.height;
      // Core: everything whose depth is below that of the fork point (unconfirmed and conflicted too).
      const depth = tipHeight + 1 - forkHeight;
      // Core's filter_label: incoming entries of that label only.
      const ofLabel = (e: { category: string; label?: string }) =>
        label === undefined || (e.category !== 'send' && e.label === label);
      const keep = (e: { confirmations: number; category: string; label?: string }) =>
        e.confirmations < depth && ofLabel(e);
      const history = wallet.listTransactions(Number.MAX_SAFE_INTEGER);
      const json = historyJson(wallet, deps);
      const transactions = history.filter(keep).map(json);
      const removed: Record<string, unknown>[] = [];
      if (includeRemoved)
        for (const e of stale) {
          const block = await chain.getBlock(e.hash);
          for (const tx of block?.txs ?? []) {
            const id = tx.txidHex();
            removed.push(...history.filter((h) => h.txid === id && ofLabel(h)).map(json));
          }
        }
      const last = chain.getEntryAtHeight(Math.max(0, tipHeight + 1 - target));
      return { transactions, removed, lastblock: last?.hashHex };
    },
  );

  reg(
    'rescanblockchain',
    ['start_height', 'stop_height'],
    'Reads the active chain again from start_height (default 0) to stop_height (default the tip) for the ' +
      "wallet's transactions. Result: {start_height, stop_height}.",
    async (r, _c, w) => {
      const chain = deps.chain;
      if (chain === undefined) throw new RpcError(RpcCode.MISC_ERROR, 'rescanblockchain needs the chain');
      const wallet = w();
      const start = r.optInt(0, 0, 0);
      if (start > chain.height) throw r.invalid(0, 'Invalid start_height');
      const stop = r.has(1) ? r.int(1, 0) : chain.height;
      if (stop < start) throw r.invalid(1, 'stop_height must be greater than start_height');
      const last = await rescanWallet(deps, wallet, start, stop);
      return { start_height: start, stop_height: last };
    },
  );

  reg(
    'abortrescan',
    [],
    "Stops the wallet's running rescan (rescanblockchain, or an import's); true when one was running and not yet stopping.",
    (_r, _c, w) => {
      const rescanning = runningRescan(deps);
      // As Core: false when this wallet is not scanning, or its rescan is already being aborted.
      if (rescanning === null || rescanning.wallet !== w() || rescanning.abort) return false;
      rescanning.abort = true;
      return true;
    },
  );
}
