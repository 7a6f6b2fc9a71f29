/** The little of the chrome.runtime API the extension transport uses (no @types/chrome needed). */
export interface ChromeEvent<T extends unknown[]> {
  addListener(listener: (...args: T) => void): void;
  removeListener(listener: (...args: T) => void): void;
}

export interface MessageSender {
  id?: string;
  origin?: string;
  url?: string;
  tab?: { id?: number };
  frameId?: number;
  documentId?: string;
}

export interface RuntimePort {
  readonly name: string;
  readonly sender?: MessageSender;
  postMessage(message: unknown): void;
  disconnect(): void;
  readonly onMessage: ChromeEvent<[unknown, RuntimePort]>;
  readonly onDisconnect: ChromeEvent<[RuntimePort]>;
}

export interface ChromeRuntime {
  readonly id: string;
  readonly lastError?: { message?: string } | undefined;
  connect(extensionId: string, info?: { name?: string }): RuntimePort;
  connect(info?: { name?: string }): RuntimePort;
  readonly onConnect: ChromeEvent<[RuntimePort]>;
  readonly onConnectExternal: ChromeEvent<[RuntimePort]>;
}

/** `chrome.runtime` of the current context, if there is one. */
export function chromeRuntime(): ChromeRuntime | undefined {
  return (globalThis as { chrome?: { runtime?: ChromeRuntime } }).chrome?.runtime;
}
