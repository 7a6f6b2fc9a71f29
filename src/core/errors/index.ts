/** The error registry and classes: what every layer throws and every peer sends (`crossbus/errors`). */
export { ERROR_CODES, isErrorCode, isRetryable, type ErrorClassName, type ErrorCode, type ErrorCodeInfo } from './codes.js';
export {
  ConfigError,
  ConnectionError,
  CrossbusError,
  ProtocolError,
  RequestError,
  SecurityError,
  StorageError,
  ValidationError,
  createError,
  deserializeError,
  isCrossbusError,
  type CrossbusErrorOptions,
  type SerializedError,
} from './crossbus-error.js';
