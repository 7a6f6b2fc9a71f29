/**
 * Browser round trips: a parent page (http://localhost) and a cross-site iframe
 * (http://127.0.0.1), in one Chromium run. Sequential request/reply with a 200-byte payload for
 * raw window.postMessage, a raw MessagePort handed to the iframe (the floor once connected),
 * crossbus (a hub in the parent page, origin identities, the iframe joined through postMessage
 * and then its private MessageChannel), Penpal and Comlink. Each system gets its own iframe, all
 * connected at once; short rounds alternate between the systems and each reports its median.
 * Also one-way messages per second to the iframe and the size of the page client.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BenchOutput } from './lib/output.js';
import { formatTable, note } from './lib/procs.js';
import { fmtInt, ratio } from './pubsub.js';
import { launchChromium, startStaticServer, type StaticServer } from '../test/helpers/browser.js';
// @ts-expect-error a plain .mjs script without types
import { measure } from '../scripts/size.mjs';

export const BROWSER_SYSTEMS = ['postmessage-raw', 'messageport-raw', 'crossbus', 'penpal', 'comlink'] as const;
/**
 * Round trips on this machine drift by a factor of two over seconds (two cores shared by the
 * browser's processes), so systems alternate in many short rounds and each reports its median.
 */
const ROUNDS = 15;

async function bundle(file: string): Promise<string> {
  const r = await build({
    entryPoints: [fileURLToPath(new URL(file, import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return r.outputFiles[0]!.text;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runBrowserBench(
  options: { only?: string[] | undefined; scale?: number } = {},
): Promise<BenchOutput & { failures: string[] }> {
  const systems = BROWSER_SYSTEMS.filter((s) => options.only === undefined || options.only.includes(s));
  const n = Math.max(100, Math.round(800 * (options.scale ?? 1)));
  const oneway = Math.max(1000, Math.round(20000 * (options.scale ?? 1)));
  const [parentJs, childJs] = await Promise.all([bundle('./browser/parent.ts'), bundle('./browser/child.ts')]);
  const js = (body: string) => ({ contentType: 'text/javascript; charset=utf-8', body });
  const htmlPage = (script: string) => ({
    contentType: 'text/html; charset=utf-8',
    body: `<!doctype html><meta charset="utf-8"><body><script type="module" src="${script}"></script></body>`,
  });
  const servers: StaticServer[] = [];
  const failures: string[] = [];
  const rtt: Record<string, number[]> = {};
  const oneWay: Record<string, number[]> = {};
  let inPage: number | undefined;
  const browser = await launchChromium();
  try {
    const parent = await startStaticServer({ '/parent.html': htmlPage('/parent.js'), '/parent.js': js(parentJs) });
    const child = await startStaticServer({ '/child.html': htmlPage('/child.js'), '/child.js': js(childJs) });
    servers.push(parent, child);
    const page = await browser.newPage();
    page.on('pageerror', (e) => failures.push(`page error: ${String(e)}`));
    await page.goto(`http://localhost:${parent.port}/parent.html`);
    await page.waitForFunction('globalThis.bench !== undefined');
    await page.evaluate(`globalThis.bench.startCrossbusHub(${JSON.stringify(child.origin)})`);
    for (const sys of systems) {
      try {
        await page.evaluate(`globalThis.bench.setupSystem(${JSON.stringify(sys)}, ${JSON.stringify(child.origin)})`);
        await page.evaluate(`globalThis.bench.runRound(${JSON.stringify(sys)}, ${n}, 0)`); // warm-up
      } catch (err) {
        failures.push(`${sys}: ${String(err)}`);
      }
    }
    const ready = systems.filter((s) => !failures.some((f) => f.startsWith(`${s}:`)));
    for (let round = 0; round < ROUNDS; round++) {
      note(`browser: round ${round + 1}/${ROUNDS}`);
      // A different order each round, so no system always runs right after the same one.
      const order = ready.map((_s, i) => ready[(i + round) % ready.length]!);
      for (const sys of order) {
        try {
          (rtt[sys] ??= []).push(
            (await page.evaluate(`globalThis.bench.runRound(${JSON.stringify(sys)}, ${n}, ${Math.round(n / 10)})`)) as number,
          );
        } catch (err) {
          failures.push(`${sys}: ${String(err)}`);
        }
      }
    }
    for (let round = 0; round < 3; round++) {
      for (const sys of ready) {
        const v = (await page.evaluate(`globalThis.bench.runOneway(${JSON.stringify(sys)}, ${oneway})`)) as number | null;
        if (v !== null && v !== undefined) (oneWay[sys] ??= []).push(v);
      }
    }
    await page.evaluate('globalThis.bench.teardown()');
    // crossbus's own cost: two clients of the page hub in the parent, no process hop.
    if (systems.includes('crossbus')) inPage = (await page.evaluate(`globalThis.bench.runInPage(${n})`)) as number;
  } finally {
    await browser.close();
    for (const s of servers) await s.close();
  }
  const results: Record<string, number> = {};
  for (const s of systems) if (rtt[s] !== undefined) results[s] = Math.round(median(rtt[s]!));
  const size = (await measure('src/browser/page.ts')) as { minified: number; gzipped: number };
  const rows = [['system', `round trips/s (median of ${ROUNDS})`, 'per round trip', 'one-way msg/s']];
  for (const s of systems) {
    const v = results[s];
    rows.push([
      s,
      v === undefined ? 'failed' : fmtInt(v),
      v === undefined ? '' : `${(1000 / v).toFixed(3)} ms`,
      oneWay[s] ? fmtInt(median(oneWay[s]!)) : '',
    ]);
  }
  const ratios: Record<string, number> = {};
  for (const peer of ['messageport-raw', 'postmessage-raw', 'penpal', 'comlink']) {
    const r = ratio(results.crossbus, results[peer]);
    if (r !== undefined) ratios[`crossbus/${peer}`] = r;
  }
  const table =
    `browser: sequential request/reply, 200-byte payload, parent page ↔ cross-site iframe, Chromium, ${ROUNDS} interleaved rounds of ${n} round trips\n` +
    `${formatTable(rows)}\n` +
    (inPage !== undefined
      ? `crossbus between two clients of the page hub, same page (no process hop): ${fmtInt(inPage)} round trips/s, ${(1000 / inPage).toFixed(3)} ms\n`
      : '') +
    `page client (crossbus/page): ${(size.minified / 1024).toFixed(1)} KB minified, ${(size.gzipped / 1024).toFixed(2)} KB gzipped (${size.gzipped} bytes)\n` +
    `ratios: ${Object.entries(ratios)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`;
  return { suite: 'browser', unit: 'round trips per second', table, results, ratios, failures };
}
