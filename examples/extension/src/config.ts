/**
 * What the build (build.mjs) bakes into the extension: where the Node hub is, the extension's
 * credentials there, and which web page origins may connect. A service worker must register its
 * listeners synchronously when it starts, so the config is compiled in rather than fetched.
 */
export interface ExtensionConfig {
  /** The Node hub (ws://…); empty: no bridge, the extension's hub stands alone. */
  hubUrl: string;
  /** The app name and secret the extension uses at the Node hub. */
  name: string;
  secret: string;
  /** Web page origins allowed to connect through externally_connectable (exact match). */
  pageOrigins: string[];
  /**
   * The replicated document the service worker opens on the Node hub (its app needs read and
   * write grants on its topics), and the IndexedDB database that keeps its replica and offline
   * edits. Absent: no document.
   */
  project?: { doc: string; database: string };
}

declare const __CROSSBUS_EXTENSION_CONFIG__: ExtensionConfig | undefined;

export const config: ExtensionConfig =
  typeof __CROSSBUS_EXTENSION_CONFIG__ !== 'undefined'
    ? __CROSSBUS_EXTENSION_CONFIG__
    : { hubUrl: '', name: '', secret: '', pageOrigins: [] };
