// The app the deploy suite ships through the hub's deployment manager (bench/lib/managed-app.ts
// packs versions of this folder): the same answers as bench/apps/deploy-app.mjs (its pid and
// version on the work topic, the same and its start times on its slot's topic), started as a
// deployed instance is, and, last, its health topic, so it takes traffic only once it serves.
//
// Its manifest's `config`: `topic` (the work topic), `healthTopic`, and `failEvery: n` (every nth
// request on the work topic fails: the canary row's bad version). Prints nothing.
import { instanceContext } from 'crossbus/runtime';

const now = () => performance.timeOrigin + performance.now();
const booted = now();
const ctx = await instanceContext();
const context = now();
const config = ctx.config ?? {};
const topic = config.topic ?? 'orders.get';
const failEvery = config.failEvery ?? 0;
const bus = await ctx.connect();
const connected = now();
const slot = Number(ctx.instanceId.slice(ctx.instanceId.lastIndexOf('-') + 1));
const version = ctx.version;

const work = { pid: process.pid, version };
let n = 0;
await bus.serve(topic, () => {
  n++;
  if (failEvery > 0 && n % failEvery === 0) throw new Error(`injected failure ${n}`);
  return work;
});
const started = { origin: performance.timeOrigin, booted, imported: booted, context, connected };
await bus.serve(`${topic}.slot.${slot}`, () => ({ pid: process.pid, slot, version, started }));
await bus.serve(config.healthTopic ?? 'orders.health', () => ({ ok: true, version }));
