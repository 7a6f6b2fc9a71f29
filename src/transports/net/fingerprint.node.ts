import type { X509Certificate } from 'node:crypto';

/** The form the hub config names certificates in: `sha256/` and the DER's SHA-256 in lowercase hex. */
export function certificateFingerprint(cert: X509Certificate): string {
  return `sha256/${cert.fingerprint256.replaceAll(':', '').toLowerCase()}`;
}
