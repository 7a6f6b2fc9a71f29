/**
 * The one origin grammar (src/core/security/origins.ts): normalized as the WHATWG URL parser does
 * it, which is how browsers compute the origins they report, and the refusals on top of it. The
 * config and the transports use the same function; the last tests check that they agree.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHubConfig } from '../../src/core/config/schema.js';
import { isCrossbusError } from '../../src/core/errors/index.js';
import { normalizeAllowedOrigins, normalizeOrigin, originFault, originProblem } from '../../src/core/security/origins.js';

/** [written, as browsers report it]. */
const NORMALIZED: ReadonlyArray<readonly [string, string]> = [
  ['http://localhost:7071', 'http://localhost:7071'],
  ['HTTP://LocalHost:7071', 'http://localhost:7071'],
  ['HTTPS://A.Example', 'https://a.example'],
  ['null', 'null'],
  // default ports: http and ws 80, https and wss 443; only for their own scheme
  ['http://a.example:80', 'http://a.example'],
  ['http://a.example:0080', 'http://a.example'],
  ['https://a.example:443', 'https://a.example'],
  ['ws://a.example:80', 'ws://a.example'],
  ['wss://a.example:443', 'wss://a.example'],
  ['https://a.example:80', 'https://a.example:80'],
  ['ws://a.example:443', 'ws://a.example:443'],
  ['http://a.example:65535', 'http://a.example:65535'],
  ['http://a.example:1', 'http://a.example:1'],
  // IPv6 in brackets, compressed and lower-case; IPv4 in dotted decimal
  ['http://[::1]:8080', 'http://[::1]:8080'],
  ['http://[0:0:0:0:0:0:0:1]', 'http://[::1]'],
  ['http://[::FFFF:1.2.3.4]', 'http://[::ffff:102:304]'],
  ['http://127.0.0.1:7072', 'http://127.0.0.1:7072'],
  ['http://0x7f.1', 'http://127.0.0.1'],
  // IDN hosts in punycode, after Unicode mapping (full-width letters, sharp s)
  ['http://Bücher.example', 'http://xn--bcher-kva.example'],
  ['https://ß.example', 'https://xn--zca.example'],
  ['http://ｅxample.com', 'http://example.com'],
  ['http://xn--bcher-kva.example', 'http://xn--bcher-kva.example'],
  // a trailing dot is kept: browsers keep it, and it is another origin
  ['http://example.com.', 'http://example.com.'],
  ['HTTP://EXAMPLE.COM.:80', 'http://example.com.'],
  // other schemes keep their host, lower-cased
  ['chrome-extension://abcdefghijklmnopabcdefghijklmnop', 'chrome-extension://abcdefghijklmnopabcdefghijklmnop'],
  ['Chrome-Extension://ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP', 'chrome-extension://abcdefghijklmnopabcdefghijklmnop'],
  ['moz-extension://1b7b7e2c-0000-4000-8000-000000000000', 'moz-extension://1b7b7e2c-0000-4000-8000-000000000000'],
];

/** [not an origin, the fault `originFault` names]. */
const REFUSED: ReadonlyArray<readonly [string, ReturnType<typeof originFault>]> = [
  ['*', { fault: 'wildcard' }],
  ['http://a.example/', { fault: 'path', at: 16 }],
  ['http://a.example/app', { fault: 'path', at: 16 }],
  ['http://a.example?x=1', { fault: 'path', at: 16 }],
  ['http://a.example#top', { fault: 'path', at: 16 }],
  ['http://a.example:0', { fault: 'port', port: '0' }],
  ['http://a.example:000', { fault: 'port', port: '000' }],
  ['http://a.example:65536', { fault: 'port', port: '65536' }],
  ['http://[::1]:99999', { fault: 'port', port: '99999' }],
  ['', { fault: 'form' }],
  ['NULL', { fault: 'form' }],
  ['localhost:7071', { fault: 'form' }],
  ['a.example', { fault: 'form' }],
  ['http:/a.example', { fault: 'form' }],
  ['http://', { fault: 'form' }],
  ['file://', { fault: 'form' }],
  ['chrome-extension://', { fault: 'form' }],
  ['http://user@a.example', { fault: 'form' }],
  ['http://user:secret@a.example', { fault: 'form' }],
  ['http://@a.example', { fault: 'form' }],
  ['http://exa mple.com', { fault: 'form' }],
  [' http://a.example', { fault: 'form' }],
  ['http://a.example ', { fault: 'form' }],
  ['http://a.exa\tmple', { fault: 'form' }],
  ['http://a.example\n', { fault: 'form' }],
  ['http://a.example\\app', { fault: 'form' }],
  ['http://xn--.example', { fault: 'form' }],
  ['http://[::1', { fault: 'form' }],
  ['http://a.example:port', { fault: 'form' }],
  ['javascript:alert(1)', { fault: 'form' }],
];

describe('normalizeOrigin', () => {
  test('normalizes as browsers report origins', () => {
    for (const [written, reported] of NORMALIZED) assert.equal(normalizeOrigin(written), reported, written);
  });

  test('is idempotent, and agrees with URL where URL has an origin', () => {
    for (const [, reported] of NORMALIZED) assert.equal(normalizeOrigin(reported), reported, reported);
    for (const [written, reported] of NORMALIZED) {
      const origin = written === 'null' ? 'null' : new URL(written).origin;
      if (origin !== 'null') assert.equal(reported, origin, written); // other schemes have opaque origins in URL
    }
  });

  test('refuses wildcards, paths, queries, fragments, userinfo, whitespace and ports outside 1..65535; originFault says which', () => {
    for (const [input, fault] of REFUSED) {
      assert.equal(normalizeOrigin(input), undefined, JSON.stringify(input));
      assert.deepEqual(originFault(input), fault, JSON.stringify(input));
    }
  });

  test('a non-string is not an origin', () => {
    for (const input of [undefined, null, 42, {}, ['http://a.example']]) assert.equal(normalizeOrigin(input as never), undefined);
  });
});

describe('originProblem: an origin exactly as browsers report it', () => {
  test('accepts normalized origins and "null"; explains everything else', () => {
    for (const [, reported] of NORMALIZED) assert.equal(originProblem(reported), undefined, reported);
    assert.equal(
      originProblem('HTTPS://A.example'),
      'must be written as browsers report it (lower-case, no default port): "https://a.example"',
    );
    assert.match(originProblem('https://a.example:443')!, /default port/);
    assert.match(originProblem('http://Bücher.example')!, /"http:\/\/xn--bcher-kva\.example"/);
    assert.equal(originProblem('*'), 'must be one exact origin, not "*"');
    assert.equal(originProblem('http://a.example:0'), 'has port 0, outside 1..65535');
    assert.equal(originProblem('http://a.example/'), 'must be scheme://host[:port], without a path');
    assert.equal(originProblem('http://user@a.example'), 'must be scheme://host[:port], without a path');
    assert.equal(originProblem(7), 'must be a string');
  });
});

describe('normalizeAllowedOrigins (transport options)', () => {
  test('normalizes and de-duplicates', () => {
    assert.deepEqual(
      normalizeAllowedOrigins(['HTTP://LocalHost:7071', 'http://localhost:7071', 'null', 'https://a.example:443'], 'allowedOrigins'),
      ['http://localhost:7071', 'null', 'https://a.example'],
    );
  });

  test('refuses an entry that is not an origin with CB_ERR_INVALID_OPTION naming the option', () => {
    assert.throws(
      () => normalizeAllowedOrigins(['http://a.example', 'http://b.example/'], 'allowedOrigins'),
      (e: Error) =>
        isCrossbusError(e, 'CB_ERR_INVALID_OPTION') &&
        e.message === 'allowedOrigins: "http://b.example/" must be scheme://host[:port], without a path',
    );
    assert.throws(() => normalizeAllowedOrigins(['*'], 'allowedOrigins'), /not "\*"/);
  });
});

describe('one grammar: the config and the transports agree', () => {
  test('every origin the transports accept, the config normalizes the same way', () => {
    for (const [written, reported] of NORMALIZED) {
      assert.deepEqual(parseHubConfig({ apps: {}, origins: [written] }).origins, [reported], written);
      assert.deepEqual(normalizeAllowedOrigins([written], 'allowedOrigins'), [reported], written);
    }
  });

  test('every origin the transports refuse, the config refuses too', () => {
    for (const [input] of REFUSED) {
      assert.throws(
        () => parseHubConfig({ apps: {}, origins: [input] }),
        (e: Error) => isCrossbusError(e, 'CB_ERR_CONFIG_INVALID'),
        JSON.stringify(input),
      );
      assert.throws(
        () => normalizeAllowedOrigins([input], 'allowedOrigins'),
        (e: Error) => isCrossbusError(e, 'CB_ERR_INVALID_OPTION'),
        JSON.stringify(input),
      );
    }
  });
});
