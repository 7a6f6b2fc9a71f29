/**
 * A raw WebSocket client (the `ws` package) for poking a hub with arbitrary bytes: it sends
 * whatever it is given, decodes every binary message it receives into crossbus frames (keeping
 * the raw bytes too), and records the close event. Every client is tracked and terminated when
 * the test file ends.
 */
import { after } from 'node:test';
import WebSocket from 'ws';
import { decodeFrameAt, encodeFrame, readFrameBoundaries } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope, type Envelope } from '../../src/core/protocol/envelope.js';
import type { FrameLimits } from '../../src/core/limits.js';
import { credentialsFor } from './hub-process.js';
import { ClientHandshake } from '../../src/core/security/client-handshake.js';
import { HEADER_BINDER, HEADER_PROOF, type WelcomeAuth } from '../../src/core/security/handshake-messages.js';
import type { RecordOpener, RecordSealer, ProtectionMode } from '../../src/core/security/record.js';
import { fromBase64 } from '../../src/core/security/bytes.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';
import { OFF_KIND } from '../../src/core/protocol/layout.js';
import { until } from './wait.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/core/defaults.js';

const nodeCrypto = createNodeCryptoProvider();

export interface SecureHandshakeOptions {
  /** The app's secret (base64). @default the test hub's `test` credentials for this URL, if any */
  secret?: string;
  mode?: ProtectionMode;
  /** Take the handshake only this far (for attacks on the handshake itself). */
  stopAfter?: 'welcome';
  /**
   * The client's clock (HELLO time, record timestamps, skew checks of received records).
   * @default Date.now
   */
  now?: () => number;
}

export interface CloseEvent {
  code: number;
  reason: string;
}

export interface ErrorPayload {
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

const open = new Set<RawClient>();
after(() => {
  for (const c of open) c.terminate();
});

/** Encodes the HELLO a client must send first. */
export function helloFrame(name = 'raw', versions: number[] = [1]): Uint8Array {
  return encodeFrame(
    envelope(Kind.HELLO, {
      payloadType: PayloadType.JSON,
      payload: new TextEncoder().encode(JSON.stringify({ versions, name })),
    }),
  );
}

export function decodeErrorPayload(env: Envelope): ErrorPayload {
  return JSON.parse(new TextDecoder().decode(env.payload)) as ErrorPayload;
}

export interface RawClientOptions {
  /** Keep every decoded MESSAGE envelope (memory!). Otherwise MESSAGE frames are only counted. @default true */
  keepMessages?: boolean;
  /** Limits to decode received frames with. @default DEFAULT_FRAME_LIMITS */
  limits?: FrameLimits;
}

export class RawClient {
  /** Every binary (or text) WebSocket message received, as raw bytes. Cleared by keepRaw=false. */
  readonly raw: Buffer[] = [];
  /** Decoded frames other than MESSAGE (ERROR, OK, WELCOME, PONG, GOODBYE, ...), in order. */
  readonly controls: Envelope[] = [];
  /** Decoded MESSAGE frames (only when keepMessages). */
  readonly messages: Envelope[] = [];
  /** Frames received per kind. */
  readonly counts = new Map<number, number>();
  /** Errors hit while decoding what the hub sent (should stay empty). */
  readonly decodeErrors: unknown[] = [];
  /** Set once the close event arrived. */
  closeEvent: CloseEvent | undefined;
  readonly closed: Promise<CloseEvent>;
  /** Socket errors (e.g. ECONNRESET), for diagnostics. */
  readonly socketErrors: Error[] = [];
  bytesReceived = 0;
  private readonly keepMessages: boolean;
  private readonly keepRaw: boolean;
  private readonly limits: FrameLimits;
  /** After an authenticated handshake: seals what send() sends (sendRaw bypasses it). */
  sealer: RecordSealer | undefined;
  /** After an authenticated handshake: opens received records. */
  opener: RecordOpener | undefined;
  /** Every sealed record this client sent, in order (for replay attacks). */
  readonly sentRecords: Uint8Array[] = [];
  /** What the hub said in WELCOME's auth (grants, inbox). */
  welcomeAuth: WelcomeAuth | undefined;
  /**
   * Added to the clock only while send() seals a record, so records carry a shifted timestamp
   * while the HELLO and the checks of received records keep the real time (clock-skew attacks).
   */
  sealClockOffsetMs = 0;
  private sealing = false;

  private constructor(
    readonly ws: WebSocket,
    options: RawClientOptions & { keepRaw?: boolean },
  ) {
    this.keepMessages = options.keepMessages ?? true;
    this.keepRaw = options.keepRaw ?? !(options.keepMessages === false);
    this.limits = options.limits ?? DEFAULT_FRAME_LIMITS;
    open.add(this);
    this.closed = new Promise<CloseEvent>((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeEvent = { code, reason: reason.toString() };
        open.delete(this);
        resolve(this.closeEvent);
      });
    });
    ws.on('error', (err: Error) => this.socketErrors.push(err));
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.bytesReceived += buf.length;
      if (this.keepRaw) this.raw.push(buf);
      try {
        // Records are opened here, as SecureTransport does: the frame codec refuses security blocks.
        const onFrame = (b: Uint8Array, start: number, end: number): void => {
          if (b[start + OFF_KIND] === Kind.SEALED && this.opener !== undefined) {
            readFrameBoundaries(this.opener.open(b, start, end) as Uint8Array, this.limits, onFrame);
            return;
          }
          const env = decodeFrameAt(b, start, end, this.limits);
          this.counts.set(env.kind, (this.counts.get(env.kind) ?? 0) + 1);
          if (env.kind === Kind.MESSAGE) {
            if (this.keepMessages) this.messages.push(env);
          } else {
            this.controls.push(env);
          }
        };
        readFrameBoundaries(buf, this.limits, onFrame);
      } catch (err) {
        this.decodeErrors.push(err);
      }
    });
  }

  /** Opens a connection (no handshake). */
  static async connect(url: string, options: RawClientOptions & { maxPayload?: number } = {}): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: options.maxPayload ?? 256 * 1024 * 1024 });
    ws.binaryType = 'nodebuffer';
    const client = new RawClient(ws, options);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`closed during open (code ${code})`)));
    });
    return client;
  }

  /**
   * Opens a connection and completes the handshake: plain (HELLO -> WELCOME) for an insecure hub,
   * authenticated (HELLO -> WELCOME -> AUTH -> OK) when a secret is given or known for the URL.
   * After an authenticated handshake, send() seals everything it sends.
   */
  static async handshake(url: string, name = 'raw', options: RawClientOptions & SecureHandshakeOptions = {}): Promise<RawClient> {
    const c = await RawClient.connect(url, options);
    const known = credentialsFor(url);
    const secret = options.secret ?? known?.secret;
    if (secret === undefined) {
      await c.send(helloFrame(name));
      await c.waitForKind(Kind.WELCOME, 5_000);
      return c;
    }
    await c.authenticate(options.secret === undefined && known !== undefined ? known.name : name, secret, options);
    return c;
  }

  /** The client side of the authenticated handshake, by hand (see docs/PROTOCOL.md). */
  async authenticate(name: string, secret: string, options: SecureHandshakeOptions = {}): Promise<void> {
    const base = options.now ?? Date.now;
    const now = (): number => base() + (this.sealing ? this.sealClockOffsetMs : 0);
    const hs = await ClientHandshake.create({
      crypto: nodeCrypto,
      secret: fromBase64(secret)!,
      group: 'P-256',
      mode: options.mode ?? 'encrypt',
      now,
    });
    const hello = new TextEncoder().encode(JSON.stringify({ versions: [1], name, auth: hs.helloAuth() }));
    await this.send(
      encodeFrame(
        envelope(Kind.HELLO, { payloadType: PayloadType.JSON, payload: hello, headers: { [HEADER_BINDER]: await hs.binder(hello) } }),
      ),
    );
    const welcome = await this.waitForControl((e) => e.kind === Kind.WELCOME || e.kind === Kind.ERROR, 5_000, 'WELCOME');
    if (welcome.kind === Kind.ERROR) throw new Error(`handshake refused: ${JSON.stringify(decodeErrorPayload(welcome))}`);
    const payload = welcome.payload.slice();
    const auth = (JSON.parse(new TextDecoder().decode(payload)) as { auth: WelcomeAuth }).auth;
    this.welcomeAuth = auth;
    if (options.stopAfter === 'welcome') return;
    const session = await hs.finish(hello, payload, auth, welcome.headers?.[HEADER_PROOF]);
    await this.send(encodeFrame(envelope(Kind.AUTH, { id: 424242, headers: { [HEADER_PROOF]: session.proof } })));
    this.sealer = session.sealer;
    this.opener = session.opener;
    await this.waitForControl((e) => e.kind === Kind.OK && e.id === 424242, 5_000, 'OK for AUTH');
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  count(kind: number): number {
    return this.counts.get(kind) ?? 0;
  }

  /** Sends bytes as one WebSocket message (binary unless `text` is set), sealed after an authenticated handshake. Resolves once written. */
  send(data: Uint8Array | string, options: { text?: boolean } = {}): Promise<void> {
    if (this.sealer !== undefined && typeof data !== 'string') {
      let record: Uint8Array;
      this.sealing = true;
      try {
        record = this.sealer.seal(data) as Uint8Array;
      } finally {
        this.sealing = false;
      }
      this.sentRecords.push(record);
      return this.sendRaw(record);
    }
    return this.sendRaw(data, options);
  }

  /** Sends bytes exactly as given, never sealed (for forged, replayed and tampered records). */
  sendRaw(data: Uint8Array | string, options: { text?: boolean } = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const binary = !(options.text ?? typeof data === 'string');
      this.ws.send(data, { binary }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Encodes and sends one envelope. */
  sendEnvelope(env: Envelope): Promise<void> {
    return this.send(encodeFrame(env));
  }

  /** SUBSCRIBE and wait for the hub's OK (or reject with its ERROR). */
  async subscribe(sid: number, topic: string, id = 1_000_000 + sid, group = ''): Promise<void> {
    await this.sendEnvelope(envelope(Kind.SUBSCRIBE, { id, sid, topic, group }));
    const env = await this.waitForControl(
      (e) => (e.kind === Kind.OK || e.kind === Kind.ERROR) && e.id === id,
      5_000,
      `reply to SUBSCRIBE ${topic}`,
    );
    if (env.kind === Kind.ERROR) throw new Error(`SUBSCRIBE refused: ${JSON.stringify(decodeErrorPayload(env))}`);
  }

  private pings = 0;

  /**
   * A PING answered by the hub's PONG: the hub has processed everything sent before it, and
   * whatever it queued for this connection before the PONG (in order) has arrived.
   */
  async roundTrip(timeoutMs = 5_000): Promise<void> {
    const id = 3_000_000 + ++this.pings;
    await this.sendEnvelope(envelope(Kind.PING, { id }));
    await this.waitForControl((e) => e.kind === Kind.PONG && e.id === id, timeoutMs, `the PONG for PING ${id}`);
  }

  /** ERROR frames received so far, decoded. */
  errors(): ErrorPayload[] {
    return this.controls.filter((e) => e.kind === Kind.ERROR).map(decodeErrorPayload);
  }

  async waitForControl(pred: (e: Envelope) => boolean, timeoutMs: number, what: string): Promise<Envelope> {
    let found: Envelope | undefined;
    await until(() => (found = this.controls.find(pred)) !== undefined, timeoutMs, what);
    return found as Envelope;
  }

  waitForKind(kind: number, timeoutMs: number): Promise<Envelope> {
    return this.waitForControl((e) => e.kind === kind, timeoutMs, `a frame of kind ${kind}`);
  }

  /** Waits for an ERROR frame and returns its payload. */
  async waitForError(timeoutMs = 5_000, code?: string): Promise<ErrorPayload> {
    const env = await this.waitForControl(
      (e) => e.kind === Kind.ERROR && (code === undefined || decodeErrorPayload(e).code === code),
      timeoutMs,
      `an ERROR frame${code ? ` with ${code}` : ''} (have ${JSON.stringify(this.errors())})`,
    );
    return decodeErrorPayload(env);
  }

  /** Waits for the close event (rejects after timeoutMs). */
  async waitForClose(timeoutMs = 5_000): Promise<CloseEvent> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        this.closed,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`connection not closed within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops reading from the socket (the hub's writes back up). */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(code = 1000, reason = ''): void {
    try {
      this.ws.close(code, reason);
    } catch {
      /* ignore */
    }
  }

  terminate(): void {
    open.delete(this);
    try {
      this.ws.terminate();
    } catch {
      /* ignore */
    }
  }
}
