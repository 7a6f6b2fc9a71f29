/**
 * The globals every runtime crossbus runs in has (Node 20+, browsers, workers, extension service
 * workers), declared here and nowhere else: the core and the client are compiled against ES2022
 * and this file only (src/core/tsconfig.json, src/client/tsconfig.json), so that using anything
 * else (a Node module, `Buffer`, `process`, `window`, `document`) fails to compile. Only what the
 * code uses is declared, in the shape all those runtimes share.
 */

// --- timers --------------------------------------------------------------------------------
/** A timer: a number in browsers, an object in Node (see `unrefTimer` in src/core/util/timers.ts). */
type TimerHandle = number | { unref?(): unknown };
declare function setTimeout(callback: (...args: never[]) => void, ms?: number): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined): void;
declare function setInterval(callback: (...args: never[]) => void, ms?: number): TimerHandle;
declare function clearInterval(handle: TimerHandle | undefined): void;

// --- text, base64, cloning ---------------------------------------------------------------------
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare function atob(data: string): string;
declare function btoa(data: string): string;
declare function structuredClone<T>(value: T): T;

// --- clocks ----------------------------------------------------------------------------------
declare const performance: { now(): number };

// --- cancellation ------------------------------------------------------------------------------
interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
declare class AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}

// --- message channels (the scheduler, ports) -----------------------------------------------------
type Transferable = ArrayBuffer | MessagePort;
interface MessagePort {
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  start(): void;
  close(): void;
}
declare class MessageChannel {
  readonly port1: MessagePort;
  readonly port2: MessagePort;
}

// --- WebCrypto (the types are in webcrypto-types.d.ts, which Node's layers include too) -----------
declare var crypto: Crypto;

// --- URLs (origins: parsed as browsers parse them) ------------------------------------------------
declare class URL {
  constructor(url: string, base?: string);
  readonly protocol: string;
  readonly host: string;
}
