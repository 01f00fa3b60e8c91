/** Tuning of the rate controller. */
export interface AimdOptions {
  /** Factor applied to the rate on throttling. Default 0.7. */
  readonly decrease: number;
  /** Share of the budget added back per second without throttling. Default 0.05. */
  readonly increasePerSecond: number;
  /** The rate never drops below this share of the budget. Default 0.05. */
  readonly floor: number;
}

export const DEFAULT_AIMD: AimdOptions = { decrease: 0.7, increasePerSecond: 0.05, floor: 0.05 };

/**
 * Additive increase, multiplicative decrease of a send rate under a budget: throttling cuts the
 * rate (once per `cooldownMs`, so a burst of rejections from one moment counts once); each second
 * without throttling adds a share of the budget back, up to the budget.
 */
export class Aimd {
  private rate: number;
  private lastCut = -Infinity;
  private lastGrow: number;

  constructor(
    private budget: number,
    private readonly opts: AimdOptions = DEFAULT_AIMD,
    private readonly now: () => number = () => Date.now(),
    private readonly cooldownMs = 1_000,
  ) {
    this.rate = budget;
    this.lastGrow = now();
  }

  get current(): number {
    this.grow();
    return this.rate;
  }

  get limit(): number {
    return this.budget;
  }

  /** A new budget keeps the rate's share of it: full speed stays full speed, a cut stays a cut. */
  setBudget(budget: number): void {
    const share = this.budget > 0 ? this.rate / this.budget : 1;
    this.budget = budget;
    this.rate = Math.min(budget, Math.max(budget * this.opts.floor, share * budget));
  }

  throttled(): void {
    const t = this.now();
    if (t - this.lastCut < this.cooldownMs) return;
    this.lastCut = t;
    this.lastGrow = t;
    this.rate = Math.max(this.budget * this.opts.floor, this.rate * this.opts.decrease);
  }

  private grow(): void {
    const t = this.now();
    const dt = (t - this.lastGrow) / 1000;
    if (dt <= 0) return;
    this.lastGrow = t;
    this.rate = Math.min(this.budget, this.rate + dt * this.opts.increasePerSecond * this.budget);
  }
}
