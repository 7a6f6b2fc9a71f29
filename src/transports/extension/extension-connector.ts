/**
 * Connecting to an extension's hub: from its own content scripts and pages
 * (`chrome.runtime.connect`), or from a web page listed in its `externally_connectable`
 * (`chrome.runtime.connect(extensionId)`). Connecting wakes a stopped service worker, so the
 * Bus reconnects by simply calling the connector again.
 */
import { createError } from '../../core/errors/index.js';
import type { TransportConnector } from '../../core/transport/transport.js';
import { chromeRuntime, type ChromeRuntime } from './chrome-types.js';
import { createRuntimePortTransport } from './runtime-port-transport.js';

export interface ExtensionConnectorOptions {
  /** The extension to reach from a web page; omitted inside the extension itself. @default none */
  extensionId?: string;
  /** The port's name (shows up in the hub's peer label). @default 'crossbus' */
  name?: string;
  /** @default chrome.runtime */
  runtime?: ChromeRuntime;
}

export function extensionConnector(options: ExtensionConnectorOptions = {}): TransportConnector {
  return async () => {
    const runtime = options.runtime ?? chromeRuntime();
    if (runtime === undefined || typeof runtime.connect !== 'function') {
      throw createError(
        'CB_ERR_CONNECTION_FAILED',
        options.extensionId === undefined
          ? 'no chrome.runtime here: extensionConnector runs in an extension'
          : `no chrome.runtime here: is the extension installed and this page listed in its externally_connectable?`,
      );
    }
    const name = options.name ?? 'crossbus';
    const port = options.extensionId === undefined ? runtime.connect({ name }) : runtime.connect(options.extensionId, { name });
    const hub = `chrome-extension://${options.extensionId === undefined ? runtime.id : options.extensionId}`;
    return createRuntimePortTransport(port, { peer: hub, origin: hub, vouchedOrigin: hub });
  };
}
