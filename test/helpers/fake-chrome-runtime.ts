/**
 * An in-process stand-in for `chrome.runtime` ports with Chrome's semantics: messages are
 * JSON-serialized and delivered asynchronously, `disconnect()` fires `onDisconnect` on the
 * other end only, and a port carries the `sender` Chrome would give it. The real thing is
 * exercised in Chromium by test/browser/extension.browser.test.ts; this lets the shared
 * contract suites run against the extension transport quickly.
 */
import type { ChromeEvent, ChromeRuntime, MessageSender, RuntimePort } from '../../src/transports/extension/chrome-types.js';

class Event<T extends unknown[]> implements ChromeEvent<T> {
  private listeners = new Set<(...args: T) => void>();
  addListener(l: (...args: T) => void): void {
    this.listeners.add(l);
  }
  removeListener(l: (...args: T) => void): void {
    this.listeners.delete(l);
  }
  emit(...args: T): void {
    for (const l of [...this.listeners]) l(...args);
  }
  get size(): number {
    return this.listeners.size;
  }
}

class FakePort implements RuntimePort {
  readonly onMessage = new Event<[unknown, RuntimePort]>();
  readonly onDisconnect = new Event<[RuntimePort]>();
  other: FakePort | undefined;
  connected = true;
  constructor(
    readonly name: string,
    readonly sender?: MessageSender,
  ) {}
  postMessage(message: unknown): void {
    if (!this.connected) throw new Error('Attempting to use a disconnected port object');
    const json = JSON.stringify(message);
    const other = this.other!;
    setImmediate(() => {
      if (other.connected) other.onMessage.emit(JSON.parse(json), other);
    });
  }
  disconnect(): void {
    if (!this.connected) return;
    this.connected = false;
    const other = this.other!;
    setImmediate(() => {
      if (!other.connected) return;
      other.connected = false;
      other.onDisconnect.emit(other);
    });
  }
}

export interface FakeRuntimeHub {
  /** The runtime of the extension's service worker (where listenExtension runs). */
  readonly extension: ChromeRuntime;
  /** A runtime as seen from a content script of the extension (sender.id = extension id). */
  contentScript(tabId: number, frameId: number): ChromeRuntime;
  /** A runtime as seen from a web page at `origin` (connects externally). */
  page(origin: string): ChromeRuntime;
  /** Chrome stopping the service worker: every port disconnects. */
  stopWorker(): void;
}

export function fakeChromeRuntime(id = 'abcdefghijklmnopabcdefghijklmnop'): FakeRuntimeHub {
  const onConnect = new Event<[RuntimePort]>();
  const onConnectExternal = new Event<[RuntimePort]>();
  const workerEnds = new Set<FakePort>();
  function open(name: string, sender: MessageSender, external: boolean): RuntimePort {
    const mine = new FakePort(name);
    const theirs = new FakePort(name, sender);
    mine.other = theirs;
    theirs.other = mine;
    workerEnds.add(theirs);
    setImmediate(() => (external ? onConnectExternal : onConnect).emit(theirs));
    return mine;
  }
  const runtimeFor = (sender: MessageSender, external: boolean): ChromeRuntime =>
    ({
      id: external ? '' : id,
      connect(a?: string | { name?: string }, b?: { name?: string }): RuntimePort {
        const info = typeof a === 'string' ? b : a;
        if (typeof a === 'string' && a !== id) throw new Error(`no extension ${a}`);
        return open(info?.name ?? '', sender, external);
      },
      onConnect: new Event(),
      onConnectExternal: new Event(),
    }) as ChromeRuntime;
  return {
    extension: {
      id,
      connect: () => {
        throw new Error('not used');
      },
      onConnect,
      onConnectExternal,
    } as ChromeRuntime,
    contentScript: (tabId, frameId) => runtimeFor({ id, tab: { id: tabId }, frameId, origin: 'https://site.example' }, false),
    page: (origin) => runtimeFor({ origin, url: `${origin}/`, tab: { id: 1 }, frameId: 0 }, true),
    stopWorker() {
      for (const p of workerEnds) p.disconnect();
      workerEnds.clear();
    },
  };
}
