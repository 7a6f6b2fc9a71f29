/**
 * The `cluster` section of the hub config: the NATS cluster the hub joins (several hubs as one bus;
 * src/node/cluster/). Read at start. Credential and certificate files are relative to the config
 * file; no secret is written in the config itself, and URLs carry none (the hub refuses them).
 */
import * as v from 'valibot';
import { integer, list, settings, text } from './rules.js';

export const ClusterTlsSchema = v.pipe(
  settings({
    caFile: v.optional(text()),
    certFile: v.optional(text()),
    keyFile: v.optional(text()),
  }),
  v.readonly(),
);

export const ClusterSchema = v.pipe(
  settings({
    /** NATS URLs (nats:// or tls://), at least one. */
    servers: v.pipe(list(text()), v.minLength(1, 'lists no server'), v.readonly()),
    name: v.optional(text()),
    user: v.optional(text()),
    passwordFile: v.optional(text()),
    tokenFile: v.optional(text()),
    credsFile: v.optional(text()),
    nkeySeedFile: v.optional(text()),
    tls: v.optional(ClusterTlsSchema),
    connectTimeoutMs: v.optional(integer(100, 600_000)),
    whenUnreachable: v.optional(v.picklist(['fail', 'local-only'], "must be 'fail' or 'local-only'")),
    reconnectWaitMs: v.optional(integer(10, 60_000)),
    /** Replicas of each durable stream in JetStream. */
    replicas: v.optional(integer(1, 5)),
    streamPrefix: v.optional(v.pipe(text(), v.regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1 to 32 letters, digits, "_" or "-"'))),
  }),
  v.readonly(),
);

export type ClusterConfig = v.InferOutput<typeof ClusterSchema>;
