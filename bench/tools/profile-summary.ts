import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by file or
 * package, so that "where does the time go" has an answer in file:function terms.
 *
 *   npx tsx bench/tools/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [top]
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const place = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  const short = url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : url;
  return {
    short,
    pkg: short.startsWith('@')
      ? short.split('/').slice(0, 2).join('/')
      : url.includes('node_modules/')
        ? short.split('/')[0]!
        : short || '(native)',
  };
};
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

/** Coarse buckets, so the answer to "where does the time go" fits in a line. */
const category = (n: Node): string => {
  const { short } = place(n);
  const fn = n.callFrame.functionName;
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (
    /^@(aws-sdk|smithy)\//.test(short) ||
    /^node:(_http|net|internal\/streams|stream|internal\/stream_base|internal\/crypto|crypto|dns|tls)/.test(short) ||
    fn === 'writev' ||
    fn === 'writeUtf8String' ||
    fn === 'writeBuffer'
  )
    return 'AWS SDK + HTTP (requests to DynamoDB)';
  if (short.startsWith('rxjs/')) return 'rxjs';
  if (short.startsWith('src/testing/')) return 'in-memory source (src/testing)';
  if (short.startsWith('src/')) return 'tributary runtime (src/)';
  if (short.startsWith('bench/')) return 'benchmark code (bench/)';
  if (fn === 'runMicrotasks' || short.startsWith('node:internal/process/task_queues'))
    return 'promise/microtask machinery';
  return 'other';
};
const catSelf = new Map<string, number>();

const fnSelf = new Map<string, number>();
const fileSelf = new Map<string, number>();
// Inclusive time of project functions (src/ and bench/): self time of the node and of everything under it.
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const { short, pkg } = place(n);
  add(
    fnSelf,
    `${short || n.callFrame.functionName}:${n.callFrame.lineNumber + 1} ${n.callFrame.functionName || '(anonymous)'}`,
    us,
  );
  add(fileSelf, pkg, us);
  add(catSelf, category(n), us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur)!;
    const p = place(c).short;
    if (!/^(src|bench)\//.test(p)) continue;
    const key = `${p}:${c.callFrame.lineNumber + 1} ${c.callFrame.functionName || '(anonymous)'}`;
    if (seen.has(key)) continue;
    seen.add(key);
    add(inclusive, key, us);
  }
}

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`total sampled: ${(total / 1000).toFixed(0)} ms`);
print('self time by category', catSelf);
print('self time by file or package', fileSelf);
print('self time by function', fnSelf);
print('inclusive time of project functions (src/, bench/)', inclusive);
