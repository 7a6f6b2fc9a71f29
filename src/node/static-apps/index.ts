/**
 * Static web apps on origins of their own (issue 21): each app's folder served on its own port
 * with a strict Content-Security-Policy and security headers, embeddable in sandboxed iframes by
 * the pages its `frameAncestors` names. The hub starts them (`startHub({ staticApps })`).
 */
import { dirname, resolve } from 'node:path';
import type { StaticAppConfig } from '../../core/config/static-app-schema.js';
import { listenStaticApp, type StaticAppServer } from './static-app-server.js';
import { resolveStaticApps, type StaticAppOptions } from './options.js';

export { listenStaticApp, type StaticAppServer } from './static-app-server.js';
export { contentSecurityPolicy, staticAppHeaders } from './headers.js';
export { contentTypeOf, UNKNOWN_CONTENT_TYPE } from './content-types.js';
export { requestPath, INDEX_FILE, type RequestPath } from './request-path.js';
export {
  DEFAULT_STATIC_CACHE_CONTROL,
  DEFAULT_STATIC_FRAME_ANCESTORS,
  DEFAULT_STATIC_MAX_CONCURRENT_REQUESTS,
  DEFAULT_STATIC_MAX_FILE_BYTES,
  DEFAULT_STATIC_REQUEST_TIMEOUT_MS,
  resolveStaticApp,
  resolveStaticApps,
  type ResolvedStaticApp,
  type StaticAppOptions,
} from './options.js';

export interface StaticAppsContext {
  /** The hub's host: each app's default `host`. */
  host: string;
  /** The hub's port, which no app may take. */
  port: number;
  /** The hub's WebSocket origins, which the apps' pages may connect to (`connect-src`). */
  wsOrigins: readonly string[];
}

/** Checks every app's options first, then starts each; if one cannot start, those started are closed. */
export async function startStaticApps(list: readonly StaticAppOptions[], ctx: StaticAppsContext): Promise<StaticAppServer[]> {
  const apps = resolveStaticApps(list, ctx.host, ctx.port);
  const servers: StaticAppServer[] = [];
  try {
    for (const app of apps) servers.push(await listenStaticApp(app, ctx.wsOrigins));
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  return servers;
}

/** The config file's `staticApps` as options: folders relative to the config file (or the working directory for a config given in code). */
export function staticAppsFromConfig(apps: readonly StaticAppConfig[], configPath: string | undefined): StaticAppOptions[] {
  const base = configPath !== undefined ? dirname(configPath) : process.cwd();
  return apps.map((a) => {
    const given = Object.fromEntries(Object.entries(a).filter(([, value]) => value !== undefined)) as unknown as StaticAppOptions;
    return { ...given, root: resolve(base, a.root) };
  });
}
