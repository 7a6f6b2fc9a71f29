/**
 * The `listeners` section of the hub config: TCP, Unix-socket and TLS listeners besides the
 * WebSocket one, each with its own limits. Read when the hub starts (a reload does not rebind).
 * Paths to certificate files are relative to the config file.
 */
import * as v from 'valibot';
import { integer, kind, settings, text } from './rules.js';

const host = text();
const port = integer(0, 65535);
const limits = {
  maxConnections: v.optional(integer(1, 10_000_000)),
  keepAliveMs: v.optional(integer(0, 3_600_000)),
  tlsHandshakeTimeoutMs: v.optional(integer(100, 600_000)),
  /** The protocol handshake (HELLO through AUTH) on this listener; the hub's own when left out. */
  handshakeTimeoutMs: v.optional(integer(100, 3_600_000)),
};
const trueOrFalse = (issue: { input: unknown }) => `must be true or false, got ${kind(issue.input)}`;
const kindOf = <const K extends string>(name: K) => v.literal(name, (issue) => `must be "${name}", got ${kind(issue.input)}`);

const TcpListenerSchema = v.pipe(settings({ kind: kindOf('tcp'), host, port, ...limits }), v.readonly());
const UnixListenerSchema = v.pipe(settings({ kind: kindOf('unix'), path: text(), ...limits }), v.readonly());
const TlsListenerSchema = v.pipe(
  settings({
    kind: kindOf('tls'),
    host,
    port,
    /** The hub's certificate chain, PEM. */
    certFile: text(),
    /** Its private key, PEM. */
    keyFile: text(),
    /** CAs that verify client certificates (mutual TLS). */
    caFile: v.optional(text()),
    /** Ask clients for a certificate (mapped to apps by `apps.<name>.certificates`). */
    requestClientCertificates: v.optional(v.boolean(trueOrFalse), false),
    /** Reload the certificate, key and CA files when they change (SIGHUP reloads them too). */
    watchFiles: v.optional(v.boolean(trueOrFalse), true),
    /** Quiet time after the last change to those files before they are read. */
    reloadDebounceMs: v.optional(integer(0, 600_000)),
    ...limits,
  }),
  v.readonly(),
);

const BY_KIND: Readonly<Record<string, v.GenericSchema>> = { tcp: TcpListenerSchema, unix: UnixListenerSchema, tls: TlsListenerSchema };

/** One listener: `kind` picks which settings apply. */
export const ListenerSchema = Object.assign(
  v.lazy((input) => {
    const k = typeof input === 'object' && input !== null ? (input as { kind?: unknown }).kind : undefined;
    return (typeof k === 'string' ? BY_KIND[k] : undefined) ?? UnknownListener;
  }),
  // For the JSON Schema generator, which cannot see which schema the lazy one picks.
  { anyOfSchemas: [TcpListenerSchema, UnixListenerSchema, TlsListenerSchema] },
) as unknown as v.GenericSchema<
  v.InferInput<typeof TcpListenerSchema> | v.InferInput<typeof UnixListenerSchema> | v.InferInput<typeof TlsListenerSchema>,
  v.InferOutput<typeof TcpListenerSchema> | v.InferOutput<typeof UnixListenerSchema> | v.InferOutput<typeof TlsListenerSchema>
>;

const UnknownListener = v.custom<never>(
  () => false,
  (issue) => {
    const k = typeof issue.input === 'object' && issue.input !== null ? (issue.input as { kind?: unknown }).kind : undefined;
    return `must be a listener with kind "tcp", "unix" or "tls", got ${typeof k === 'string' ? `kind ${JSON.stringify(k)}` : kind(issue.input)}`;
  },
);

export type ListenerConfig = v.InferOutput<typeof ListenerSchema>;
