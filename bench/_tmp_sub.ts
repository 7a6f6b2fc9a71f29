import { buildWorkload, freshSubs, qlobber } from './match.js';
import { SubscriptionIndex } from '../src/core/routing/subscription-index.js';
const w = buildWorkload();
const only = process.argv[2];
const ra: number[] = [], rb: number[] = [];
for (let r = 0; r < 12; r++) {
  const mine = freshSubs(w), theirs = freshSubs(w);
  await new Promise((res) => setImmediate(res));
  let t0 = performance.now();
  const idx = new SubscriptionIndex<any>();
  for (const s of mine) if (only === undefined || (only === 'lit') === !s.pattern.includes('*') && !s.pattern.endsWith('>')) idx.add(s);
  const a = performance.now() - t0;
  t0 = performance.now();
  const q = new qlobber.Qlobber<any>();
  for (let i = 0; i < theirs.length; i++) { const s = theirs[i]!; if (only === undefined || (only === 'lit') === !s.pattern.includes('*') && !s.pattern.endsWith('>')) q.add(w.qPatterns[i]!, s); }
  const b = performance.now() - t0;
  if (r >= 2) { ra.push(a); rb.push(b); }
}
ra.sort((x, y) => x - y); rb.sort((x, y) => x - y);
console.log(only ?? 'all', 'ours ms', ra.map((x) => x.toFixed(0)).join(' '), '\n    qlobber ms', rb.map((x) => x.toFixed(0)).join(' '), '\n    median ratio', (rb[5]! / ra[5]!).toFixed(2));
