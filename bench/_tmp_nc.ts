import { buildWorkload, freshSubs, qlobber } from './match.js';
import { SubscriptionIndex } from '../src/core/routing/subscription-index.js';
const w = buildWorkload();
const subs = freshSubs(w);
const idx = new SubscriptionIndex<any>({ matchCacheSize: 0 });
for (const s of subs) idx.add(s);
const q = new qlobber.Qlobber<any>();
subs.forEach((s, i) => q.add(w.qPatterns[i]!, s));
const mode = process.argv[2];
for (let r = 0; r < 8; r++) {
  let t0 = performance.now(); let m = 0;
  for (const t of w.stream) m += idx.match(t).total;
  const a = performance.now() - t0;
  t0 = performance.now(); let m2 = 0;
  for (const t of w.stream) m2 += q.match(t).length;
  const b = performance.now() - t0;
  console.log('ours', (a * 1e6 / w.stream.length).toFixed(0), 'qlobber', (b * 1e6 / w.stream.length).toFixed(0), 'ratio', (b / a).toFixed(2), m === m2);
}
