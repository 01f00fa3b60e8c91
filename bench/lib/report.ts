/** One line of a benchmark's result: a tributary figure against a baseline measured in the same run. */
export interface ResultRow {
  readonly measure: string;
  readonly tributary: number;
  readonly baseline: number;
  /** Unit of the two figures, e.g. `records/s` or `MB`. */
  readonly unit: string;
  /** What the target is about: the tributary figure itself, or tributary/baseline. None: a diagnostic row. */
  readonly target?: { readonly on: 'tributary' | 'ratio'; readonly op: '>=' | '<='; readonly value: number };
}

export interface BenchResult {
  readonly name: string;
  readonly title: string;
  readonly command: string;
  readonly rows: readonly ResultRow[];
  /** Headers of the two figure columns when they are not tributary against a baseline. */
  readonly columns?: { readonly tributary: string; readonly baseline: string };
  /** Lines worth reading next to the table: conditions, individual runs, caveats. */
  readonly notes: readonly string[];
}

/** A benchmark: a script that measures and prints, never asserts. */
export interface Benchmark {
  readonly name: string;
  readonly title: string;
  run(): Promise<BenchResult>;
}

export const ratioOf = (r: ResultRow): number => r.tributary / r.baseline;

/** Whether a row meets its target; undefined for a diagnostic row. */
export function isMet(r: ResultRow): boolean | undefined {
  if (!r.target) return undefined;
  const v = r.target.on === 'ratio' ? ratioOf(r) : r.tributary;
  return r.target.op === '>=' ? v >= r.target.value : v <= r.target.value;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const targetText = (r: ResultRow) =>
  !r.target
    ? '(diagnostic)'
    : r.target.on === 'ratio'
      ? `ratio ${r.target.op} ${r.target.value}`
      : `${r.target.op} ${fmt(r.target.value)} ${r.unit}`;

const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'NOT MET');

/** Renders a result as a small aligned table with the command that reproduces it. */
export function renderResult(res: BenchResult): string {
  const head = [
    'measure',
    res.columns?.tributary ?? 'tributary',
    res.columns?.baseline ?? 'baseline',
    'ratio',
    'target',
    'result',
  ];
  const digits = (r: ResultRow) => (Math.max(Math.abs(r.tributary), Math.abs(r.baseline)) < 100 ? 1 : 0);
  const body = res.rows.map((r) => [
    r.measure,
    `${fmt(r.tributary, digits(r))} ${r.unit}`,
    `${fmt(r.baseline, digits(r))} ${r.unit}`,
    fmt(ratioOf(r), 2),
    targetText(r),
    verdict(isMet(r)),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    `\n== ${res.name}: ${res.title}`,
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
    ...res.notes.map((n) => `  ${n}`),
    `  reproduce: ${res.command}`,
  ].join('\n');
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Progress lines go to stderr so that stdout holds only results. */
export const progress = (msg: string): void => void process.stderr.write(`  .. ${msg}\n`);
