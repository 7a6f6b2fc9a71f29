/**
 * Certificates for TLS tests, made at run time with openssl: a CA, a server certificate for
 * 127.0.0.1 and localhost signed by it, an expired one, a self-signed one, one for another host,
 * and client certificates (one signed by the CA, one by a CA the hub does not trust).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  caCert: string;
  server: { cert: string; key: string };
  expired: { cert: string; key: string };
  selfSigned: { cert: string; key: string };
  otherHost: { cert: string; key: string };
  client: { cert: string; key: string };
  strangerClient: { cert: string; key: string };
  /** File paths of the same, for CLI flags. */
  files: { caCert: string; serverCert: string; serverKey: string };
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function key(dir: string, name: string): void {
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
}

/** A certificate for `name` signed by `ca` (files `<ca>.crt`/`<ca>.key`), valid from `days` days (negative: already expired). */
function signed(dir: string, name: string, ca: string, san: string, options: { expired?: boolean } = {}): void {
  key(dir, name);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\n`);
  if (options.expired) {
    // openssl 3.0's x509 has no -not_before/-not_after; `openssl ca` takes -startdate/-enddate.
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(
      join(dir, 'ca.cnf'),
      `[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\nunique_subject=no\n[p]\ncommonName=supplied\n`,
    );
    writeFileSync(join(dir, 'serial'), '1000\n');
    openssl(dir, [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      `${ca}.crt`,
      '-keyfile',
      `${ca}.key`,
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.crt`,
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200201000000Z',
      '-extfile',
      `${name}.ext`,
      '-notext',
    ]);
  } else {
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ]);
  }
}

function selfSignedCa(dir: string, name: string): void {
  key(dir, name);
  openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.crt`]);
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'crossbus-certs-'));
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'stranger-ca');
  const localSan = 'IP:127.0.0.1,DNS:localhost';
  signed(dir, 'server', 'ca', localSan);
  signed(dir, 'expired', 'ca', localSan, { expired: true });
  signed(dir, 'other-host', 'ca', 'DNS:example.invalid,IP:10.9.8.7');
  signed(dir, 'client', 'ca', 'DNS:client.test');
  signed(dir, 'stranger-client', 'stranger-ca', 'DNS:client.test');
  key(dir, 'self');
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'self.key',
    '-subj',
    '/CN=self',
    '-days',
    '2',
    '-addext',
    `subjectAltName=${localSan}`,
    '-out',
    'self.crt',
  ]);
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  const pair = (n: string) => ({ cert: read(`${n}.crt`), key: read(`${n}.key`) });
  return {
    dir,
    caCert: read('ca.crt'),
    server: pair('server'),
    expired: pair('expired'),
    selfSigned: pair('self'),
    otherHost: pair('other-host'),
    client: pair('client'),
    strangerClient: pair('stranger-client'),
    files: { caCert: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One more certificate for 127.0.0.1 and localhost from the same CA (a rotated server certificate), with its key. */
export function anotherServerPair(certs: TestCertificates, name: string): { cert: string; key: string } {
  signed(certs.dir, name, 'ca', 'IP:127.0.0.1,DNS:localhost');
  return { cert: readFileSync(join(certs.dir, `${name}.crt`), 'utf8'), key: readFileSync(join(certs.dir, `${name}.key`), 'utf8') };
}
