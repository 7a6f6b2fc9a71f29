/**
 * One trace from a page in a real Chromium through the hub to a Node service and back: the page's
 * request, the service's process span, the event the service publishes while it handles the
 * request, and the page's process span for that event share one trace id, each span the child of
 * the one before. The page's spans come from its in-memory exporter, the service's from Node's.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { context, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Browser, Page } from 'playwright-core';
import { startHub, type Hub } from '../../src/hub/index.js';
import { connect, type SyncingBus } from '../../src/node/index.js';
import { bundleBrowserEntry, cbPageHtml, launchChromium, runIn as run, startStaticServer, type StaticServer } from '../helpers/browser.js';
import { testConfigDocument } from '../helpers/security.js';
import { until } from '../helpers/wait.js';

const ENTRY = fileURLToPath(new URL('./fixtures/tracing-entry.ts', import.meta.url));

interface SpanView {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parent: string | undefined;
  links: string[];
}

let site: StaticServer;
let hub: Hub;
let browser: Browser;
let page: Page;
let service: SyncingBus;
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const config = testConfigDocument();

describe('tracing from a page through the hub to a Node service and back (Chromium)', { timeout: 60_000 }, () => {
  before(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const code = (await bundleBrowserEntry(ENTRY)).code;
    site = await startStaticServer({
      '/': { contentType: 'text/html; charset=utf-8', body: cbPageHtml() },
      '/cb.js': { contentType: 'text/javascript; charset=utf-8', body: code },
    });
    config.origins = [site.origin] as never;
    hub = await startHub({ port: 0, config, streamStorage: 'memory', shutdownTimeoutMs: 1_000 });
    service = await connect(hub.url, {
      name: 'test',
      secret: config.apps.test.secret,
      reconnect: false,
      tracing: { tracerProvider: provider },
    });
    service.serve('svc.lookup', async (m) => {
      // Published while the request is handled: a child of the service's process span.
      await service.publish('page.events.looked-up', { id: (m.data as { id: number }).id });
      return { found: true };
    });
    await service.flush();
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    await page.addInitScript('globalThis.__name = (fn) => fn;');
    await page.goto(site.url('/'));
    await page.waitForFunction('globalThis.ready === true');
  });

  after(async () => {
    for (const step of [() => browser?.close(), () => service?.close(), () => hub?.close(), () => site?.close()]) {
      await Promise.resolve()
        .then(step)
        .catch(() => {});
    }
    context.disable();
  });

  it('is one trace: page request → service → service event → page handler', async () => {
    const reply = await run<{ found: boolean }>(
      page,
      `
      t.exporter = new cb.InMemorySpanExporter();
      const provider = new cb.BasicTracerProvider({ spanProcessors: [new cb.SimpleSpanProcessor(t.exporter)] });
      t.bus = await cb.connect(${JSON.stringify(hub.url)}, { name: 'test', secret: ${JSON.stringify(config.apps.test.secret)},
        reconnect: false, tracing: { tracerProvider: provider } });
      t.events = [];
      t.bus.subscribe('page.events.*', (m) => { t.events.push(m.topic); });
      await t.bus.flush();
      return await t.bus.request('svc.lookup', { id: 7 });`,
    );
    assert.deepEqual(reply, { found: true });
    await page.waitForFunction('t.events.length === 1 && t.exporter.getFinishedSpans().length === 2');
    await until(() => exporter.getFinishedSpans().length === 2, 5_000, "the service's two spans");
    const view = `(s) => ({ name: s.name, kind: s.kind, traceId: s.spanContext().traceId, spanId: s.spanContext().spanId,
      parent: s.parentSpanContext?.spanId, links: s.links.map((l) => l.context.spanId) })`;
    const pageSpans = await run<SpanView[]>(page, `return t.exporter.getFinishedSpans().map(${view});`);
    const nodeSpans: SpanView[] = exporter.getFinishedSpans().map((s) => ({
      name: s.name,
      kind: s.kind,
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      parent: s.parentSpanContext?.spanId,
      links: s.links.map((l) => l.context.spanId),
    }));
    const all = [...pageSpans, ...nodeSpans];
    const find = (name: string): SpanView => {
      const s = all.find((x) => x.name === name);
      assert.ok(s, `${name} among ${all.map((x) => x.name).join(', ')}`);
      return s;
    };
    const request = find('request svc.lookup');
    const served = find('process svc.lookup');
    const event = find('publish page.events.looked-up');
    const handled = find('process page.events.*');
    assert.equal(new Set(all.map((s) => s.traceId)).size, 1, 'one trace');
    assert.equal(request.parent, undefined, 'the page started it');
    assert.equal(request.kind, SpanKind.PRODUCER);
    assert.equal(served.kind, SpanKind.CONSUMER);
    assert.equal(served.parent, request.spanId);
    assert.deepEqual(served.links, [request.spanId]);
    assert.equal(event.parent, served.spanId);
    assert.equal(handled.parent, event.spanId);
    assert.equal(handled.kind, SpanKind.CONSUMER);
    await run(page, 'await t.bus.close();');
  });
});
