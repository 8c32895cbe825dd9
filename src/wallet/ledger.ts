// A wallet's transactions and the coins they make. Every spender of an outpoint is kept (Core's
// mapTxSpends): a transaction double-spent by a confirmed one is conflicted (negative
// confirmations, its coins and change count for nothing) and comes back if that block is
// disconnected; an abandoned one frees its inputs. Follows the chain through onBlockConnected /
// onBlockDisconnected / onTxAccepted; answers coins, balances and history. Base of Wallet.
import type { Balances, Coin, HistoryEntry, KeyRef, TxState, WalletOptions } from './types.js';
import { WalletKeys } from './keychain.js';
import { Block } from '../primitives/block.js';
import { scriptToAddress } from '../primitives/address.js';
import { OutPoint, Tx, TxOut } from '../primitives/tx.js';
import { bytesToHex, hexToBytes, reverseHex } from '../primitives/bytes.js';
import { CHANGE, RECEIVE } from './keys.js';
import { TxRecord, WalletFile } from './store.js';

export abstract class WalletLedger extends WalletKeys {
  protected txs = new Map<string, TxState>();
  /** Outpoint key -> txids (display hex) of every wallet transaction that spends it. */
  private spentBy = new Map<string, Set<string>>();

  protected constructor(file: WalletFile, opts: WalletOptions) {
    super(file, opts);
    for (const [txid, rec] of Object.entries(file.txs)) this.index(txid, Tx.decode(hexToBytes(rec.hex)), rec);
  }

  // --- following the chain -------------------------------------------------------------------

  /** Adds a transaction to the in-memory indexes. */
  private index(txid: string, tx: Tx, rec: TxRecord): void {
    this.txs.set(txid, { tx, rec });
    if (tx.isCoinbase()) return;
    for (const i of tx.inputs) {
      const key = i.prevout.key();
      const set = this.spentBy.get(key);
      if (set === undefined) this.spentBy.set(key, new Set([txid]));
      else set.add(txid);
    }
  }

  private unindex(txid: string): void {
    const st = this.txs.get(txid);
    if (st === undefined) return;
    this.txs.delete(txid);
    delete this.file.txs[txid];
    if (st.tx.isCoinbase()) return;
    for (const i of st.tx.inputs) {
      const set = this.spentBy.get(i.prevout.key());
      set?.delete(txid);
      if (set?.size === 0) this.spentBy.delete(i.prevout.key());
    }
  }

  /** Wallet transactions spending an output of `tx`. */
  protected childrenOf(tx: Tx): string[] {
    const hash = tx.txid();
    return tx.outputs.flatMap((_, vout) => [...(this.spentBy.get(new OutPoint(hash, vout).key()) ?? [])]);
  }

  /** Removes a transaction and every wallet transaction that spends its outputs. */
  private removeWithDescendants(txid: string): void {
    const st = this.txs.get(txid);
    if (st === undefined) return;
    const children = this.childrenOf(st.tx);
    this.unindex(txid);
    for (const child of children) this.removeWithDescendants(child);
  }

  /** Whether the transaction pays us or spends one of our coins; marks keys it uses. */
  private relevant(tx: Tx): boolean {
    let mine = false;
    for (const o of tx.outputs) {
      const ref = this.scripts.get(bytesToHex(o.scriptPubKey));
      if (ref !== undefined) {
        mine = true;
        this.markUsed(ref);
      }
    }
    if (mine || tx.isCoinbase()) return mine;
    return tx.inputs.some((i) => this.ownedOutput(i.prevout) !== null);
  }

  private ownedOutput(op: OutPoint): { out: TxOut; ref: KeyRef; st: TxState } | null {
    const st = this.txs.get(op.txidHex());
    const out = st?.tx.outputs[op.index];
    if (st === undefined || out === undefined) return null;
    const ref = this.scripts.get(bytesToHex(out.scriptPubKey));
    return ref === undefined ? null : { out, ref, st };
  }

  private record(
    tx: Tx,
    height: number | null,
    blockHash: string | null,
    blockTime: number | null,
    blockIndex?: number,
  ): void {
    const txid = tx.txidHex();
    const existing = this.txs.get(txid);
    if (existing !== undefined) {
      const changed = existing.rec.blockHash !== blockHash;
      // Seen in a block or the pool again: no longer abandoned (as Core).
      delete existing.rec.abandoned;
      existing.rec.height = height;
      existing.rec.blockHash = blockHash;
      existing.rec.blockTime = blockTime;
      if (blockIndex !== undefined) existing.rec.blockIndex = blockIndex;
      else if (blockHash === null) delete existing.rec.blockIndex;
      if (changed) this.opts.onTxChanged?.(txid, blockHash, height);
      return;
    }
    const rec: TxRecord = {
      hex: bytesToHex(tx.encode()),
      height,
      blockHash,
      blockTime,
      ...(blockIndex !== undefined ? { blockIndex } : {}),
      time: blockTime ?? Math.floor(this.now() / 1000),
    };
    this.file.txs[txid] = rec;
    this.index(txid, tx, rec);
    this.opts.onTxChanged?.(txid, blockHash, height);
  }

  onBlockConnected(block: Block, height: number): void {
    const hash = block.hashHex();
    block.txs.forEach((tx, i) => {
      if (this.txs.has(tx.txidHex()) || this.relevant(tx))
        this.record(tx, height, hash, block.header.time, i);
    });
    this.file.tip = { height, hash };
    // What a block brings can be replayed from the chain (the node rescans from the saved tip at
    // load), so blocks are written in batches: rewriting the whole file for every block would make
    // a wallet paid by each block slower as it grows. What only the wallet knows (new addresses,
    // its own unconfirmed transactions) is still written at once.
    this.scheduleSave();
  }

  /**
   * Records the wallet's transactions of one block of the active chain without moving the
   * wallet's tip (rescanblockchain over blocks it has already followed).
   */
  scanBlock(block: Block, height: number): void {
    const hash = block.hashHex();
    block.txs.forEach((tx, i) => {
      if (this.txs.has(tx.txidHex()) || this.relevant(tx))
        this.record(tx, height, hash, block.header.time, i);
    });
    this.scheduleSave();
  }

  onBlockDisconnected(block: Block, height: number): void {
    for (const tx of [...block.txs].reverse()) {
      const txid = tx.txidHex();
      const st = this.txs.get(txid);
      if (st === undefined) continue;
      // A coinbase can never return to the mempool; other transactions become unconfirmed.
      if (tx.isCoinbase()) this.removeWithDescendants(txid);
      else {
        st.rec.height = null;
        st.rec.blockHash = null;
        st.rec.blockTime = null;
        delete st.rec.blockIndex;
      }
    }
    this.file.tip = { height: height - 1, hash: reverseHex(block.header.prevHash) };
    this.save();
  }

  /**
   * Forgets every block above `height` (a reorg that happened while the wallet was not loaded):
   * their transactions become unconfirmed and their coinbases, which can never return, go. The
   * caller then replays the active chain from height + 1.
   */
  rewind(height: number, hash: string): void {
    const above = [...this.txs.entries()].filter(
      ([, st]) => st.rec.height !== null && st.rec.height > height,
    );
    for (const [txid, st] of above) {
      if (st.tx.isCoinbase()) this.removeWithDescendants(txid);
      else {
        st.rec.height = null;
        st.rec.blockHash = null;
        st.rec.blockTime = null;
        delete st.rec.blockIndex;
      }
    }
    this.file.tip = { height, hash };
    this.save();
  }

  /**
   * importprunedfunds: records a transaction proven to be in a block of the active chain (the
   * caller checked the proof). False, with nothing recorded, when no output pays the wallet (Core's
   * IsMine(tx) looks at outputs only).
   */
  addProvenTransaction(
    tx: Tx,
    height: number,
    blockHash: string,
    blockTime: number,
    index?: number,
  ): boolean {
    if (!this.txs.has(tx.txidHex()) && !tx.outputs.some((o) => this.scripts.has(bytesToHex(o.scriptPubKey))))
      return false;
    this.relevant(tx);
    this.record(tx, height, blockHash, blockTime, index);
    this.save();
    return true;
  }

  /** removeprunedfunds: forgets one transaction (not its spenders, as Core's RemoveTxs). False when unknown. */
  removeTransaction(txid: string): boolean {
    if (!this.txs.has(txid)) return false;
    this.unindex(txid);
    this.save();
    return true;
  }

  onTxAccepted(tx: Tx): void {
    if (this.txs.has(tx.txidHex()) || !this.relevant(tx)) return;
    this.record(tx, null, null, null);
    this.save();
  }

  /** Replays blocks (from the wallet's birth or a chosen height); returns how many were read. */
  async rescan(
    blocks: Iterable<{ block: Block; height: number }> | AsyncIterable<{ block: Block; height: number }>,
  ): Promise<number> {
    let n = 0;
    for await (const { block, height } of blocks) {
      const hash = block.hashHex();
      for (const tx of block.txs)
        if (this.txs.has(tx.txidHex()) || this.relevant(tx)) this.record(tx, height, hash, block.header.time);
      this.file.tip = { height, hash };
      n++;
    }
    this.save();
    return n;
  }

  // --- depth, conflicts and trust ------------------------------------------------------------

  protected depth(rec: TxRecord): number {
    if (rec.height === null || this.file.tip === null) return 0;
    return Math.max(0, this.file.tip.height - rec.height + 1);
  }

  /**
   * Core's GetDepthInMainChain: confirmations when in a block; 0 when unconfirmed; minus the
   * confirmations of the deepest confirmed transaction that double-spends it or one of its wallet
   * ancestors (conflicted: it can never confirm while that block stays).
   */
  private txDepth(txid: string, seen = new Set<string>()): number {
    const st = this.txs.get(txid);
    if (st === undefined) return 0;
    const own = this.depth(st.rec);
    if (own > 0 || st.tx.isCoinbase() || seen.has(txid)) return own;
    seen.add(txid);
    let worst = 0;
    for (const i of st.tx.inputs) {
      for (const other of this.spentBy.get(i.prevout.key()) ?? []) {
        if (other === txid) continue;
        const d = this.depth((this.txs.get(other) as TxState).rec);
        if (d > 0) worst = Math.min(worst, -d);
      }
      if (this.txs.has(i.prevout.txidHex())) worst = Math.min(worst, this.txDepth(i.prevout.txidHex(), seen));
    }
    return worst;
  }

  /** Abandoned, or an ancestor in the wallet is: nothing it spends or makes counts. */
  private isAbandoned(txid: string, seen = new Set<string>()): boolean {
    const st = this.txs.get(txid);
    if (st === undefined || seen.has(txid) || this.depth(st.rec) > 0) return false;
    if (st.rec.abandoned === true) return true;
    seen.add(txid);
    return st.tx.inputs.some((i) => this.isAbandoned(i.prevout.txidHex(), seen));
  }

  /** Neither conflicted nor abandoned: it may still confirm, so what it spends is spent. */
  protected isActive(txid: string): boolean {
    return this.txDepth(txid) >= 0 && !this.isAbandoned(txid);
  }

  private isSpent(outpoint: OutPoint): boolean {
    for (const s of this.spentBy.get(outpoint.key()) ?? []) if (this.isActive(s)) return true;
    return false;
  }

  /** Other wallet transactions spending an input of `txid` (gettransaction's walletconflicts). */
  conflictsOf(txid: string): string[] {
    const st = this.txs.get(txid);
    if (st === undefined || st.tx.isCoinbase()) return [];
    const out = new Set<string>();
    for (const i of st.tx.inputs)
      for (const o of this.spentBy.get(i.prevout.key()) ?? []) if (o !== txid) out.add(o);
    return [...out];
  }

  /** Wallet transactions spending an output of `txid` (Core's HasWalletSpend). */
  spendersOf(txid: string): string[] {
    const st = this.txs.get(txid);
    return st === undefined ? [] : this.childrenOf(st.tx);
  }

  /** gettransaction's trusted: confirmed, or ours, active and (when known) in the pool. */
  isTrusted(txid: string): boolean {
    const st = this.txs.get(txid);
    if (st === undefined) return false;
    if (this.depth(st.rec) > 0) return true;
    return this.isActive(txid) && this.fromMe(st.tx) && (this.opts.inMempool?.(txid) ?? true);
  }

  /** All inputs spend our own coins: its unconfirmed outputs (our change) can be trusted. */
  private fromMe(tx: Tx): boolean {
    return !tx.isCoinbase() && tx.inputs.every((i) => this.ownedOutput(i.prevout) !== null);
  }

  /** A coinbase with at most coinbaseMaturity confirmations (Core's IsTxImmatureCoinBase). */
  isImmature(tx: Tx, confirmations: number): boolean {
    return tx.isCoinbase() && confirmations <= this.opts.coinbaseMaturity;
  }

  // --- coins, balances and history -----------------------------------------------------------

  /** Core's AVOID_REUSE wallet flag (setwalletflag): coins of addresses spent from are kept apart. */
  get avoidReuse(): boolean {
    return this.file.flags.avoid_reuse === true;
  }

  /**
   * Output scripts (hex) the wallet has spent from (Core's IsSpentKey, there marked as each spend
   * is added): read from every transaction the wallet holds, so no rescan is needed after
   * setwalletflag.
   */
  private usedScripts(): Set<string> {
    const used = new Set<string>();
    for (const { tx } of this.txs.values()) {
      if (tx.isCoinbase()) continue;
      for (const i of tx.inputs) {
        const o = this.ownedOutput(i.prevout);
        if (o !== null) used.add(bytesToHex(o.out.scriptPubKey));
      }
    }
    return used;
  }

  /** Unspent coins (not spent by any wallet transaction, confirmed or not). */
  listCoins(): Coin[] {
    const used = this.usedScripts();
    const coins: Coin[] = [];
    for (const [txid, { tx, rec }] of this.txs) {
      const depth = this.depth(rec);
      const coinbase = tx.isCoinbase();
      // As Core: a coinbase output is immature until COINBASE_MATURITY + 1 confirmations.
      const immature = coinbase && depth <= this.opts.coinbaseMaturity;
      if (coinbase && depth === 0) continue;
      if (depth === 0 && !this.isActive(txid)) continue;
      const pooled = this.opts.inMempool?.(txid) ?? true;
      // An unconfirmed transaction the pool does not hold (yet) counts nowhere until it is back.
      if (depth === 0 && !pooled) continue;
      const trusted = !immature && (depth > 0 || this.fromMe(tx));
      tx.outputs.forEach((out, vout) => {
        const ref = this.scripts.get(bytesToHex(out.scriptPubKey));
        if (ref === undefined) return;
        const outpoint = new OutPoint(tx.txid(), vout);
        if (this.isSpent(outpoint)) return;
        coins.push(this.coinJson(outpoint, out, ref, depth, coinbase, trusted, immature, used));
      });
    }
    return coins;
  }

  private coinJson(
    outpoint: OutPoint,
    out: TxOut,
    ref: KeyRef,
    confirmations: number,
    coinbase: boolean,
    trusted: boolean,
    immature: boolean,
    used: Set<string>,
  ): Coin {
    return {
      ...outputCoin(outpoint, out),
      address: scriptToAddress(out.scriptPubKey, this.opts.prefixes) ?? bytesToHex(out.scriptPubKey),
      branch: ref.branch,
      index: ref.index,
      spendable: this.canSign(ref),
      solvable: this.isSolvable(ref, out.scriptPubKey),
      inputSize: this.inputSizeOf(ref),
      confirmations,
      coinbase,
      trusted,
      immature,
      used: used.has(bytesToHex(out.scriptPubKey)),
    };
  }

  /** The wallet's output at `op` as a coin, spent or not; null when it is not ours. */
  coinOf(op: OutPoint): Coin | null {
    const o = this.ownedOutput(op);
    if (o === null) return null;
    const depth = this.depth(o.st.rec);
    const coinbase = o.st.tx.isCoinbase();
    const immature = coinbase && depth <= this.opts.coinbaseMaturity;
    const trusted = !immature && (depth > 0 || this.fromMe(o.st.tx));
    return this.coinJson(op, o.out, o.ref, depth, coinbase, trusted, immature, this.usedScripts());
  }

  /** Whether an output script pays the change branch. */
  isChange(script: Uint8Array): boolean {
    return this.scripts.get(bytesToHex(script))?.branch === CHANGE;
  }

  /**
   * The balances of the coins the wallet can sign for, or (watchOnly) of the watch-only ones. With
   * avoidReuse (default: the wallet's flag) mature coins of used addresses count in `used` only.
   */
  getBalances(watchOnly = false, avoidReuse = this.avoidReuse): Balances {
    const b: Balances = { trusted: 0n, untrustedPending: 0n, immature: 0n };
    if (avoidReuse) b.used = 0n;
    for (const c of this.listCoins()) {
      if (c.spendable === watchOnly) continue;
      if (c.immature) b.immature += c.value;
      else if (b.used !== undefined && c.used) b.used += c.value;
      else if (c.trusted) b.trusted += c.value;
      else b.untrustedPending += c.value;
    }
    return b;
  }

  /** History entries, oldest first, as Core's listtransactions (the last `count` after `skip`). */
  listTransactions(count = 10, skip = 0): HistoryEntry[] {
    const entries: HistoryEntry[] = [];
    const ordered = [...this.txs.entries()].sort(
      (a, b) =>
        a[1].rec.time - b[1].rec.time || (a[1].rec.height ?? Infinity) - (b[1].rec.height ?? Infinity),
    );
    for (const [txid, { tx, rec }] of ordered) {
      const depth = this.txDepth(txid);
      const base = {
        txid,
        confirmations: depth,
        blockHash: rec.blockHash,
        blockHeight: rec.height,
        blockTime: rec.blockTime,
        time: rec.time,
      };
      let debit = 0n;
      let fromMe = false;
      let watchedInput = false;
      if (!tx.isCoinbase())
        for (const i of tx.inputs) {
          const o = this.ownedOutput(i.prevout);
          if (o !== null) {
            debit += o.out.value;
            fromMe = true;
            if (!this.canSign(o.ref)) watchedInput = true;
          }
        }
      const totalOut = tx.outputs.reduce((s, o) => s + o.value, 0n);
      const fee = fromMe && this.fromMe(tx) ? debit - totalOut : 0n;
      tx.outputs.forEach((out, vout) => {
        const ref = this.scripts.get(bytesToHex(out.scriptPubKey));
        const address = scriptToAddress(out.scriptPubKey, this.opts.prefixes);
        const watched = watchedInput || (ref !== undefined && !this.canSign(ref));
        const w = watched ? { watchOnly: true } : {};
        const label = address !== null ? this.file.labels[address] : undefined;
        const labelled = label !== undefined ? { label } : {};
        if (fromMe && (ref === undefined || ref.branch === RECEIVE))
          entries.push({
            ...base,
            category: 'send',
            address,
            amount: -out.value,
            ...labelled,
            fee: -fee,
            vout,
            ...w,
          });
        if (ref !== undefined && ref.branch === RECEIVE) {
          let category: HistoryEntry['category'] = 'receive';
          if (tx.isCoinbase())
            category = depth === 0 ? 'orphan' : depth <= this.opts.coinbaseMaturity ? 'immature' : 'generate';
          entries.push({ ...base, category, address, amount: out.value, vout, ...labelled, ...w });
        }
      });
    }
    const end = Math.max(0, entries.length - skip);
    return entries.slice(Math.max(0, end - count), end);
  }

  /** confirmations is negative for a conflicted transaction, as Core's. */
  getTransaction(txid: string): { tx: Tx; record: TxRecord; confirmations: number } | null {
    const st = this.txs.get(txid);
    return st === undefined ? null : { tx: st.tx, record: { ...st.rec }, confirmations: this.txDepth(txid) };
  }

  /** Every wallet transaction with its depth (negative when conflicted), in no order. */
  *transactions(): Iterable<{ txid: string; tx: Tx; record: TxRecord; confirmations: number }> {
    for (const [txid, { tx, rec }] of this.txs)
      yield { txid, tx, record: rec, confirmations: this.txDepth(txid) };
  }

  get txCount(): number {
    return this.txs.size;
  }
}

/** The fields of a coin that its outpoint and output give. */
export function outputCoin(
  outpoint: OutPoint,
  out: TxOut,
): Pick<Coin, 'outpoint' | 'txid' | 'vout' | 'value' | 'script'> {
  return {
    outpoint,
    txid: outpoint.txidHex(),
    vout: outpoint.index,
    value: out.value,
    script: out.scriptPubKey,
  };
}
