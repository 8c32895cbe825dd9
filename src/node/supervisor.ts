// Supervision (issue 17, the seed's "any evil attempt is detected at once"): the events an
// operator of a shared ledger must hear about at once. Each is logged as a warning, counted in
// /metrics (tally_supervision_events_total{event}), kept for the explorer (the last
// MAX_RECENT_ALERTS) and handed to alertnotify:
// - invalid-block / invalid-header: a peer sent a block or headers that break a consensus rule;
// - deep-reorg: the tip moved to another branch, disconnecting more than alertreorgdepth blocks;
// - double-spend: a transaction spending an output that a pool transaction already spends, refused
//   or accepted as its replacement (full RBF);
// - stale-tip: no new block for alertstaletip target spacings (checked on a timer, once per tip,
//   not while catching up);
// - close-fork: a branch of alertforklength or more blocks off the active chain whose work is
//   within one block's work of the tip (a rival chain about to overtake it), once per fork point.
// Owns no state of the chain: node/ feeds it events and hands it read functions. Fails by
// logging: supervision never stops or slows the node (a bounded, fixed amount of work per event).
import type { Logger } from '../primitives/logger.js';
import type { ChainParams } from '../consensus/params.js';
import { blockWork } from '../consensus/pow.js';

export const SUPERVISION_EVENTS = [
  'invalid-block',
  'invalid-header',
  'deep-reorg',
  'double-spend',
  'stale-tip',
  'close-fork',
] as const;
export type SupervisionEvent = (typeof SUPERVISION_EVENTS)[number];

/** Alerts kept for the explorer (older ones are only in debug.log). */
export const MAX_RECENT_ALERTS = 100;
/** Fork points already reported (a fork growing block by block is reported once). */
const MAX_FORKS_REMEMBERED = 1000;

export interface SupervisionAlert {
  event: SupervisionEvent;
  message: string;
  /** Seconds since the epoch. */
  time: number;
}

export interface SupervisionSettings {
  /** A reorg disconnecting more than this many blocks alerts (default 2). */
  reorgDepth: number;
  /** A tip older than this many target spacings alerts (default 12). */
  staleTipSpacings: number;
  /** A competing branch at least this long, within one block's work of the tip, alerts (default 2). */
  forkLength: number;
}

export const DEFAULT_SUPERVISION: SupervisionSettings = {
  reorgDepth: 2,
  staleTipSpacings: 12,
  forkLength: 2,
};

/** A block of the index as supervision reads it. */
export interface SupervisedEntry {
  readonly hashHex: string;
  readonly height: number;
  readonly chainWork: bigint;
  readonly bits: number;
  readonly time: number;
  getAncestor(height: number): SupervisedEntry | null;
}

export interface SupervisorDeps {
  params: ChainParams;
  settings: SupervisionSettings;
  tip(): SupervisedEntry;
  isActive(e: SupervisedEntry): boolean;
  isInitialBlockDownload(): boolean;
  /** Runs alertnotify. */
  notify(message: string): void;
  /** Counts the event in /metrics. */
  count?(event: SupervisionEvent): void;
  logger?: Logger;
  /** Seconds since the epoch. */
  now?: () => number;
}

export class Supervisor {
  private readonly recentAlerts: SupervisionAlert[] = [];
  private readonly forksSeen = new Set<string>();
  private staleReported: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly d: SupervisorDeps) {
    this.now = d.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** The last alerts, newest first. */
  recent(): SupervisionAlert[] {
    return [...this.recentAlerts].reverse();
  }

  /** Checks the tip's age every few seconds (a quarter of the threshold, at most a minute). */
  start(): void {
    const thresholdMs = this.d.settings.staleTipSpacings * this.d.params.targetSpacing * 1000;
    const every = Math.min(60_000, Math.max(250, thresholdMs / 4));
    this.timer = setInterval(() => this.checkTipAge(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Something a peer sent was refused (p2p's 'rejected' event). */
  rejected(item: {
    kind: 'block' | 'headers' | 'tx';
    reason: string;
    dos: number;
    peer: string;
    hash: string;
  }): void {
    if (item.kind === 'tx' || item.dos <= 0) return;
    const what = item.kind === 'block' ? 'block' : 'header';
    this.raise(
      item.kind === 'block' ? 'invalid-block' : 'invalid-header',
      `invalid ${what} ${item.hash} from peer ${item.peer}: ${item.reason}`,
    );
  }

  /** A transaction was refused because a pool transaction already spends one of its inputs. */
  doubleSpend(txid: string, poolTxids: string[], source: string): void {
    this.raise(
      'double-spend',
      `double-spend attempt: transaction ${txid} from ${source} spends what pool transaction ${poolTxids.join(', ') || '(unknown)'} spends`,
    );
  }

  /** The tip moved, disconnecting `depth` blocks from `oldTip` down to the fork. */
  reorganized(depth: number, oldTip: string, newTip: SupervisedEntry): void {
    if (depth <= this.d.settings.reorgDepth) return;
    this.raise(
      'deep-reorg',
      `reorganisation of ${depth} blocks: tip ${oldTip} replaced by ${newTip.hashHex} at height ${newTip.height}`,
    );
  }

  /** A header or block was added: is it a rival branch about to overtake the tip? */
  headerAdded(e: SupervisedEntry): void {
    if (this.d.isActive(e)) return;
    const tip = this.d.tip();
    if (e.chainWork + blockWork(tip.bits) < tip.chainWork) return;
    const fork = this.forkPoint(e);
    const length = e.height - fork.height;
    if (length < this.d.settings.forkLength) return;
    if (this.forksSeen.has(fork.hashHex)) return;
    if (this.forksSeen.size >= MAX_FORKS_REMEMBERED) this.forksSeen.clear();
    this.forksSeen.add(fork.hashHex);
    this.raise(
      'close-fork',
      `competing branch of ${length} blocks from height ${fork.height} (tip of branch ${e.hashHex} at ` +
        `height ${e.height}) has work within one block of the active tip at height ${tip.height}`,
    );
  }

  /** Alerts once per tip when it is older than staleTipSpacings target spacings. */
  checkTipAge(): void {
    if (this.d.isInitialBlockDownload()) return;
    const tip = this.d.tip();
    const age = this.now() - tip.time;
    const limit = this.d.settings.staleTipSpacings * this.d.params.targetSpacing;
    if (age <= limit || this.staleReported === tip.hashHex) return;
    this.staleReported = tip.hashHex;
    this.raise(
      'stale-tip',
      `no new block for ${age} s (tip ${tip.hashHex} at height ${tip.height}; more than ` +
        `${this.d.settings.staleTipSpacings} target spacings of ${this.d.params.targetSpacing} s)`,
    );
  }

  /** The highest ancestor of `e` on the active chain (binary search over the skip list). */
  private forkPoint(e: SupervisedEntry): SupervisedEntry {
    let lo = 0;
    let hi = Math.min(e.height, this.d.tip().height);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const a = e.getAncestor(mid);
      if (a && this.d.isActive(a)) lo = mid;
      else hi = mid - 1;
    }
    return e.getAncestor(lo) ?? e;
  }

  private raise(event: SupervisionEvent, message: string): void {
    this.d.logger?.warn({ event }, `supervision: ${message}`);
    this.recentAlerts.push({ event, message, time: this.now() });
    if (this.recentAlerts.length > MAX_RECENT_ALERTS) this.recentAlerts.shift();
    this.d.count?.(event);
    this.d.notify(`${event}: ${message}`);
  }
}
