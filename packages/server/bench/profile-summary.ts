// Where the server's time goes: reads a V8 CPU profile (.cpuprofile, as written by
// `BENCH_CPU_PROF=/tmp/idle.cpuprofile bench/idle-wrk.ts` or `node --cpu-prof`) and prints self time
// by package and by function, as shares of the busy (non-idle) time.
//   npx tsx bench/profile-summary.ts /tmp/idle.cpuprofile
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, ProfileNode>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);

/** The nearest JavaScript caller of a native frame, so `run` shows up as what called it. */
function caller(node: ProfileNode): ProfileNode | undefined {
  let p = parent.get(node.id);
  while (p && !p.callFrame.url) p = parent.get(p.id);
  return p;
}
const selfByFunction = new Map<string, number>();
const selfByPackage = new Map<string, number>();
let total = 0;

/** `@mdmkit/crypto`, `node:internal`, `better-sqlite3`…, from a script URL. */
function packageOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const ours = /\/packages\/([^/]+)\/(?:src|dist)\//.exec(url);
  if (ours) return `@mdmkit/${ours[1]}`;
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1] as string;
  if (url.startsWith('node:')) return 'node (internals)';
  return url.split('/').slice(-2).join('/');
}

profile.samples.forEach((id, i) => {
  const node = byId.get(id);
  const dt = profile.timeDeltas[i] ?? 0;
  if (!node || node.callFrame.functionName === '(idle)') return;
  total += dt;
  const { functionName, lineNumber } = node.callFrame;
  const js = node.callFrame.url || functionName.startsWith('(') ? node : caller(node);
  const url = js?.callFrame.url ?? '';
  const where = url
    ? `${url.split('/').slice(-2).join('/')}:${(js === node ? lineNumber : (js?.callFrame.lineNumber ?? 0)) + 1}`
    : '';
  const via = js !== node && js ? ` ← ${js.callFrame.functionName || '(anonymous)'}` : '';
  const fn = `${functionName || '(anonymous)'}${via} ${where}`.trim();
  selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + dt);
  const pkg = packageOf(url, functionName);
  selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + dt);
});

const pct = (v: number) => `${((v / total) * 100).toFixed(1)}%`;
const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`| package (native work counted to its JavaScript caller) | self time |\n|---|---:|`);
for (const [k, v] of top(selfByPackage, 12)) console.log(`| ${k} | ${pct(v)} |`);
console.log(`\n| function | self time |\n|---|---:|`);
for (const [k, v] of top(selfByFunction, 20)) console.log(`| \`${k.replace(/\|/g, '\\|')}\` | ${pct(v)} |`);
