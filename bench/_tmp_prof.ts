import { SubscriptionIndex } from '../src/core/routing/subscription-index.js';
const rnd=(()=>{let s=7;return ()=>{s=(s*16807)%2147483647;return s/2147483647}})();
const D=['orders','payments','users','inventory','shipping','invoices','carts','sessions','reviews','alerts'];
const E=['created','updated','deleted','shipped','cancelled','refunded','approved','failed'];
const pick=<T,>(a:T[])=>a[Math.floor(rnd()*a.length)]!;
const topics:string[]=[]; for(let i=0;i<10000;i++) topics.push(`tenant${Math.floor(rnd()*2000)}.${pick(D)}.${pick(E)}.eu`.split('.').join('.'));
const subs:any[]=[]; for(let i=0;i<70000;i++) subs.push({pattern: i<10000? topics[i]!.split('.').join('.') : `tenant${Math.floor(rnd()*2000)}.${pick(D)}.${pick(E)}.eu`, group: undefined});
for(let i=0;i<20000;i++) subs.push({pattern:`tenant${Math.floor(rnd()*2000)}.*.${pick(E)}`, group: undefined});
for(let size of [20000, 0, 4096]) {
  const idx=new SubscriptionIndex<any>({matchCacheSize:size}); for(const s of subs) idx.add(s);
  for(let r=0;r<3;r++){ const t0=performance.now(); let m=0; for(let k=0;k<20;k++) for(const t of topics) m+=idx.match(t).total; const dt=performance.now()-t0; console.log(size, (dt*1e6/200000).toFixed(0),'ns/lookup', m);}
}
