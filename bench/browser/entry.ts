/** Everything the browser benchmark's pages use, in one bundle: crossbus (page client and page hub), Penpal, Comlink. */
export * from '../../src/browser/page.js';
export { Broker, HubSecurity, parseHubConfig, createWebCryptoProvider } from '../../src/core/index.js';
export { listenWindow } from '../../src/transports/postmessage/index.js';
export { memoryConnector } from '../../src/transports/memory/memory-transport.js';
export { connect as penpalConnect, WindowMessenger } from 'penpal';
export * as Comlink from 'comlink';
