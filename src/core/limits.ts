/**
 * Protocol limits. Every limit has a default here, is configurable on the hub and the client,
 * and is enforced by the codec (frames) or the router (topics, subscriptions, queues).
 */

export interface FrameLimits {
  /** @default DEFAULT_MAX_FRAME_BYTES */
  maxFrameBytes: number;
  /** @default DEFAULT_MAX_TOPIC_LENGTH */
  maxTopicLength: number;
  /** @default DEFAULT_MAX_HEADER_COUNT */
  maxHeaderCount: number;
  /** @default DEFAULT_MAX_HEADER_BYTES */
  maxHeaderBytes: number;
}

/** Hard ceilings the wire format itself imposes (field widths). */
export const WIRE_MAX_FRAME_BYTES = 0xffff_ffff;
export const WIRE_MAX_TOPIC_LENGTH = 0xffff;
export const WIRE_MAX_GROUP_LENGTH = 0xff;
export const WIRE_MAX_HEADER_COUNT = 0xffff;
