import type { CrossbusError } from '../errors/index.js';
import type { Envelope } from '../protocol/envelope.js';
import type { StreamEvent, StreamServiceHost } from '../streams/stream-service.js';
import type { TypedEmitter } from '../util/emitter.js';
import type { AccessGate } from './access-gate.js';
import type { BrokerEvents } from './events.js';
import type { InboundDispatch } from './inbound.js';
import type { OutboundQueues } from './outbound-queues.js';
import type { Session } from './session.js';

/** What durable streams may do with the broker's connections: the broker's modules, behind the StreamServiceHost seam. */
export class BrokerStreamHost implements StreamServiceHost<Session> {
  readonly #events: TypedEmitter<BrokerEvents>;
  readonly #queues: OutboundQueues;
  readonly #inbound: InboundDispatch;
  readonly #gate: AccessGate | undefined;

  constructor(events: TypedEmitter<BrokerEvents>, queues: OutboundQueues, inbound: InboundDispatch, gate: AccessGate | undefined) {
    this.#events = events;
    this.#queues = queues;
    this.#inbound = inbound;
    this.#gate = gate;
  }

  canSend(s: Session): boolean {
    return this.#queues.canSend(s);
  }

  send(s: Session, env: Envelope): void {
    if (s.state === 'open') this.#queues.enqueueStreamFrame(s, env);
  }

  replyError(s: Session, id: number, error: CrossbusError): void {
    if (s.state === 'open') this.#inbound.replyError(s, id, error.code, error.message, error.details);
  }

  admit(s: Session, id: number, action: string, target: string, patterns: readonly string[]): boolean {
    return this.#gate === undefined || this.#gate.admitStream(s, id, action, target, patterns);
  }

  allowed(s: Session, patterns: readonly string[]): boolean {
    return this.#gate === undefined || this.#gate.allowsStream(s, patterns);
  }

  confirmAck(s: Session, id: number): void {
    this.#queues.confirmAck(s, id);
  }

  emit(event: StreamEvent): void {
    this.#events.emit('stream', event);
  }
}
