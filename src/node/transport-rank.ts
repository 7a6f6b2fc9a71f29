/**
 * Which transport a client tries first when it knows several addresses of one hub: the fastest
 * that can reach it. Lower ranks first. The in-process and shared-memory kinds have their places
 * here for the connectors that provide them (they are not URLs this module opens).
 */
export const TRANSPORT_RANK: Readonly<Record<string, number>> = Object.freeze({
  /** Same process: an in-memory pair. */
  memory: 0,
  /** Same process, another thread: shared-memory rings. */
  shm: 1,
  /** Same machine: a Unix domain socket (no TCP stack, no TLS). */
  unix: 2,
  /** Plain TCP: the hub's records protect it; the fastest across machines. */
  tcp: 3,
  /** TLS: a certificate checked too, and a second layer of encryption. */
  tls: 4,
  websocket: 5,
});

/** The kind of transport a URL names: 'tcp', 'tls', 'unix', 'websocket', or undefined. */
export function kindOfUrl(url: string): string | undefined {
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'ws' || scheme === 'wss') return 'websocket';
  if (scheme === 'tcp' || scheme === 'tls' || scheme === 'unix') return scheme;
  return undefined;
}

/**
 * The addresses in the order they are tried. `prefer` overrides the ranking: one kind (only
 * addresses of that kind are tried), or an order of kinds (those kinds, in that order); the
 * order between addresses of one kind is the caller's.
 */
export function rankAddresses(urls: readonly string[], prefer?: string | readonly string[]): string[] {
  const order: readonly string[] | undefined = prefer === undefined ? undefined : typeof prefer === 'string' ? [prefer] : prefer;
  const rank = (url: string): number => {
    const kind = kindOfUrl(url) ?? '';
    if (order !== undefined) {
      const i = order.indexOf(kind);
      return i < 0 ? Number.POSITIVE_INFINITY : i;
    }
    return TRANSPORT_RANK[kind] ?? Number.MAX_SAFE_INTEGER;
  };
  return urls
    .map((url, i) => ({ url, i, r: rank(url) }))
    .filter((c) => c.r !== Number.POSITIVE_INFINITY)
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((c) => c.url);
}
