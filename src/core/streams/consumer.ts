/**
 * One consumer of a stream: where it stands, what it has handed out, and who it hands to.
 *
 * Every message from the start position on is delivered to one member at a time, at least once.
 * A delivery carries a fresh token; only an ack, nak or term naming the current token settles it
 * (an ack for a delivery that timed out and went to someone else is refused as stale). A delivery
 * not settled within `ackWaitMs`, or nak'ed, waits `backoffMs[deliveries - 1]` (the last entry
 * repeats; a nak may name its own delay) and goes out again; after `maxDeliver` deliveries, or
 * on term, it moves to the dead-letter stream and counts as settled once stored there.
 *
 * At most `maxAckPending` messages are unsettled at once (delivered, waiting for redelivery, or
 * moving to the dead letters): that is the flow control between the log and the members.
 */
import type { CrossbusError } from '../errors/index.js';
import type { ResolvedConsumerConfig } from './config.js';
import type { ConsumerState } from './catalog.js';
import type { StoredMessage } from './storage.js';
import {
  backoffDelay,
  type ConsumerHost,
  deliveryEnvelope,
  type Member,
  nextFreeMember,
  type ServedConsumer,
  type SettleResult,
  takeMember,
} from './served-consumer.js';
import type { AckPayload, ConsumerInfo } from './wire.js';

interface Delivery<S> {
  deliveries: number;
  token: number;
  member: Member<S>;
  deadline: number;
}

/** Largest batch read from the log at once. */
const READ_BATCH = 256;
/** A dead letter that could not be stored is tried again after this long. */
const DEAD_LETTER_RETRY_MS = 1_000;

export class Consumer<S = unknown> implements ServedConsumer<S> {
  readonly members: Member<S>[] = [];
  private nextSeq: number;
  private plan: number[];
  /** Delivered, not settled; Map order is deadline order (every delivery waits ackWaitMs). */
  private readonly pending = new Map<number, Delivery<S>>();
  /** Waiting to be delivered again: seq -> [deliveries so far, due time]. */
  private readonly waiting = new Map<number, [number, number]>();
  /** On their way to the dead letters: seq -> deliveries. */
  private readonly dying = new Map<number, number>();
  private token: number;
  private cursor = 0;
  private running = false;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private closed = false;

  constructor(
    readonly stream: string,
    /** The durable name, or a generated one for an ephemeral consumer. */
    readonly name: string,
    readonly ephemeral: boolean,
    public config: ResolvedConsumerConfig,
    state: ConsumerState,
    private readonly host: ConsumerHost<S>,
  ) {
    this.nextSeq = state.nextSeq;
    this.plan = [...state.plan];
    // Whatever was unsettled when the state was saved goes out again (at least once).
    const now = host.now();
    for (const [seq, deliveries] of state.outstanding) this.waiting.set(seq, [deliveries, now]);
    this.token = (Math.random() * 0xffff_ffff) >>> 0;
  }

  get outstanding(): number {
    return this.pending.size + this.waiting.size + this.dying.size;
  }

  state(): ConsumerState {
    const outstanding: Array<[number, number]> = [];
    for (const [seq, d] of this.pending) outstanding.push([seq, d.deliveries]);
    for (const [seq, [deliveries]] of this.waiting) outstanding.push([seq, deliveries]);
    for (const [seq, deliveries] of this.dying) outstanding.push([seq, deliveries]);
    outstanding.sort((a, b) => a[0] - b[0]);
    return { nextSeq: this.nextSeq, plan: [...this.plan], outstanding };
  }

  info(): ConsumerInfo {
    let floor = this.nextSeq;
    for (const seq of this.pending.keys()) floor = Math.min(floor, seq);
    for (const seq of this.waiting.keys()) floor = Math.min(floor, seq);
    for (const seq of this.dying.keys()) floor = Math.min(floor, seq);
    if (this.plan.length > 0) floor = Math.min(floor, this.plan[0] as number);
    return {
      durable: this.name,
      ackFloor: floor - 1,
      pending: this.pending.size,
      waiting: this.waiting.size + this.dying.size,
      members: this.members.length,
    };
  }

  addMember(member: Member<S>): void {
    this.members.push(member);
    this.pump();
  }

  /** Removes a member; what it held goes out again at once (it can no longer settle it). */
  removeMember(session: S, sid: number): boolean {
    const gone = takeMember(this.members, session, sid);
    if (gone === undefined) return false;
    const now = this.host.now();
    for (const [seq, d] of this.pending) {
      if (d.member !== gone) continue;
      this.pending.delete(seq);
      this.waiting.set(seq, [d.deliveries, now]);
    }
    this.host.changed(this);
    this.pump();
    return true;
  }

  /** Settles a delivery named by its token: 'stale' when it is no longer the current delivery. */
  settle(seq: number, ack: AckPayload): SettleResult {
    const d = this.pending.get(seq);
    if (d === undefined || d.token !== ack.token) return 'stale';
    const now = this.host.now();
    this.pending.delete(seq);
    switch (ack.op) {
      case 'ack':
        break;
      case 'progress':
        d.deadline = now + this.config.ackWaitMs;
        this.pending.set(seq, d); // to the back: Map order stays deadline order
        this.arm();
        return 'ok';
      case 'nak':
        if (d.deliveries >= this.config.maxDeliver) this.kill(seq, 'max-deliver', d.deliveries);
        else this.waiting.set(seq, [d.deliveries, now + (ack.delayMs ?? this.backoff(d.deliveries))]);
        break;
      case 'term':
        this.kill(seq, ack.reason === undefined || ack.reason === '' ? 'term' : `term: ${ack.reason}`, d.deliveries);
        break;
    }
    this.host.changed(this);
    this.arm();
    this.pump();
    return 'ok';
  }

  /** Something changed (new messages, an ack, a member with room): deliver what can go out. */
  pump(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.run();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.deliverAll();
      } while (this.again && !this.closed);
    } catch (err) {
      this.host.failed(this, err as CrossbusError);
    } finally {
      this.running = false;
    }
  }

  private async deliverAll(): Promise<void> {
    const host = this.host;
    for (;;) {
      if (this.closed || this.freeMember() === undefined) return;
      const now = host.now();
      // Redeliveries that are due go first, oldest sequence first.
      const due = [...this.waiting]
        .filter(([, [, at]]) => at <= now)
        .map(([seq]) => seq)
        .sort((a, b) => a - b);
      if (due.length > 0) {
        for (const seq of due) {
          if (this.freeMember() === undefined) return;
          const entry = this.waiting.get(seq);
          if (entry === undefined) continue; // settled meanwhile
          if (entry[0] >= this.config.maxDeliver) {
            // Its last delivery went to a member that left (or to a hub that restarted): a message
            // that keeps taking its consumers down is exactly what the dead letters are for.
            this.waiting.delete(seq);
            this.kill(seq, 'max-deliver', entry[0]);
            continue;
          }
          const msg = await this.readOne(seq);
          if (this.waiting.get(seq) !== entry) continue;
          this.waiting.delete(seq);
          if (msg !== undefined) this.deliver(msg, entry[0] + 1);
        }
        continue;
      }
      if (this.plan.length > 0) {
        const seq = this.plan[0] as number;
        const msg = await this.readOne(seq);
        if (this.plan[0] !== seq) continue;
        if (msg !== undefined && this.freeMember() === undefined) return;
        this.plan.shift();
        if (msg !== undefined) this.deliver(msg, 1);
        continue;
      }
      const room = this.config.maxAckPending - this.outstanding;
      if (room <= 0) return;
      if (this.nextSeq < host.firstSeq()) this.nextSeq = host.firstSeq();
      if (this.nextSeq > host.lastSeq()) return;
      const from = this.nextSeq;
      const msgs = await host.read(from, Math.min(room, READ_BATCH));
      if (this.closed) return;
      if (this.nextSeq !== from) continue; // moved meanwhile (should not happen: one runner)
      if (msgs.length === 0) {
        this.nextSeq = Math.max(this.nextSeq, host.firstSeq());
        if (this.nextSeq === from) return;
        continue;
      }
      for (const msg of msgs) {
        if (msg.seq < this.nextSeq) continue;
        if (this.freeMember() === undefined || this.outstanding >= this.config.maxAckPending) return;
        this.nextSeq = msg.seq + 1;
        this.deliver(msg, 1);
      }
      this.host.changed(this);
    }
  }

  private async readOne(seq: number): Promise<StoredMessage | undefined> {
    const [msg] = await this.host.read(seq, 1);
    return msg !== undefined && msg.seq === seq ? msg : undefined; // gone (retention, purge)
  }

  /** The next member (round robin) whose connection has room, or undefined. */
  private freeMember(): Member<S> | undefined {
    return nextFreeMember(this.members, this.cursor, (m) => this.host.canSend(m));
  }

  private deliver(msg: StoredMessage, deliveries: number): void {
    const member = this.freeMember();
    if (member === undefined) {
      this.waiting.set(msg.seq, [deliveries - 1, this.host.now()]);
      return;
    }
    this.cursor = (this.members.indexOf(member) + 1) % Math.max(1, this.members.length);
    this.token = (this.token + 1) >>> 0;
    this.host.send(member, deliveryEnvelope(msg, deliveries, this.token, member.sid));
    this.pending.set(msg.seq, { deliveries, token: this.token, member, deadline: this.host.now() + this.config.ackWaitMs });
    this.arm();
  }

  private backoff(deliveries: number): number {
    return backoffDelay(this.config.backoffMs, deliveries);
  }

  /** Moves a message to the dead letters; it stays unsettled until they have it. */
  private kill(seq: number, reason: string, deliveries: number): void {
    this.dying.set(seq, deliveries);
    void (async () => {
      try {
        const msg = await this.readOne(seq);
        if (msg !== undefined) await this.host.deadLetter(msg, reason, deliveries);
        this.dying.delete(seq);
      } catch {
        // Not stored: it stays unsettled and is offered again, so nothing is lost.
        this.dying.delete(seq);
        if (!this.closed) this.waiting.set(seq, [deliveries - 1, this.host.now() + DEAD_LETTER_RETRY_MS]);
      }
      this.host.changed(this);
      this.arm();
      this.pump();
    })();
  }

  /** Handles ack deadlines and due redeliveries, and sets the timer for the next one. */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.host.now();
    let changed = false;
    for (const [seq, d] of this.pending) {
      if (d.deadline > now) break;
      this.pending.delete(seq);
      changed = true;
      if (d.deliveries >= this.config.maxDeliver) this.kill(seq, 'max-deliver', d.deliveries);
      else this.waiting.set(seq, [d.deliveries, now + this.backoff(d.deliveries)]);
    }
    if (changed) this.host.changed(this);
    this.arm();
    this.pump();
  };

  private arm(): void {
    if (this.closed) return;
    let at = Infinity;
    for (const d of this.pending.values()) {
      at = d.deadline;
      break;
    }
    // Redeliveries already due wait for a member with room (which pumps), not for the timer.
    const now = this.host.now();
    for (const [, due] of this.waiting.values()) if (due > now && due < at) at = due;
    if (at === Infinity || at >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    // Not unref'd: a pending redelivery is work the host must stay up for (close() clears it).
    this.timer = setTimeout(this.onTimer, Math.max(0, at - now));
  }
}
