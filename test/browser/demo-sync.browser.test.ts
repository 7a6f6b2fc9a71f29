/**
 * The demo's project document (issue 18's seed scenario) in a real Chromium, as a person drives
 * it: the real `crossbus demo` process, the editor page with its two editors, the preview on
 * another site, and the unpacked extension (its service worker's replica, edited from its popup).
 * The editor and the extension edit at once and converge, with both changes in the Node hub's
 * stream; two held editors make a merge, then a parked conflict that the page's panel settles on
 * every replica; the preview may read the project and nothing more. The popup is an extension
 * page, whose CSP forbids eval: it is read with textContent, never with a string waitForFunction.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Frame, Page, Worker } from 'playwright-core';
import { createNodeCryptoProvider } from '../../src/node/index.js';
import { connect, type SyncingBus } from '../../src/node/index.js';
import { decodeBatch, syncDocTopic, syncStreamName } from '../../src/core/sync/index.js';
import { launchWithExtension } from '../helpers/browser.js';
import { spawnCli, type CliProcess } from '../helpers/hub-process.js';
import { until } from '../helpers/wait.js';

// @ts-expect-error a plain .mjs build script without types
import { EXTENSION_ID } from '../../examples/extension/build.mjs';

const DOC = 'demo/project';
const EXT_ORIGIN = `chrome-extension://${EXTENSION_ID as string}`;

let demo: CliProcess;
let dataDir = '';
let previewOrigin = '';
let context: BrowserContext;
let page: Page;
let popup: Page;
let node: SyncingBus;
let stream = '';
const pageErrors: string[] = [];

/** The extension's service worker now (a new one, should Chrome have stopped the old). */
function worker(): Worker {
  const w = context.serviceWorkers().find((x) => x.url().startsWith(EXT_ORIGIN));
  assert.ok(w !== undefined, 'the extension has a service worker');
  return w;
}

interface ReplicaView {
  readme: string;
  notes: string;
  replica: string;
  conflicts: number;
}

/** What the extension's replica holds. */
function extensionView(): Promise<ReplicaView> {
  return worker().evaluate(`(async () => {
    const d = await globalThis.crossbusExtension.project();
    return { readme: d.readFile('/README.md'), notes: d.readFile('/notes.md'), replica: d.replica, conflicts: d.conflicts.length };
  })()`) as Promise<ReplicaView>;
}

/** What the preview's (read-only) replica holds, and what it shows. */
async function previewView(): Promise<ReplicaView & { shown: string }> {
  return (await preview()).evaluate(`(() => {
    const d = globalThis.demo.project;
    return { readme: d.readFile('/README.md'), notes: d.readFile('/notes.md'), replica: d.replica, conflicts: d.conflicts.length,
      shown: document.getElementById('doc').textContent };
  })()`) as Promise<ReplicaView & { shown: string }>;
}

async function preview(): Promise<Frame> {
  let frame: Frame | undefined;
  await until(
    async () => {
      frame = page.frames().find((f) => f.url().startsWith(previewOrigin));
      return frame !== undefined && (await frame.evaluate('globalThis.demo?.project !== undefined').catch(() => false)) === true;
    },
    10_000,
    'the preview to open the project',
  );
  return frame!;
}

/** Editor A's and B's text, and the conflicts A's replica has parked. */
function editors(): Promise<{ a: string; b: string; conflicts: number }> {
  return page.evaluate(`({
    a: document.getElementById('source').value,
    b: document.getElementById('source-b').value,
    conflicts: globalThis.demo.project.a.doc.conflicts.length,
  })`) as Promise<{ a: string; b: string; conflicts: number }>;
}

/** The changes in the Node hub's stream of the project: author replica and the paths each touched. */
async function changesInStream(): Promise<Array<{ replica: string; paths: string[] }>> {
  const out: Array<{ replica: string; paths: string[] }> = [];
  for (let fromSeq = 1; ; ) {
    const page = await node.streams.read(stream, { fromSeq, maxMessages: 1000 });
    if (page.length === 0) return out;
    for (const r of page) {
      if (r.topic !== syncDocTopic(DOC)) continue;
      for (const c of decodeBatch(r.data as Uint8Array)) out.push({ replica: c.replica, paths: c.ops.map((o) => o.path) });
    }
    fromSeq = page[page.length - 1]!.seq + 1;
  }
}

/** Types `keys` at the end of the first line of a textarea, key by key, as a person does. */
async function typeAtEndOfFirstLine(selector: string, keys: string): Promise<void> {
  await page.click(selector);
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('End');
  await page.keyboard.type(keys);
}

/** Replaces line `n` of `text`. */
function withLine(text: string, n: number, line: string): string {
  const lines = text.split('\n');
  lines[n] = line;
  return lines.join('\n');
}

describe('the demo project: editors, preview and extension on one document (Chromium)', { timeout: 60_000 }, () => {
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'crossbus-demo-sync-'));
    demo = spawnCli([
      'demo',
      '--port',
      '0',
      '--editor-port',
      '0',
      '--preview-port',
      '0',
      '--data',
      dataDir,
      '--extension-dir',
      join(dataDir, 'extension'),
    ]);
    await until(() => /extension is built in/.test(demo.stdout()), 20_000, `the demo to start\n${demo.stderr()}`);
    const editorUrl = /open (http:\/\/localhost:\d+\/)/.exec(demo.stdout())![1]!;
    previewOrigin = /comes from (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.stdout())![1]!;
    const hubUrl = /hub listening on (\S+)/.exec(demo.stdout())![1]!;
    const extensionDir = /extension is built in (\S+)/.exec(demo.stdout())![1]!;
    // The test reads the stream as the demo's Node service (its secret is in the data folder).
    const config = JSON.parse(readFileSync(join(dataDir, 'crossbus.config.json'), 'utf8')) as { apps: Record<string, { secret: string }> };
    node = await connect(hubUrl, { name: 'demo-service', secret: config.apps['demo-service']!.secret, reconnect: false });
    stream = await syncStreamName(syncDocTopic(DOC), createNodeCryptoProvider());
    ({ context } = await launchWithExtension(extensionDir, join(dataDir, 'profile')));
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(editorUrl);
    await page.waitForFunction('globalThis.demo?.project !== undefined', undefined, { timeout: 15_000 });
    // The popup, as its toolbar button opens it (here in a tab of its own).
    popup = await context.newPage();
    popup.on('pageerror', (e) => pageErrors.push(String(e)));
    await popup.goto(`${EXT_ORIGIN}/popup.html`);
    await popup.locator('#notes:enabled').waitFor({ timeout: 15_000 });
  });

  after(async () => {
    await context?.close().catch(() => {});
    await node?.close().catch(() => {});
    demo?.proc.kill('SIGTERM');
    await demo?.exited;
  });

  it('the editor page and the extension edit the project at once and converge; the hub keeps both changes', async () => {
    const readme = `${await page.inputValue('#source')}A line from the editor page.\n`;
    const notes = 'Typed in the extension popup, at the same time.\n';
    await Promise.all([page.fill('#source', readme), popup.fill('#notes', notes)]);
    // Each sees the other's edit: the page the extension's notes, the popup the page's README.
    await page.waitForFunction(`document.getElementById('notes').textContent === ${JSON.stringify(notes)}`, undefined, { timeout: 10_000 });
    await until(async () => (await popup.textContent('#readme')) === readme, 10_000, "the popup shows the page's README");
    await until(async () => (await previewView()).shown === readme, 10_000, 'the preview renders the README');
    const ext = await extensionView();
    const prev = await previewView();
    assert.deepEqual([ext.readme, ext.notes], [readme, notes]);
    assert.deepEqual([prev.readme, prev.notes], [readme, notes]);
    assert.equal(await page.inputValue('#source-b'), readme, 'editor B too');
    // The Node hub's stream holds both, each by its author's replica.
    const editorA = (await page.evaluate('globalThis.demo.project.a.doc.replica')) as string;
    const changes = await changesInStream();
    assert.ok(
      changes.some((c) => c.replica === editorA && c.paths.includes('/README.md')),
      "the editor page's change to README.md",
    );
    assert.ok(
      changes.some((c) => c.replica === ext.replica && c.paths.includes('/notes.md')),
      "the extension's change to notes.md",
    );
  });

  it('two held editors: other lines merge; the same line is parked, and the panel settles it on every replica', async () => {
    // Its tab in front: Chromium throttles the animation frames of a tab behind, which clicks wait for.
    await page.bringToFront();
    const base = await page.inputValue('#source');
    const last = base.split('\n').length - 2; // the last line before the final newline
    // Hold both (their edits wait), edit a line each, let both go: a clean merge.
    await page.uncheck('#live-a');
    await page.uncheck('#live-b');
    const fromA = withLine(base, 0, '# Hello from editor A');
    const fromB = withLine(base, last, 'Editor B wrote the last line.');
    await page.fill('#source', fromA);
    await page.fill('#source-b', fromB);
    await page.check('#live-a');
    await page.check('#live-b');
    const merged = withLine(fromA, last, 'Editor B wrote the last line.');
    await until(
      async () => {
        const e = await editors();
        return e.a === merged && e.b === merged;
      },
      10_000,
      'both editors show the merge',
    );
    assert.equal((await editors()).conflicts, 0);

    // The same line, both held, typed key by key (held, an editor's keystrokes join one change): A's lands first, B's is parked for a person.
    await page.uncheck('#live-a');
    await page.uncheck('#live-b');
    const firstLine = merged.split('\n')[0]!;
    const titleA = withLine(merged, 0, `${firstLine} (A)`);
    const titleB = withLine(merged, 0, `${firstLine} (B)`);
    await typeAtEndOfFirstLine('#source', ' (A)');
    await typeAtEndOfFirstLine('#source-b', ' (B)');
    assert.deepEqual([(await editors()).a, (await editors()).b], [titleA, titleB], 'each editor has its own, held');
    await page.check('#live-a');
    await page.waitForFunction(`document.getElementById('state-a').textContent.startsWith('in step')`, undefined, { timeout: 10_000 });
    await page.check('#live-b');
    // Parked: every replica keeps what the log has; B's four keystrokes are one conflict, one choice.
    await page.waitForFunction(`globalThis.demo.project.a.doc.conflicts.length === 1`, undefined, { timeout: 10_000 });
    const parkedFrom = (await page.evaluate(
      `[...new Set(globalThis.demo.project.a.doc.conflicts.map((c) => c.replica + ' ' + c.path))]`,
    )) as string[];
    const editorB = (await page.evaluate('globalThis.demo.project.b.doc.replica')) as string;
    assert.deepEqual(parkedFrom, [`${editorB} /README.md`]);
    await until(
      async () => {
        const e = await editors();
        return e.a === titleA && e.b === titleA;
      },
      10_000,
      'both editors show what the log kept',
    );
    await until(async () => (await extensionView()).conflicts === 1, 5_000, 'the extension has them parked');
    assert.equal(await page.locator('#conflicts li').count(), 1);
    const item = (await page.textContent('#conflicts li')) ?? '';
    assert.match(item, /editor B's edit was parked/);
    assert.ok(item.includes(`${firstLine} (A)`) && item.includes(`${firstLine} (B)`), item);
    const parked = titleB;
    // Take the parked change: settled on every replica.
    await page.click('#conflicts li .take-remote');
    await page.waitForFunction(`document.querySelectorAll('#conflicts li').length === 0`, undefined, { timeout: 10_000 });
    await until(
      async () => {
        const e = await editors();
        return e.a === parked && e.b === parked && e.conflicts === 0;
      },
      10_000,
      'both editors took the parked change',
    );
    await until(
      async () => {
        const ext = await extensionView();
        const prev = await previewView();
        return ext.readme === parked && ext.conflicts === 0 && prev.shown === parked && prev.conflicts === 0;
      },
      10_000,
      'the extension and the preview settled it too',
    );
    await until(async () => (await popup.textContent('#readme')) === parked, 10_000, 'the popup shows it');
  });

  it('the preview may read the project and not write it: the hub refuses its edit, and no replica sees it', async () => {
    const frame = await preview();
    const refused = (await frame.evaluate(`(async () => {
      const d = globalThis.demo.project;
      await d.writeFile('/README.md', 'written by the preview');
      try { await d.flushed(); return 'stored'; } catch (e) { return e.code; }
    })()`)) as string;
    assert.equal(refused, 'CB_ERR_FORBIDDEN');
    const { replica, readme } = await previewView();
    assert.notEqual(readme, 'written by the preview', 'the refused edit left its value');
    assert.ok(!(await changesInStream()).some((c) => c.replica === replica), 'nothing of the preview in the stream');
    assert.notEqual((await editors()).a, 'written by the preview');
  });

  it("Chrome stops the extension's service worker: its replica comes back from IndexedDB and the popup's next edit lands", async () => {
    const before = await extensionView();
    const startedAt = (await worker().evaluate('globalThis.crossbusExtension.startedAt')) as number;
    const cdp = await context.newCDPSession(popup);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    // The popup reconnects by itself, which starts a fresh worker; an edit lands once it serves the project again.
    let notes = '';
    await until(
      async () => {
        notes = `After the restart, edit ${Date.now()}.\n`;
        await popup.fill('#notes', notes);
        return (await page.textContent('#notes')) === notes;
      },
      20_000,
      "the popup's edit through a fresh worker",
    );
    assert.ok(((await worker().evaluate('globalThis.crossbusExtension.startedAt')) as number) > startedAt, 'a fresh worker');
    const after = await extensionView();
    assert.equal(after.replica, before.replica, 'the same replica, from IndexedDB');
    assert.equal(after.notes, notes);
    await cdp.detach();
  });

  it('no page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
