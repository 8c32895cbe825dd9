// The chain's progress as people read it in the log: one "new tip" line per block once the node
// is caught up, but while it catches up (initial download, or more than CATCHING_UP_GAP blocks
// behind its best header) one summary line every SUMMARY_MS, so the progress bar on the console
// stays readable, and a "caught up" line with the height, hash and block time when it is done.
// Owns nothing but the last summary's mark; reads the chain through the functions given.
import type { Logger } from '../primitives/logger.js';

/** Blocks behind the best header that count as catching up (Core's IsInitialBlockDownload margin). */
export const CATCHING_UP_GAP = 6;
/** At most one summary line per this many milliseconds while catching up. */
export const SUMMARY_MS = 10_000;

export interface TipLogDeps {
  log: Pick<Logger, 'info'>;
  isInitialBlockDownload(): boolean;
  bestHeaderHeight(): number;
  /** Milliseconds (default Date.now). */
  now?: () => number;
  summaryMs?: number;
}

export interface TipRef {
  height: number;
  hashHex: string;
  header: { time: number };
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

export class TipLog {
  private run: { startedAt: number; fromHeight: number; markAt: number; markHeight: number } | null = null;
  private readonly now: () => number;
  private readonly every: number;
  constructor(private readonly d: TipLogDeps) {
    this.now = d.now ?? Date.now;
    this.every = d.summaryMs ?? SUMMARY_MS;
  }

  /** Whether the last tip was logged as part of a catch-up (summaries, not one line per block). */
  get catchingUp(): boolean {
    return this.run !== null;
  }

  onTip(tip: TipRef): void {
    const { log } = this.d;
    const best = Math.max(this.d.bestHeaderHeight(), tip.height);
    const ibd = this.d.isInitialBlockDownload();
    const now = this.now();
    if (this.run === null) {
      if (!ibd && best - tip.height <= CATCHING_UP_GAP) {
        log.info({ height: tip.height, hash: tip.hashHex, time: iso(tip.header.time) }, 'new tip');
        return;
      }
      this.run = { startedAt: now, fromHeight: tip.height, markAt: now, markHeight: tip.height };
      log.info({ height: tip.height, headers: best }, 'catching up: one line every 10 s until caught up');
      return;
    }
    const run = this.run;
    if (!ibd && tip.height >= best) {
      const seconds = Math.max(0.001, (now - run.startedAt) / 1000);
      log.info(
        {
          height: tip.height,
          hash: tip.hashHex,
          time: iso(tip.header.time),
          blocks: tip.height - run.fromHeight,
          seconds: Math.round(seconds),
        },
        'caught up',
      );
      this.run = null;
      return;
    }
    if (now - run.markAt < this.every) return;
    const rate = ((tip.height - run.markHeight) * 1000) / (now - run.markAt);
    log.info(
      {
        height: tip.height,
        headers: best,
        progress: `${((100 * tip.height) / Math.max(1, best)).toFixed(1)}%`,
        rate: `${rate.toFixed(1)} blocks/s`,
        time: iso(tip.header.time),
      },
      'catching up',
    );
    run.markAt = now;
    run.markHeight = tip.height;
  }
}
