import type { CounterName, LabelsOf } from '../../src/observe/metric-defs.js';
import { Metrics } from '../../src/observe/metrics.js';

/**
 * The runner's metrics, watched: resolves `done` with the time at which `target` records have been
 * acknowledged. The executor counts `tributary_records_applied_total` only once every sink has
 * resolved its write, so this is the moment of the last acknowledgement, without polling.
 */
export class AckWatch extends Metrics {
  private applied = 0;
  private resolveDone!: (at: number) => void;
  /** `performance.now()` at the moment the target was reached. */
  readonly done: Promise<number>;

  constructor(private readonly target: number) {
    super();
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  override inc<N extends CounterName>(name: N, labels: LabelsOf<N> = {} as LabelsOf<N>, by = 1): void {
    super.inc(name, labels, by);
    if (name !== 'tributary_records_applied_total') return;
    this.applied += by;
    if (this.applied >= this.target) this.resolveDone(performance.now());
  }

  get acknowledged(): number {
    return this.applied;
  }
}
