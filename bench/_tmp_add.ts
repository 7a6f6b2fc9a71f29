const rnd=(()=>{let s=7;return ()=>{s=(s*16807)%2147483647;return s/2147483647}})();
const D=['orders','payments','users','inventory','shipping','invoices','carts','sessions','reviews','alerts'];
const E=['created','updated','deleted','shipped','cancelled','refunded','approved','failed'];
const pick=<T,>(a:T[])=>a[Math.floor(rnd()*a.length)]!;
const pats:string[]=[]; for(let i=0;i<100000;i++) pats.push(`tenant${Math.floor(rnd()*2000)}.${pick(D)}.${pick(E)}.eu`);
const fresh=()=>pats.map((p,i)=>({pattern:p,group:undefined as string|undefined,id:i}));
function t(name:string, f:(s:ReturnType<typeof fresh>)=>void){ const r:number[]=[]; for(let k=0;k<7;k++){const s=fresh(); const t0=performance.now(); f(s); r.push(performance.now()-t0);} r.sort((a,b)=>a-b); console.log(name, (r[3]!*1e6/100000).toFixed(0),'ns/add');}
t('map-owner', s=>{const m=new Map(); for(const x of s) { if(!m.has(x)) m.set(x,x.pattern);} });
t('set-owner', s=>{const m=new Set(); for(const x of s) { m.add(x);} });
t('literal-map', s=>{const m=new Map<string,any[]>(); for(const x of s) { const b=m.get(x.pattern); if(b===undefined) m.set(x.pattern,[x]); else b.push(x);} });
t('indexOf', s=>{let c=0; for(const x of s) { if(x.pattern.indexOf('*')===-1 && x.pattern.indexOf('>')===-1) c++;} });
t('split', s=>{let c=0; for(const x of s) { c+=x.pattern.split('.').length} });
t('literal-map-noarr', s=>{const m=new Map<string,any>(); for(const x of s) { const b=m.get(x.pattern); if(b===undefined) m.set(x.pattern,x); else if (Array.isArray(b)) b.push(x); else m.set(x.pattern,[b,x]);} });
t('literal-map-set-only', s=>{const m=new Map<string,any>(); for(const x of s) { m.set(x.pattern,x);} });
t('literal-map again', s=>{const m=new Map<string,any[]>(); for(const x of s) { const b=m.get(x.pattern); if(b===undefined) m.set(x.pattern,[x]); else b.push(x);} });
t('set-owner again', s=>{const m=new Set(); for(const x of s) { m.add(x);} });
t('empty loop', s=>{let c=0; for(const x of s) { c+=x.id} });
