/**
 * The service worker's side: every port this extension's own pages and content scripts open
 * (`chrome.runtime.onConnect`) and every port a web page listed in `externally_connectable` opens
 * (`chrome.runtime.onConnectExternal`) becomes a connection. Identity comes from Chrome's
 * `port.sender`: this extension's own contexts are `chrome-extension://<id>`; a web page is its
 * `sender.origin`, checked exactly against the allow-list. Each port is its own channel, so the
 * content scripts of several frames and tabs each get their own identity and connection.
 */
import { createError } from '../../core/errors/index.js';
import { normalizeAllowedOrigins, originAllowed } from '../../core/security/origins.js';
import { CLOSE_AUTH_FAILED, type Transport } from '../../core/transport/transport.js';
import { chromeRuntime, type ChromeRuntime, type RuntimePort } from './chrome-types.js';
import { createRuntimePortTransport } from './runtime-port-transport.js';

export interface ListenExtensionOptions {
  onConnection(transport: Transport): void;
  /** Web page origins allowed through `externally_connectable`: normalized, then compared exactly. @default [] */
  allowedOrigins?: readonly string[];
  /** Called for every refused port (audit it). @default ignore */
  onRefused?(info: { origin: string; reason: string }): void;
  /** @default chrome.runtime */
  runtime?: ChromeRuntime;
}

function label(port: RuntimePort): string {
  const s = port.sender;
  const where = [
    s?.tab?.id !== undefined ? `tab ${s.tab.id}` : '',
    s?.frameId !== undefined ? `frame ${s.frameId}` : '',
    s?.documentId ? `doc ${s.documentId.slice(0, 8)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `${port.name || 'port'}${where ? ` (${where})` : ''}`;
}

export function listenExtension(options: ListenExtensionOptions): () => void {
  const runtime = options.runtime ?? chromeRuntime();
  if (runtime === undefined)
    throw createError('CB_ERR_INVALID_OPTION', 'listenExtension runs in an extension (no chrome.runtime here)', {
      details: { option: 'runtime' },
    });
  const self = `chrome-extension://${runtime.id}`;
  // Normalized as browsers report origins, so that `sender.origin` can be compared exactly.
  const allowed = normalizeAllowedOrigins(options.allowedOrigins ?? [], 'allowedOrigins');
  const internal = (port: RuntimePort): void => {
    if (port.sender?.id !== runtime.id) {
      port.disconnect();
      return;
    }
    options.onConnection(
      createRuntimePortTransport(port, { peer: `${self} ${label(port)}`, origin: port.sender?.origin ?? self, vouchedOrigin: self }),
    );
  };
  const external = (port: RuntimePort): void => {
    const origin = port.sender?.origin ?? '';
    if (!originAllowed(allowed, origin)) {
      options.onRefused?.({ origin, reason: 'not in allowedOrigins' });
      // The close notice names the code: the page's connect fails with it.
      createRuntimePortTransport(port, {}).close(CLOSE_AUTH_FAILED, 'CB_ERR_ORIGIN_REFUSED');
      return;
    }
    options.onConnection(createRuntimePortTransport(port, { peer: `${origin} ${label(port)}`, origin, vouchedOrigin: origin }));
  };
  runtime.onConnect.addListener(internal);
  runtime.onConnectExternal.addListener(external);
  return () => {
    runtime.onConnect.removeListener(internal);
    runtime.onConnectExternal.removeListener(external);
  };
}
