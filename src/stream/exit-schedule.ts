import { type ExitRule, neverEarly } from '../spec/exit-rules.js';
import { QUIET_LABELS } from '../spec/labels.js';

/**
 * Which exit rule each window of a stream runs with: the stream rule's, except for `holdWindows`
 * windows after one whose answer names a keyword, which run every exit (StreamRule.holdWindows).
 * A word spans several windows; under a compute cap most of them leave at exit 1 as quiet, and
 * the smoothed mean that decides a detection averages the word with its own quiet answers (on
 * the validation stream, 40% of the spotter's misses before it had a hold; docs/streams.md).
 * Holding keeps the full network on while a keyword may be under way, and costs compute only
 * around windows that name keywords.
 */
export class ExitSchedule {
  private left = 0;
  private readonly full: ExitRule;
  private readonly quiet: Set<number>;

  constructor(
    private readonly rule: ExitRule,
    labels: string[],
    exits: number,
    private readonly holdWindows = 0,
  ) {
    this.full = neverEarly(exits);
    this.quiet = new Set(QUIET_LABELS.map((l) => labels.indexOf(l)).filter((i) => i >= 0));
  }

  /** the rule for the next window */
  next(): ExitRule {
    return this.left > 0 ? this.full : this.rule;
  }

  /** after a window: the class its answer put on top */
  answered(top: number): void {
    if (this.left > 0) this.left--;
    if (this.holdWindows > 0 && this.quiet.size > 0 && !this.quiet.has(top)) this.left = this.holdWindows;
  }
}
