/**
 * Byte layout of a frame. All integers are big-endian.
 *
 *   0  u32  body length L (bytes after this field)
 *   -- body --
 *   4  u8   version
 *   5  u8   kind
 *   6  u8   flags: bits 0-1 payload type, bit 2 headers present, bit 3 security block (SEALED only)
 *   7  u8   reserved, 0
 *   8  u32  id
 *  12  u32  sid
 *  16  u64  seq
 *  24  u64  timestamp (ms)
 *  32  u16  topic length T
 *  34  u16  replyTo length R
 *  36  u8   group length G
 *  37  ...  topic, replyTo, group (UTF-8), [headers], [security block], payload (rest of body)
 */
export const LENGTH_PREFIX_BYTES = 4;
export const OFF_VERSION = 4;
export const OFF_KIND = 5;
export const OFF_FLAGS = 6;
export const OFF_RESERVED = 7;
export const OFF_ID = 8;
export const OFF_SID = 12;
export const OFF_SEQ = 16;
export const OFF_TIMESTAMP = 24;
export const OFF_TOPIC_LEN = 32;
export const OFF_REPLY_LEN = 34;
export const OFF_GROUP_LEN = 36;
export const FIXED_HEADER_BYTES = 37;
/** Smallest legal body (fixed header without the length prefix). */
export const MIN_BODY_BYTES = FIXED_HEADER_BYTES - LENGTH_PREFIX_BYTES;

export const FLAG_PAYLOAD_MASK = 0b0000_0011;
export const FLAG_HEADERS = 0b0000_0100;
export const FLAG_SECURITY = 0b0000_1000;
export const FLAG_RESERVED_MASK = 0b1111_0000;

/** u64 fields must stay below 2^53 so that they fit a JS number exactly. */
export const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

/**
 * A SEALED record's bytes before the frames it carries: its header with the security block (46)
 * and the longest tag (HMAC-SHA256, 32). Writers leave this much free before each batch, so that
 * the record layer can build the record around the batch instead of copying it into a new one.
 */
export const RECORD_HEADROOM = 46 + 32;
