export { createRuntimePortTransport, type RuntimePortInfo } from './runtime-port-transport.js';
export { listenExtension, type ListenExtensionOptions } from './listen-extension.js';
export { extensionConnector, type ExtensionConnectorOptions } from './extension-connector.js';
export type { ChromeRuntime, RuntimePort, MessageSender } from './chrome-types.js';
