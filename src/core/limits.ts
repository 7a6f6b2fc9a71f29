/**
 * Protocol limits. Every limit has a default here, is configurable on the hub and the client,
 * and is enforced by the codec (frames) or the router (topics, subscriptions, queues).
 */

/** Largest frame body, in bytes, not counting the 4-byte length prefix. @default 1 MiB */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** Longest topic or subscription pattern, in UTF-8 bytes. @default 256 */
export const DEFAULT_MAX_TOPIC_LENGTH = 256;
/** Most headers on one message. @default 64 */
export const DEFAULT_MAX_HEADER_COUNT = 64;
/** Most bytes of header names plus values on one message. @default 16 KiB */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

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

export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxTopicLength: DEFAULT_MAX_TOPIC_LENGTH,
  maxHeaderCount: DEFAULT_MAX_HEADER_COUNT,
  maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
});

/** Hard ceilings the wire format itself imposes (field widths). */
export const WIRE_MAX_FRAME_BYTES = 0xffff_ffff;
export const WIRE_MAX_TOPIC_LENGTH = 0xffff;
export const WIRE_MAX_GROUP_LENGTH = 0xff;
export const WIRE_MAX_HEADER_COUNT = 0xffff;
