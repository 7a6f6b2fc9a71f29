/**
 * The `staticApps` section of the hub config: static web apps the hub serves, each from its folder
 * on a port of its own (see src/node/static-apps/). Read at start (a reload does not rebind).
 * Folders are relative to the config file. The schema checks the shape; the hub checks the rest
 * when it starts them (origins in `frameAncestors`, CSP values, ports distinct), with the same
 * CB_ERR_INVALID_OPTION as for apps given in code.
 */
import * as v from 'valibot';
import { distinct, integer, list, settings, text } from './rules.js';

const directiveName = v.pipe(
  v.string(),
  v.regex(/^[a-z-]{1,64}$/, (issue) => `must be a CSP directive name (a-z and "-"), got ${JSON.stringify(issue.input)}`),
);

export const StaticAppSchema = v.pipe(
  settings({
    /** 1 to 64 letters, digits, ".", "_", "-"; unique. */
    name: text(),
    /** The folder served, relative to the config file. */
    root: text(),
    /** Its own port; 0 picks a free one. */
    port: v.optional(integer(0, 65535)),
    /** The interface to bind; the hub's when left out. */
    host: v.optional(text()),
    /** More names the app is reached by (the Host check). */
    hostNames: v.optional(v.pipe(list(text()), v.readonly())),
    /** Origins of the pages allowed to frame it; "'none'" when left out. */
    frameAncestors: v.optional(v.pipe(list(text()), v.readonly())),
    /** CSP directives to add or replace, by name. */
    csp: v.optional(v.pipe(v.record(directiveName, text()), v.readonly())),
    cacheControl: v.optional(text()),
    maxFileBytes: v.optional(integer(1, Number.MAX_SAFE_INTEGER)),
    maxConcurrentRequests: v.optional(integer(1, 1_000_000)),
    requestTimeoutMs: v.optional(integer(1, 3_600_000)),
  }),
  v.readonly(),
);

export const StaticAppListSchema = v.pipe(
  list(StaticAppSchema),
  distinct(
    (a) => a.name,
    (name) => `app ${JSON.stringify(name)} is listed twice`,
    'name',
  ),
  v.readonly(),
);

export type StaticAppConfig = v.InferOutput<typeof StaticAppSchema>;
