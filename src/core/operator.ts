import type { OperatorFunction } from 'rxjs';
import type { PipelineDef } from './pipeline.js';
import type { SinkEnv } from './sink.js';

/** What the runner hands an operator that needs the runtime: the part of a sink's environment that reads tables. */
export type OperatorEnv = Pick<SinkEnv, 'clients' | 'tableName' | 'io'>;

/**
 * An RxJS operator that needs the runtime, such as `lookup`, which reads a table through the
 * runner's governed {@link TableIO}. Operators are declared before any runner exists, so, as a
 * sink does, the operator carries an `open` the runner calls once at start, before the first batch.
 *
 * @example
 * ```ts
 * const op: RuntimeOperator<In, Out> = Object.assign((source: Observable<In>) => source.pipe(map(f)), {
 *   open: async (env: OperatorEnv) => void (io = env.io(env.tableName('users'))),
 * });
 * ```
 */
export interface RuntimeOperator<I, O> extends OperatorFunction<I, O> {
  open(env: OperatorEnv): Promise<void>;
  /** The AWS permissions the operator needs (`tributary iam`); one without it is reported as undeclared. */
  iam?(env: import('./iam.js').IamEnv): readonly import('./iam.js').Permission[];
}

/** Opens every operator of the pipelines that has an `open`, each once however many pipelines share it. */
export async function openOperators(pipelines: readonly PipelineDef[], env: OperatorEnv): Promise<void> {
  const ops = new Set(pipelines.flatMap((p) => p.operators));
  await Promise.all([...ops].map((op) => (op as Partial<RuntimeOperator<unknown, unknown>>).open?.(env)));
}
