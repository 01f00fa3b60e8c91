import { Observable, Subject } from 'rxjs';
import { randomBytes } from 'node:crypto';
import type { TapEnvelope, TapEvent } from './events.js';

/** Events a feed keeps for subscribers that come back: about a few minutes of a busy tap. */
const KEEP = 10_000;

/**
 * One tap's stream of events in this process, computed once and shared by every subscriber
 * (library Observables, SSE and NDJSON clients): each event gets a resume token
 * (`<boot>.<seq>`). A subscriber that comes back with the token of the last event it saw gets
 * the events after it, and nothing twice; with a token of another process (a restart) or one
 * older than the feed keeps, it gets a fresh `snapshot` first, so it never misses state.
 *
 * @example
 * ```ts
 * const feed = new TapFeed(() => ({ type: 'snapshot', values: engine.values(), watermark: null }));
 * feed.subscribe(lastEventId).subscribe(({ id, event }) => send(id, event));
 * feed.publish({ type: 'update', final: false, window, key: '/home', value: { clicks: 3 } });
 * ```
 */
export class TapFeed<V = unknown> {
  private readonly boot = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly kept: TapEnvelope<V>[] = [];
  private readonly live = new Subject<TapEnvelope<V>>();

  constructor(private readonly snapshot: () => TapEvent<V>) {}

  publish(event: TapEvent<V>): TapEnvelope<V> {
    const env = { id: `${this.boot}.${++this.seq}`, event };
    this.kept.push(env);
    if (this.kept.length > KEEP) this.kept.splice(0, this.kept.length - KEEP);
    this.live.next(env);
    return env;
  }

  /** Ends every subscription (the runner stops). */
  complete(): void {
    this.live.complete();
  }

  /**
   * The events after `resume` (a token this feed gave), then the live ones; without a usable
   * token, a snapshot first. The snapshot carries the token of the last event it covers.
   */
  subscribe(resume?: string): Observable<TapEnvelope<V>> {
    return new Observable<TapEnvelope<V>>((sub) => {
      const after = this.resumeAfter(resume);
      if (after === undefined) sub.next({ id: `${this.boot}.${this.seq}`, event: this.snapshot() });
      else for (const e of this.kept) if (seqOf(e.id) > after) sub.next(e);
      const s = this.live.subscribe(sub);
      return () => s.unsubscribe();
    });
  }

  /** The sequence number to resume after, or undefined when the token cannot be honoured. */
  private resumeAfter(token: string | undefined): number | undefined {
    if (!token) return undefined;
    const [boot, n] = token.split('.');
    const seq = Number(n);
    if (boot !== this.boot || !Number.isInteger(seq) || seq > this.seq) return undefined;
    const oldest = this.kept.length ? seqOf(this.kept[0]!.id) : this.seq + 1;
    return seq >= oldest - 1 ? seq : undefined;
  }
}

const seqOf = (id: string): number => Number(id.slice(id.indexOf('.') + 1));
