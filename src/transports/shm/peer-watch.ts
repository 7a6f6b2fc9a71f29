/**
 * Watches the other end of a shared-memory connection from one end: its setup port's close event
 * (Node's MessagePort has one; a thread that is terminated closes its ports) and the beat word
 * each end bumps every `livenessMs`, for runtimes whose ports say nothing when their thread dies.
 * It also carries wake-ups over the port, where a runtime lacks Atomics.waitAsync.
 */
import { unrefTimer } from '../../core/util/timers.js';
import type { PortLike } from '../port/port-transport.js';
import { S_BEAT, sideWord } from './layout.js';

/** The one message the port carries after setup: "look at the rings" (where Atomics.waitAsync is missing). */
export const SHM_WAKE = 'crossbus-shm-wake';

export interface PeerWatchEvents {
  /** The peer is gone; `why` says how that was found. Called at most once. */
  gone(why: string): void;
  /** The peer posted SHM_WAKE. */
  wake(): void;
}

export class PeerWatch {
  readonly #words: Int32Array;
  readonly #own: number;
  readonly #peer: number;
  readonly #port: PortLike | undefined;
  readonly #events: PeerWatchEvents;
  readonly #deadAfterBeats: number;
  readonly #unlisten: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #peerBeat = -1;
  #staleBeats = 0;
  #stopped = false;

  constructor(
    words: Int32Array,
    side: 0 | 1,
    port: PortLike | undefined,
    livenessMs: number,
    deadAfterMs: number,
    events: PeerWatchEvents,
  ) {
    this.#words = words;
    this.#own = sideWord(side, S_BEAT);
    this.#peer = sideWord(side === 0 ? 1 : 0, S_BEAT);
    this.#port = port;
    this.#events = events;
    this.#deadAfterBeats = deadAfterMs > 0 && livenessMs > 0 ? Math.max(1, Math.ceil(deadAfterMs / livenessMs)) : 0;
    this.#unlisten = this.#listen();
    if (livenessMs > 0) {
      this.#beat();
      this.#timer = unrefTimer(setInterval(this.#beat, livenessMs));
    }
  }

  /** Asks the peer to look at the rings (it sleeps on the port, not on a word). */
  postWake(): void {
    try {
      this.#port?.postMessage(SHM_WAKE);
    } catch {
      /* the port is gone: its close says the rest */
    }
  }

  /** Stops beating and watching; closes the port when `closePort`. */
  stop(closePort: boolean): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#unlisten();
    if (closePort) {
      try {
        this.#port?.close?.();
      } catch {
        /* already closed */
      }
    }
  }

  readonly #beat = (): void => {
    Atomics.add(this.#words, this.#own, 1);
    if (this.#deadAfterBeats === 0) return;
    const peer = Atomics.load(this.#words, this.#peer);
    // A peer that has not beaten yet is still starting (a worker loading its code), not dead:
    // until it has attached, a connect timeout above bounds the wait.
    if (peer === 0) return;
    if (peer !== this.#peerBeat) {
      this.#peerBeat = peer;
      this.#staleBeats = 0;
    } else if (++this.#staleBeats >= this.#deadAfterBeats) this.#gone('its beat stopped');
  };

  #gone(why: string): void {
    if (this.#stopped) return;
    this.#events.gone(why);
  }

  #listen(): () => void {
    const port = this.#port;
    if (port === undefined) return () => {};
    const onData = (data: unknown): void => {
      if (data === SHM_WAKE) this.#events.wake();
    };
    const onEvent = (ev: { data?: unknown }): void => onData(ev.data);
    const onGone = (): void => this.#gone('its port closed');
    if (typeof port.addEventListener === 'function') {
      port.addEventListener('message', onEvent);
      port.addEventListener('close', onGone);
      port.start?.();
      return () => {
        port.removeEventListener?.('message', onEvent);
        port.removeEventListener?.('close', onGone);
      };
    }
    if (typeof port.on === 'function') {
      port.on('message', onData);
      port.on('close', onGone);
      return () => {
        port.off?.('message', onData);
        port.off?.('close', onGone);
      };
    }
    throw new TypeError('a port needs addEventListener or on');
  }
}
