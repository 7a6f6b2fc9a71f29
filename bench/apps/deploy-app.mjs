// The app of `npm run bench -- deploy` (bench/deploy.ts). Answers every request on its work topic
// with its pid and version, and requests on its own slot's topic with the same and the moments it
// got through each step of starting (the suite's breakdown of a replacement's time).
//
// Under a crossbus Supervisor (CROSSBUS_INSTANCE set) it starts as a managed app does, through
// `instanceContext()`; anywhere else (pm2) with a plain `connect(CROSSBUS_URL)`. Either way the
// same modules load, the same connection is made, and the same work is done.
//
// Environment: BENCH_TOPIC (the work topic), CROSSBUS_URL (outside a supervisor), BENCH_VERSION
// (outside a supervisor: the manifest's otherwise), NODE_APP_INSTANCE (pm2's slot number).
// Prints nothing: the bench's stdout carries only its table.

const now = () => performance.timeOrigin + performance.now();
const booted = now();
const topic = process.env.BENCH_TOPIC ?? 'bench.deploy';

let bus;
let slot;
let version;
let imported;
let context;
if (process.env.CROSSBUS_INSTANCE !== undefined) {
  const { instanceContext } = await import('../../dist/node/runtime.js');
  imported = now();
  const ctx = await instanceContext();
  context = now();
  bus = await ctx.connect();
  slot = Number(ctx.instanceId.slice(ctx.instanceId.lastIndexOf('-') + 1));
  version = ctx.version;
} else {
  const { connect } = await import('../../dist/node/index.js');
  imported = now();
  context = imported;
  bus = await connect(process.env.CROSSBUS_URL, { name: 'deploy-bench' });
  slot = Number(process.env.NODE_APP_INSTANCE ?? 0);
  version = process.env.BENCH_VERSION ?? '0.0.0';
}
const connected = now();

const work = { pid: process.pid, version };
bus.serve(topic, () => work);
// Times since the epoch, in ms: when the process began (Node's time origin), ran this module's
// first line, had loaded crossbus, had its context from the supervisor, was connected.
const started = { origin: performance.timeOrigin, booted, imported, context, connected };
bus.serve(`${topic}.slot.${slot}`, () => ({ pid: process.pid, slot, version, started }));
