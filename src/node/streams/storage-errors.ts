/** The two ways stream storage fails: the disk refused (retryable) or the data is bad (quarantine). */
import { createError, isCrossbusError, type CrossbusError } from '../../core/errors/index.js';

/** CB_ERR_STORAGE for an I/O failure; `details.errno` carries ENOSPC, EACCES, EIO, EDQUOT... */
export function storageFailure(op: string, file: string, cause: unknown): CrossbusError {
  if (isCrossbusError(cause)) return cause;
  const errno = typeof (cause as { code?: unknown })?.code === 'string' ? (cause as { code: string }).code : 'EUNKNOWN';
  return createError('CB_ERR_STORAGE', `stream storage: ${op} ${file} failed (${errno})`, { details: { errno, op, file }, cause });
}

/** CB_ERR_STREAM_CORRUPT naming the segment file and the byte offset of the bad record. */
export function corrupt(file: string, offset: number, reason: string, cause?: unknown): CrossbusError {
  return createError('CB_ERR_STREAM_CORRUPT', `stream storage: ${file} is corrupt at offset ${offset}: ${reason}`, {
    details: { file, offset, reason },
    cause,
  });
}
