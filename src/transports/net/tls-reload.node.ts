/**
 * A TLS listener's certificate, key and CAs, reloaded without a restart: when their files change
 * (each file's folder is watched, so that a file replaced by a rename is seen too; debounced,
 * because a rotation writes several files) or when asked (the hub's SIGHUP). A reload that fails
 * keeps the context in force: new connections get a new certificate only once it has loaded
 * whole, and open connections keep the one they shook hands with either way.
 */
import { X509Certificate } from 'node:crypto';
import { type FSWatcher, lstatSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { type SecureContextOptions, type Server as TlsServer, createSecureContext } from 'node:tls';
import { type CrossbusError, SecurityError } from '../../core/errors/index.js';
import { certificateFingerprint } from './fingerprint.node.js';
import type { PemSource } from './socket-connector.node.js';

/** The PEM bytes a TLS listener serves with. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer[] | undefined;
}

/** Where each part of the material comes from: inline PEM, or a file that may change. */
export interface TlsSources {
  cert: PemSource;
  key: PemSource;
  ca: readonly PemSource[] | undefined;
}

/** What a reload did: loaded new material, found it the same as what is served, or kept the old after a failure. */
export type TlsReloadOutcome = 'reloaded' | 'unchanged' | 'failed';

/** Told after every reload that changed something or failed. */
export interface TlsReloadEvent {
  /** The listener's URL (tls://host:port). */
  listener: string;
  outcome: 'reloaded' | 'failed';
  /** The certificate new connections get now (`sha256/<hex>` of its DER): the new one, or after a failure the one kept. */
  fingerprint: string;
  /** Its serial number, hex, as OpenSSL prints it. */
  serialNumber: string;
  /** Why the reload failed (CB_ERR_TLS; `cause` is Node's error, `details.file` the file it could not read). */
  error?: CrossbusError;
}

export interface TlsReloaderOptions {
  /** The listener's URL, for events and errors. */
  url: string;
  /** Watch the files (their folders) and reload when they change. */
  watchFiles: boolean;
  /** Quiet time after the last change before the files are read. */
  debounceMs: number;
  /** Must not throw. */
  onReload(event: TlsReloadEvent): void;
}

/** The options `tls.createSecureContext` and `Server#setSecureContext` take for the material. */
export function secureContextOptions(material: TlsMaterial): SecureContextOptions {
  return { cert: material.cert, key: material.key, ...(material.ca !== undefined ? { ca: material.ca } : {}) };
}

export class TlsReloader {
  readonly #server: TlsServer;
  readonly #sources: TlsSources;
  readonly #options: TlsReloaderOptions;
  readonly #watchers: FSWatcher[] = [];
  #inForce: TlsMaterial;
  #served: { fingerprint: string; serialNumber: string };
  #debounce: ReturnType<typeof setTimeout> | undefined;
  /** Reloads run one after the other, each reading the files afresh. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(server: TlsServer, sources: TlsSources, initial: TlsMaterial, options: TlsReloaderOptions) {
    this.#server = server;
    this.#sources = sources;
    this.#options = options;
    this.#inForce = initial;
    this.#served = describeCertificate(initial.cert);
    if (options.watchFiles) this.#watch();
  }

  /** Reads the sources again and serves them if they changed and load; never rejects (unless `onReload` throws). */
  reload(): Promise<TlsReloadOutcome> {
    const once = (): Promise<TlsReloadOutcome> => this.#reloadOnce();
    const run = this.#queue.then(once, once);
    this.#queue = run;
    return run;
  }

  /** Stops watching; a reload already running finishes. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = undefined;
    for (const watcher of this.#watchers.splice(0)) watcher.close();
  }

  async #reloadOnce(): Promise<TlsReloadOutcome> {
    if (this.#closed) return 'unchanged';
    let material: TlsMaterial;
    try {
      material = await readMaterial(this.#sources);
    } catch (error) {
      if (this.#closed) return 'unchanged';
      if (!(error instanceof UnreadableSource)) return this.#failed(tlsError(this.#options.url, messageOf(error), error));
      const code = (error.cause as NodeJS.ErrnoException | undefined)?.code ?? messageOf(error.cause);
      return this.#failed(
        tlsError(this.#options.url, `cannot read the ${error.what} file ${error.file}: ${code}`, error.cause, { file: error.file }),
      );
    }
    if (this.#closed || sameMaterial(material, this.#inForce)) return 'unchanged';
    let served: { fingerprint: string; serialNumber: string };
    try {
      const options = secureContextOptions(material);
      // Built once aside first: it throws for a key that does not match the certificate, and
      // setSecureContext would already have replaced some of the server's fields by then.
      createSecureContext(options);
      served = describeCertificate(material.cert);
      this.#server.setSecureContext(options);
    } catch (cause) {
      return this.#failed(tlsError(this.#options.url, `the certificate and key do not load: ${messageOf(cause)}`, cause));
    }
    this.#inForce = material;
    this.#served = served;
    this.#options.onReload({ listener: this.#options.url, outcome: 'reloaded', ...served });
    return 'reloaded';
  }

  #failed(error: CrossbusError): TlsReloadOutcome {
    this.#options.onReload({ listener: this.#options.url, outcome: 'failed', ...this.#served, error });
    return 'failed';
  }

  /**
   * Watches the folder of every file source. A change to one of the files counts; when a file is
   * a symbolic link, any change in its folder does (an orchestrator may swap a linked folder
   * rather than the file: Kubernetes secrets do).
   */
  #watch(): void {
    const folders = new Map<string, { names: Set<string>; anyName: boolean }>();
    const sources = [this.#sources.cert, this.#sources.key, ...(this.#sources.ca ?? [])];
    for (const source of sources) {
      if (typeof source !== 'object' || !('file' in source)) continue;
      const folder = dirname(source.file);
      const entry = folders.get(folder) ?? { names: new Set<string>(), anyName: false };
      folders.set(folder, entry);
      entry.names.add(basename(source.file));
      try {
        if (lstatSync(source.file).isSymbolicLink()) entry.anyName = true;
      } catch {
        /* read a moment ago; gone now: the next reload says so */
      }
    }
    for (const [folder, { names, anyName }] of folders) {
      try {
        const watcher = watch(folder, { persistent: false }, (_event, name) => {
          if (anyName || name === null || names.has(String(name))) this.#schedule();
        });
        watcher.on('error', (cause) => {
          watcher.close();
          this.#failed(
            tlsError(this.#options.url, `stopped watching ${folder} (a reload on SIGHUP still works): ${messageOf(cause)}`, cause),
          );
        });
        this.#watchers.push(watcher);
      } catch (cause) {
        this.#failed(tlsError(this.#options.url, `cannot watch ${folder} (a reload on SIGHUP still works): ${messageOf(cause)}`, cause));
      }
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.reload();
    }, this.#options.debounceMs);
    this.#debounce.unref();
  }
}

/** A source file that could not be read: which, and Node's error. */
class UnreadableSource {
  constructor(
    readonly what: string,
    readonly file: string,
    readonly cause: unknown,
  ) {}
}

/** Reads every source; an unreadable file rejects with an UnreadableSource. */
async function readMaterial(sources: TlsSources): Promise<TlsMaterial> {
  const [cert, key, ...ca] = await Promise.all([
    readSource(sources.cert, 'certificate'),
    readSource(sources.key, 'key'),
    ...(sources.ca ?? []).map((c) => readSource(c, 'CA')),
  ]);
  return { cert: cert as Buffer, key: key as Buffer, ca: sources.ca === undefined ? undefined : ca };
}

async function readSource(source: PemSource, what: string): Promise<Buffer> {
  if (typeof source === 'string') return Buffer.from(source);
  if (source instanceof Uint8Array) return Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  try {
    return await readFile(source.file);
  } catch (cause) {
    throw new UnreadableSource(what, source.file, cause);
  }
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  if (!a.cert.equals(b.cert) || !a.key.equals(b.key)) return false;
  if (a.ca === undefined || b.ca === undefined) return a.ca === b.ca;
  return a.ca.length === b.ca.length && a.ca.every((c, i) => c.equals(b.ca?.[i] as Buffer));
}

/** The leaf certificate (the first of a chain) as clients will see it. */
function describeCertificate(pem: Buffer): { fingerprint: string; serialNumber: string } {
  const cert = new X509Certificate(pem);
  return { fingerprint: certificateFingerprint(cert), serialNumber: cert.serialNumber };
}

/** CB_ERR_TLS for a reload that did not happen; `details.tlsCode` is Node's code when it gave one. */
function tlsError(url: string, why: string, cause: unknown, details: Record<string, unknown> = {}): CrossbusError {
  const tlsCode = (cause as { code?: unknown } | undefined)?.code;
  return new SecurityError('CB_ERR_TLS', `the TLS certificates of ${url} were not reloaded (the previous ones stay in use): ${why}`, {
    cause,
    details: { listener: url, ...details, ...(typeof tlsCode === 'string' ? { tlsCode } : {}) },
  });
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
