/** The little of the DOM's Window the handshake uses, so tests and workers can stand in for it. */
export interface MessageEventLike {
  data: unknown;
  origin: string;
  source: unknown;
  ports?: readonly unknown[];
}

export interface WindowLike {
  postMessage(message: unknown, targetOrigin: string, transfer?: Transferable[]): void;
  readonly closed?: boolean;
}

export interface EventSourceLike {
  addEventListener(type: string, listener: (ev: MessageEventLike) => void): void;
  removeEventListener(type: string, listener: (ev: MessageEventLike) => void): void;
}
