/**
 * What the supervisor and an instance say over the child's IPC channel (`fork`'s, JSON). The
 * credentials travel here, at start, and nowhere else: not on the command line (`ps` shows it to
 * every user), not in the environment (inherited by anything the app starts, and dumped by crash
 * reporters), not in a file (which would need cleaning up and guarding). The channel is a socket
 * pair only the two processes hold.
 */

/** Every message carries this key, so the app's own IPC (if any) is told apart. */
export const IPC_KEY = 'crossbus';

/** instance → supervisor: the helper is loaded and listening; send the start message. */
export interface HelloMessage {
  readonly crossbus: 'hello';
}
/** instance → supervisor: connected to the hub; the instance is running. */
export interface ReadyMessage {
  readonly crossbus: 'ready';
}
/** instance → supervisor, every health interval: alive, and what it uses. */
export interface BeatMessage {
  readonly crossbus: 'beat';
  /** Resident set size, bytes. */
  readonly rss: number;
  /** CPU time used so far (user + system), microseconds. */
  readonly cpuMicros: number;
}
/** supervisor → instance, once, answering hello. */
export interface StartMessage {
  readonly crossbus: 'start';
  readonly url: string;
  readonly app: string;
  readonly instanceId: string;
  /** The app's secret (base64); absent for a hub that needs none. */
  readonly secret?: string;
  readonly version: string;
  readonly config: unknown;
  readonly heartbeatIntervalMs: number;
  /** The instance's proof for `$SYS.REQ.DEPLOY.ATTACH`, when the hub's deployment manager runs it. */
  readonly attachToken?: string;
}

export type InstanceMessage = HelloMessage | ReadyMessage | BeatMessage;

/** The message as one of ours, or undefined for anything else the child sends. */
export function instanceMessage(message: unknown): InstanceMessage | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const kind = (message as { crossbus?: unknown }).crossbus;
  return kind === 'hello' || kind === 'ready' || kind === 'beat' ? (message as InstanceMessage) : undefined;
}

export function isStartMessage(message: unknown): message is StartMessage {
  return typeof message === 'object' && message !== null && (message as { crossbus?: unknown }).crossbus === 'start';
}
