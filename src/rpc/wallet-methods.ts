// Wallet RPC methods with Bitcoin Core's names, parameters, result fields and error codes.
// Owns: mapping requests onto the loaded wallets (WalletsPort) and Wallet and wallet errors onto RPC codes. Does not
// own broadcasting: `broadcast` is injected by whoever wires the node (it throws RpcError -26/-25
// itself when the mempool rejects). Wallet selection: /wallet/<name> in the URL, else the only
// loaded wallet.
import { addressToScript } from '../primitives/address.js';
import { bytesToHex } from '../primitives/bytes.js';
import { classifyScript } from '../script/standard.js';
import { multisigOf } from '../wallet/imported.js';
import type { Wallet } from '../wallet/wallet.js';
import { JsonAmount } from './amount.js';
import { txJson } from './chain-json.js';
import { RpcCode, RpcError } from './errors.js';
import type { RpcServer } from './server.js';
import {
  avoidReuseParam,
  entryJson,
  historyJson,
  lastProcessedBlock,
  pickFeeRate,
  scanningInfo,
  sendPayment,
  walletName,
  walletNameOf,
  startupSetting,
  walletDescriptor,
  walletRegistrar,
  walletTxJson,
  type WalletRpcDeps,
} from './wallet-common.js';
import { registerWalletImportMethods } from './wallet-import-methods.js';
import { registerWalletInfoMethods } from './wallet-info-methods.js';
import { registerWalletKeyMethods } from './wallet-keys-methods.js';
import { registerWalletSendMethods } from './wallet-send-methods.js';
import { registerSimulateMethod, registerWalletFundMethods } from './wallet-fund-methods.js';

export { walletName, walletRpcError, type WalletRpcDeps } from './wallet-common.js';

const amount = (sats: bigint) => new JsonAmount(sats);

/** The passphrase calls need an encrypted wallet: Core's -15 otherwise. */
function encrypted(wallet: Wallet, method: string): Wallet {
  if (!wallet.isEncrypted)
    throw new RpcError(
      RpcCode.WALLET_WRONG_ENC_STATE,
      `Error: running with an unencrypted wallet, but ${method} was called.`,
    );
  return wallet;
}

export function registerWalletMethods(server: RpcServer, deps: WalletRpcDeps): void {
  const { wallets } = deps;
  const reg = walletRegistrar(server, wallets);
  const loadOnStartup = startupSetting(wallets);

  reg(
    'createwallet',
    [
      'wallet_name',
      'disable_private_keys',
      'blank',
      'passphrase',
      'avoid_reuse',
      'descriptors',
      'load_on_startup',
      'mnemonic',
    ],
    'Creates and loads a new HD wallet. Result: {name, warnings, mnemonic} (the mnemonic is shown once: write it down).\n' +
      'Pass passphrase to encrypt it; pass mnemonic to restore an existing one.',
    async (r) => {
      if (r.optBool(1, false)) throw r.invalid(1, 'watch-only wallets are not supported');
      const name = r.string(0);
      const passphrase = r.optString(3);
      const { mnemonic } = await wallets.create(name, {
        passphrase,
        mnemonic: r.optString(7),
        avoidReuse: r.optBool(4, false),
      });
      const warnings = passphrase
        ? []
        : ['Wallet created without a passphrase: its keys are stored unencrypted.'];
      return { name, ...loadOnStartup(r, 6, name, warnings), mnemonic };
    },
  );
  reg(
    'loadwallet',
    ['filename', 'load_on_startup'],
    'Loads a wallet from DATADIR/wallets; load_on_startup true/false adds it to or removes it from ' +
      'the wallets settings.json loads at startup.',
    async (r) => {
      const name = r.string(0);
      await wallets.load(name);
      return { name, ...loadOnStartup(r, 1, name) };
    },
  );
  reg(
    'unloadwallet',
    ['wallet_name', 'load_on_startup'],
    'Unloads a wallet; load_on_startup as loadwallet.',
    (r, ctx) => {
      const name = r.optString(0) ?? walletName(ctx);
      if (name === undefined) throw r.invalid(0, 'wallet_name is required');
      wallets.unload(name);
      return loadOnStartup(r, 1, name);
    },
  );
  reg('listwallets', [], 'Names of the loaded wallets.', () => wallets.names());
  reg('listwalletdir', [], 'Wallets in the wallet directory.', () => ({
    wallets: wallets.available().map((name) => ({ name })),
  }));
  reg('getnewaddress', ['label', 'address_type'], 'Returns a new receiving address.', (r, _c, w) => {
    const type = r.optString(1);
    if (type !== undefined && type !== 'legacy') throw r.invalid(1, `Unknown address type '${type}'`);
    return w().getNewAddress(r.optString(0));
  });
  reg('getrawchangeaddress', ['address_type'], 'Returns a new change address.', (_r, _c, w) =>
    w().getChangeAddress(),
  );
  reg(
    'getbalance',
    ['dummy', 'minconf', 'include_watchonly', 'avoid_reuse'],
    'Trusted (spendable) balance.',
    (r, _c, w) => {
      if (r.has(0) && r.string(0) !== '*')
        throw r.invalid(0, 'dummy first argument must be excluded or set to "*".');
      const wallet = w();
      const avoidReuse = avoidReuseParam(r, 3, wallet);
      const watch = r.optBool(2, false) ? wallet.getBalances(true, avoidReuse).trusted : 0n;
      return amount(wallet.getBalances(false, avoidReuse).trusted + watch);
    },
  );
  reg('getbalances', [], 'Balances: mine and (with watched scripts) watchonly.', (_r, _c, w) => {
    const wallet = w();
    const json = (b: ReturnType<Wallet['getBalances']>, mine: boolean) => ({
      trusted: amount(b.trusted),
      untrusted_pending: amount(b.untrustedPending),
      immature: amount(b.immature),
      // Core prints mine.used (trusted and pending coins of addresses spent from) with avoid_reuse.
      used: mine && b.used !== undefined ? amount(b.used) : undefined,
    });
    return {
      mine: json(wallet.getBalances(), true),
      watchonly: wallet.hasWatchOnly ? json(wallet.getBalances(true), false) : undefined,
      lastprocessedblock: lastProcessedBlock(wallet),
    };
  });
  reg('getwalletinfo', [], 'Wallet state.', (_r, ctx, w) => {
    const wallet = w();
    const b = wallet.getBalances();
    return {
      walletname: walletNameOf(wallets, ctx, wallet),
      walletversion: wallet.fileVersion,
      format: 'tally-json',
      balance: amount(b.trusted),
      unconfirmed_balance: amount(b.untrustedPending),
      immature_balance: amount(b.immature),
      txcount: wallet.txCount,
      keypoolsize: wallet.keypoolSize,
      keypoolsize_hd_internal: wallet.internalKeypoolSize,
      unlocked_until: wallet.isEncrypted ? wallet.unlockedUntil : undefined,
      paytxfee: amount(wallet.payTxFee),
      hdseedid: wallet.hdSeedId,
      private_keys_enabled: true,
      avoid_reuse: wallet.avoidReuse,
      scanning: scanningInfo(deps, wallet),
      descriptors: false,
      external_signer: false,
      blank: false,
      birthtime: wallet.birthTime,
      lastprocessedblock: lastProcessedBlock(wallet),
    };
  });
  reg('listunspent', ['minconf', 'maxconf', 'addresses'], 'Unspent outputs of the wallet.', (r, _c, w) => {
    const min = r.optInt(0, 1, 0);
    const max = r.optInt(1, 9_999_999, 0);
    const only = r.has(2) ? new Set(r.array(2).map(String)) : null;
    const wallet = w();
    return wallet
      .listCoins()
      .filter(
        (c) =>
          c.confirmations >= min &&
          c.confirmations <= max &&
          !c.immature &&
          // Core's AvailableCoins skips locked coins (CoinFilterParams.skip_locked): listunspent
          // does not show them; listlockunspent does.
          !wallet.isLockedCoin(`${c.txid}:${c.vout}`) &&
          (only === null || only.has(c.address)),
      )
      .map((c) => ({
        txid: c.txid,
        vout: c.vout,
        address: c.address,
        label: wallet.labelOf(c.address),
        scriptPubKey: bytesToHex(c.script),
        amount: amount(c.value),
        confirmations: c.confirmations,
        redeemScript: ((rs) => (rs === undefined ? undefined : bytesToHex(rs)))(
          wallet.scriptInfo(c.script)?.redeemScript,
        ),
        spendable: c.spendable,
        solvable: c.solvable,
        reused: wallet.avoidReuse ? c.used : undefined,
        desc: walletDescriptor(wallet, c.script),
        // Core's parent descriptors belong to descriptor wallets: none in Tally's.
        parent_descs: [],
        safe: c.trusted,
      }));
  });
  reg(
    'listtransactions',
    ['label', 'count', 'skip', 'include_watchonly'],
    'Recent wallet transactions, oldest first; with a label, only those received by its addresses.',
    (r, _c, w) => {
      const label = r.has(0) && r.string(0) !== '*' ? r.string(0) : undefined;
      if (label === '')
        throw new RpcError(RpcCode.INVALID_PARAMETER, 'Label argument must be a valid label name or "*".');
      const watch = r.optBool(3, false);
      // count and skip apply to what is shown: watch-only entries are left out first unless asked for.
      const wallet = w();
      const all = wallet
        .listTransactions(Number.MAX_SAFE_INTEGER)
        .filter((e) => watch || e.watchOnly !== true)
        // Core's filter_label: incoming entries of that label only.
        .filter((e) => label === undefined || (e.category !== 'send' && e.label === label));
      const end = Math.max(0, all.length - r.optInt(2, 0, 0));
      return all.slice(Math.max(0, end - r.optInt(1, 10, 0)), end).map(historyJson(wallet, deps));
    },
  );
  reg('gettransaction', ['txid', 'include_watchonly', 'verbose'], 'A wallet transaction.', (r, _c, w) => {
    const txid = r.hex(0, 32);
    const wallet = w();
    const found = wallet.getTransaction(txid);
    if (found === null)
      throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid or non-wallet transaction id');
    // Core's include_watchonly (default false): watch-only entries count only when asked for.
    const watch = r.optBool(1, false);
    const entries = wallet
      .listTransactions(Number.MAX_SAFE_INTEGER)
      .filter((e) => e.txid === txid && (watch || e.watchOnly !== true));
    const net = entries.reduce((t, e) => t + e.amount, 0n);
    const fee = entries.find((e) => e.fee !== undefined)?.fee;
    return {
      amount: amount(net),
      fee: fee !== undefined ? amount(fee) : undefined,
      ...walletTxJson(wallet, deps, txid),
      details: entries.map((e) => entryJson(e, found.record.abandoned === true)),
      hex: found.record.hex,
      decoded: r.optBool(2, false) ? txJson(found.tx, wallet.prefixes) : undefined,
      lastprocessedblock: lastProcessedBlock(wallet),
    };
  });
  reg(
    'sendtoaddress',
    [
      'address',
      'amount',
      'comment',
      'comment_to',
      'subtractfeefromamount',
      'replaceable',
      'conf_target',
      'estimate_mode',
      'avoid_reuse',
      'fee_rate',
      'verbose',
    ],
    'Sends an amount (in coins) to an address; fee_rate in sat/vB. Returns the txid.',
    async (r, _c, w) => {
      const wallet = w();
      const address = r.string(0);
      addressToScript(address, wallet.prefixes);
      const value = r.amount(1);
      if (value <= 0n) throw new RpcError(RpcCode.TYPE_ERROR, 'Invalid amount for send');
      const sffo = r.optBool(4, false) ? [0] : [];
      const { rate, reason } = pickFeeRate(r, 9, 6, deps, wallet);
      const avoidReuse = avoidReuseParam(r, 8, wallet);
      const { tx } = await sendPayment(wallet, deps, [{ address, value }], rate, sffo, avoidReuse);
      const txid = tx.txidHex();
      return r.optBool(10, false) ? { txid, fee_reason: reason } : txid;
    },
  );
  reg(
    'abandontransaction',
    ['txid'],
    'Marks an unconfirmed transaction that is not in the mempool as abandoned: its inputs become spendable again.',
    (r, _c, w) => {
      const txid = r.hex(0, 32);
      const wallet = w();
      if (wallet.getTransaction(txid) === null)
        throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Invalid or non-wallet transaction id');
      if (!wallet.abandon(txid))
        throw new RpcError(RpcCode.INVALID_ADDRESS_OR_KEY, 'Transaction not eligible for abandonment');
      return null;
    },
  );
  reg(
    'walletpassphrase',
    ['passphrase', 'timeout'],
    'Unlocks the wallet for timeout seconds.',
    async (r, _c, w) => {
      const passphrase = r.string(0);
      const timeout = r.int(1, 0, Number.MAX_SAFE_INTEGER);
      if (passphrase === '') throw r.invalid(0, 'passphrase cannot be empty');
      await encrypted(w(), 'walletpassphrase').unlock(passphrase, timeout);
      return null;
    },
  );
  reg('walletlock', [], 'Forgets the decrypted keys.', (_r, _c, w) => {
    encrypted(w(), 'walletlock').lock();
    return null;
  });
  reg(
    'walletpassphrasechange',
    ['oldpassphrase', 'newpassphrase'],
    'Changes the passphrase.',
    async (r, _c, w) => {
      await encrypted(w(), 'walletpassphrasechange').changePassphrase(r.string(0), r.string(1));
      return null;
    },
  );
  reg(
    'encryptwallet',
    ['passphrase'],
    'Encrypts an unencrypted wallet; it is locked afterwards.',
    async (r, _c, w) => {
      const wallet = w();
      if (wallet.isEncrypted)
        throw new RpcError(
          RpcCode.WALLET_WRONG_ENC_STATE,
          'Error: running with an encrypted wallet, but encryptwallet was called.',
        );
      await wallet.encrypt(r.string(0));
      return 'wallet encrypted; the keys are now protected by the passphrase. Back up the wallet file again.';
    },
  );
  reg('backupwallet', ['destination'], 'Copies the wallet file to destination.', (r, _c, w) => {
    w().backup(r.string(0));
    return null;
  });
  reg('getaddressinfo', ['address'], 'Information about an address.', (r, _c, w) => {
    const wallet = w();
    const address = r.string(0);
    const script = addressToScript(address, wallet.prefixes);
    const info = wallet.scriptInfo(script);
    const ms = info?.redeemScript === undefined ? null : multisigOf(info.redeemScript);
    const label = wallet.labelOf(address);
    return {
      address,
      scriptPubKey: bytesToHex(script),
      ismine: info?.spendable ?? false,
      solvable: info?.solvable ?? false,
      desc: walletDescriptor(wallet, script),
      iswatchonly: info !== null && !info.spendable,
      isscript: classifyScript(script).type === 'scripthash',
      iswitness: false,
      script: ms !== null ? 'multisig' : undefined,
      hex: info?.redeemScript !== undefined ? bytesToHex(info.redeemScript) : undefined,
      sigsrequired: ms?.m,
      pubkeys: ms?.pubkeys.map(bytesToHex),
      pubkey: info?.publicKey !== undefined ? bytesToHex(info.publicKey) : undefined,
      iscompressed: info?.publicKey !== undefined ? info.publicKey.length === 33 : undefined,
      ischange: info?.change ?? false,
      timestamp: info?.time,
      hdkeypath: info?.path,
      hdseedid: info?.path !== undefined ? info.hdSeedId : undefined,
      hdmasterfingerprint: info?.path !== undefined ? info.hdFingerprint : undefined,
      labels: label !== undefined ? [label] : [],
    };
  });
  reg('setlabel', ['address', 'label'], 'Sets the label of an address.', (r, _c, w) => {
    w().setLabel(r.string(0), r.string(1));
    return null;
  });
  registerWalletSendMethods(server, deps);
  registerWalletFundMethods(server, deps);
  registerSimulateMethod(server, deps);
  registerWalletInfoMethods(server, deps);
  registerWalletKeyMethods(server, deps);
  registerWalletImportMethods(server, deps);
}
