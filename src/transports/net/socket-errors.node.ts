import { ConnectionError, type CrossbusError, SecurityError } from '../../core/errors/index.js';

/**
 * Node's codes for a certificate the TLS layer refused (OpenSSL's verify results, and Node's own
 * host-name check). They all mean the same to a caller: this peer cannot be trusted.
 */
const CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** OpenSSL alerts a client sees when the server refused its certificate (or the lack of one). */
const PEER_REFUSED_ALERT =
  /alert (certificate required|bad certificate|unknown ca|certificate expired|certificate unknown|handshake failure)/i;

/** The typed error for a socket that could not be opened to `url`. */
export function socketConnectError(url: string, err: unknown): CrossbusError {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code !== undefined && CERTIFICATE_CODES.has(code)) {
    return new SecurityError('CB_ERR_TLS', `refused the TLS certificate of ${url}: ${code} (${e.message})`, {
      cause: err,
      details: { url, tlsCode: code },
    });
  }
  if (typeof e?.message === 'string' && PEER_REFUSED_ALERT.test(e.message)) {
    return new SecurityError('CB_ERR_TLS', `${url} refused this client's TLS certificate: ${e.message}`, {
      cause: err,
      details: { url, tlsCode: code ?? 'ALERT' },
    });
  }
  return new ConnectionError(
    'CB_ERR_CONNECTION_FAILED',
    `could not connect to ${url}: ${code ?? ''}${code ? ' ' : ''}${e?.message ?? String(err)}`,
    {
      cause: err,
      details: { url, ...(code !== undefined ? { errno: code } : {}) },
    },
  );
}
