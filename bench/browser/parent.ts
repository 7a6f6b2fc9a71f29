/**
 * The benchmark's parent page: frames one child (another site) per system and keeps them all
 * connected, so that rounds of sequential round trips with a 200-byte payload can alternate
 * between systems finely. Driven by bench/browser.ts.
 */
import * as cb from './entry.js';

const PAYLOAD = 'x'.repeat(200);

function frame(childOrigin: string, sys: string): Promise<{ iframe: HTMLIFrameElement; win: Window }> {
  const iframe = document.createElement('iframe');
  iframe.src = `${childOrigin}/child.html?sys=${sys}&parent=${encodeURIComponent(location.origin)}`;
  document.body.append(iframe);
  return new Promise((resolve) => {
    const onReady = (e: MessageEvent): void => {
      const d = e.data as { benchReady?: string; wantPort?: boolean };
      if (e.origin !== childOrigin || !(d?.benchReady === sys || (sys === 'messageport-raw' && d?.wantPort === true))) return;
      window.removeEventListener('message', onReady);
      resolve({ iframe, win: iframe.contentWindow! });
    };
    window.addEventListener('message', onReady);
    if (sys === 'penpal') iframe.addEventListener('load', () => resolve({ iframe, win: iframe.contentWindow! }), { once: true });
  });
}

async function timeLoop(n: number, warmup: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < warmup; i++) await call();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call();
  return (n / (performance.now() - t0)) * 1000;
}

/** A request/response helper over something that answers { id, p } with the same id. */
function correlated(
  send: (m: unknown) => void,
  listen: (h: (d: { id: number; p: unknown }) => void) => void,
): (p: unknown, extra?: object) => Promise<unknown> {
  let next = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  listen((d) => {
    waiting.get(d.id)?.(d.p);
    waiting.delete(d.id);
  });
  return (p, extra) =>
    new Promise((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      send({ id, p, ...extra });
    });
}

interface Running {
  iframe: HTMLIFrameElement;
  call(): Promise<unknown>;
  /** Posts `count` one-way messages and resolves once the iframe has them all. */
  oneway?(count: number): Promise<void>;
  close?(): void;
}

const running = new Map<string, Running>();

/** Frames the child for `sys` and connects to it; the system then answers `runRound` until `teardown`. */
export async function setupSystem(sys: string, childOrigin: string): Promise<void> {
  const { iframe, win } = await frame(childOrigin, sys);
  const r = await connectSystem(sys, childOrigin, iframe, win);
  running.set(sys, r);
}

async function connectSystem(sys: string, childOrigin: string, iframe: HTMLIFrameElement, win: Window): Promise<Running> {
  switch (sys) {
    case 'postmessage-raw': {
      const call = correlated(
        (m) => win.postMessage(m, childOrigin),
        (h) =>
          window.addEventListener('message', (e) => {
            if (e.origin === childOrigin && e.source === win && typeof (e.data as { id?: unknown })?.id === 'number')
              h(e.data as { id: number; p: unknown });
          }),
      );
      return { iframe, call: () => call(PAYLOAD) };
    }
    case 'messageport-raw': {
      // The child asked for a port (that resolved frame()); it says ready once it has it.
      const { port1, port2 } = new MessageChannel();
      const readyNow = new Promise<void>((resolve) =>
        window.addEventListener('message', function onReady(e) {
          if (e.origin === childOrigin && (e.data as { benchReady?: string })?.benchReady === sys) {
            window.removeEventListener('message', onReady);
            resolve();
          }
        }),
      );
      win.postMessage({ port: true }, childOrigin, [port2]);
      await readyNow;
      const call = correlated(
        (m) => port1.postMessage(m),
        (h) => {
          port1.onmessage = (e) => h(e.data as { id: number; p: unknown });
        },
      );
      return {
        iframe,
        call: () => call(PAYLOAD),
        async oneway(count) {
          const base = (await call(null, { count: true })) as number;
          for (let i = 0; i < count; i++) port1.postMessage({ oneway: true, p: PAYLOAD });
          while (((await call(null, { count: true })) as number) < base + count) await new Promise((r) => setTimeout(r, 0));
        },
        close: () => port1.close(),
      };
    }
    case 'crossbus': {
      const bus = (globalThis as { benchBus?: cb.Bus }).benchBus!;
      return {
        iframe,
        call: () => bus.request('bench.echo', PAYLOAD),
        async oneway(count) {
          const base = (await bus.request('bench.count', null)) as number;
          for (let i = 0; i < count; i++) await bus.publish('bench.oneway', PAYLOAD);
          while (((await bus.request('bench.count', null)) as number) < base + count) await new Promise((r) => setTimeout(r, 0));
        },
      };
    }
    case 'penpal': {
      const conn = cb.penpalConnect<{ echo(p: unknown): Promise<unknown> }>({
        messenger: new cb.WindowMessenger({ remoteWindow: win, allowedOrigins: [childOrigin] }),
      });
      const remote = await conn.promise;
      return { iframe, call: () => remote.echo(PAYLOAD), close: () => conn.destroy() };
    }
    case 'comlink': {
      const remote = cb.Comlink.wrap<{ echo(p: unknown): unknown }>(cb.Comlink.windowEndpoint(win, self, childOrigin));
      return { iframe, call: () => remote.echo(PAYLOAD) as Promise<unknown> };
    }
    default:
      throw new Error(`unknown system ${sys}`);
  }
}

/** `n` sequential round trips (after `warmup` more); round trips per second. */
export async function runRound(sys: string, n: number, warmup: number): Promise<number> {
  const r = running.get(sys);
  if (r === undefined) throw new Error(`${sys} is not set up`);
  return timeLoop(n, warmup, r.call);
}

/** One-way messages per second: `count` sent back to back, until the iframe has counted them all. */
export async function runOneway(sys: string, count: number): Promise<number | undefined> {
  const r = running.get(sys);
  if (r?.oneway === undefined) return undefined;
  const t0 = performance.now();
  await r.oneway(count);
  return (count / (performance.now() - t0)) * 1000;
}

export function teardown(): void {
  for (const r of running.values()) {
    r.close?.();
    r.iframe.remove();
  }
  running.clear();
}

/** The crossbus page hub: origins are identities, the child's origin is allowed (secure defaults). */
export async function startCrossbusHub(childOrigin: string): Promise<void> {
  const config = cb.parseHubConfig({
    apps: { parent: { origins: [location.origin], roles: ['all'] }, child: { origins: [childOrigin], roles: ['all'] } },
    roles: { all: { publish: ['bench.>'], subscribe: ['bench.>'], request: ['bench.>'] } },
    // The one-way burst is far above the default per-app rate limit, which is not what this measures.
    limits: { rate: { perSecond: 10_000_000, burst: 10_000_000 } },
  });
  const broker = new cb.Broker({
    heartbeatMs: 0,
    security: new cb.HubSecurity({ crypto: cb.createWebCryptoProvider(), config, identifyByOrigin: true }),
  });
  cb.listenWindow({ allowedOrigins: [childOrigin], onConnection: (t) => broker.accept(t) });
  (globalThis as { benchBus?: cb.Bus }).benchBus = await cb.connect(cb.memoryConnector(broker, { vouchedOrigin: location.origin }), {
    name: 'parent',
  });
  const local = await cb.connect(cb.memoryConnector(broker, { vouchedOrigin: location.origin }), { name: 'parent-service' });
  local.serve('bench.local', (m) => m.data);
  await local.flush();
}

/** Round trips between two clients of the page hub, both in the parent: crossbus's own cost, no process hop. */
export async function runInPage(n: number): Promise<number> {
  const bus = (globalThis as { benchBus?: cb.Bus }).benchBus!;
  return timeLoop(n, Math.round(n / 10), () => bus.request('bench.local', PAYLOAD));
}

Object.assign(globalThis, { bench: { setupSystem, runRound, runOneway, teardown, startCrossbusHub, runInPage } });
