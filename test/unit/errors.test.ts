import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ConfigError,
  ConnectionError,
  CrossbusError,
  ERROR_CODES,
  ProtocolError,
  RequestError,
  SecurityError,
  StorageError,
  ValidationError,
  createError,
  deserializeError,
  isErrorCode,
  type ErrorClassName,
  type ErrorCode,
} from '../../src/core/errors/index.js';

const CLASS_BY_NAME: Record<ErrorClassName, new (...a: never[]) => CrossbusError> = {
  ProtocolError,
  ValidationError,
  ConnectionError,
  RequestError,
  SecurityError,
  StorageError,
  ConfigError,
  CrossbusError,
};

describe('error registry', () => {
  test('docs/ERRORS.md lists exactly the registry, with the same retryable flags', () => {
    const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(CB_ERR_[A-Z_]+)` \| (yes|no) \|/gm)].map((m) => [m[1]!, m[2] === 'yes'] as const);
    const documented = new Map(rows);
    assert.equal(documented.size, rows.length, 'a code is documented twice');
    assert.deepEqual([...documented.keys()].sort(), Object.keys(ERROR_CODES).sort());
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.equal(documented.get(code), info.retryable, `${code} retryable flag differs between registry and docs`);
    }
  });

  test('every code has the CB_ERR_ prefix and a meaning in docs/ERRORS.md', () => {
    const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
    const meanings = new Map([...doc.matchAll(/^\| `(CB_ERR_[A-Z_]+)` \| (?:yes|no) \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]));
    for (const code of Object.keys(ERROR_CODES)) {
      assert.match(code, /^CB_ERR_[A-Z_]+$/);
      assert.ok((meanings.get(code) ?? '').length > 0, `${code} has no meaning in ERRORS.md`);
    }
  });

  test('an error made without a message says its code in words', () => {
    assert.equal(createError('CB_ERR_RATE_LIMITED').message, 'rate limited');
    assert.equal(new CrossbusError('CB_ERR_TIMEOUT').message, 'timeout');
    assert.equal(deserializeError({ code: 'CB_ERR_NO_RESPONDERS' }).message, 'no responders');
    assert.equal(createError('CB_ERR_TIMEOUT', 'request "a.b" timed out after 5000 ms').message, 'request "a.b" timed out after 5000 ms');
  });

  test('createError picks the subclass; cause and details are kept', () => {
    const cause = new Error('root');
    const cases: Array<[ErrorCode, new (...a: never[]) => CrossbusError]> = [
      ['CB_ERR_FRAME_TOO_LARGE', ProtocolError],
      ['CB_ERR_TOPIC_INVALID', ValidationError],
      ['CB_ERR_SLOW_CONSUMER', ConnectionError],
      ['CB_ERR_NO_RESPONDERS', RequestError],
      ['CB_ERR_INVALID_OPTION', ConfigError],
      ['CB_ERR_STORAGE', StorageError],
      ['CB_ERR_STREAM_CORRUPT', StorageError],
      ['CB_ERR_STREAM_CLOSED', StorageError],
    ];
    for (const [code, Ctor] of cases) {
      const e = createError(code, undefined, { cause, details: { a: 1 } });
      assert.ok(e instanceof Ctor, code);
      assert.ok(e instanceof CrossbusError && e instanceof Error);
      assert.equal(e.cause, cause);
      assert.equal(e.retryable, ERROR_CODES[code].retryable);
      assert.deepEqual(e.details, { a: 1 });
    }
  });

  test('every code is made as the class its registry entry names, on both sides of the wire', () => {
    for (const [code, info] of Object.entries(ERROR_CODES) as Array<[ErrorCode, (typeof ERROR_CODES)[ErrorCode]]>) {
      const Ctor = CLASS_BY_NAME[info.class];
      assert.ok(Ctor !== undefined, `${code} names an unknown class ${info.class}`);
      const made = createError(code, 'm');
      assert.equal(made.constructor, Ctor, `${code} should be a ${info.class}`);
      assert.equal(made.name, info.class);
      assert.equal(deserializeError(made.toJSON()).constructor, Ctor, `${code} from the wire should be a ${info.class}`);
    }
    // The codes a name-prefix rule used to miss: each belongs to the class of its neighbours.
    assert.ok(createError('CB_ERR_RESPONDER_GONE') instanceof RequestError);
    assert.ok(createError('CB_ERR_NO_STREAM') instanceof StorageError);
    assert.ok(createError('CB_ERR_CONSUMER_NOT_FOUND') instanceof StorageError);
    assert.ok(createError('CB_ERR_ACK_STALE') instanceof StorageError);
    assert.ok(createError('CB_ERR_FORBIDDEN') instanceof SecurityError);
    assert.equal(createError('CB_ERR_INTERNAL').constructor, CrossbusError);
  });

  test('docs/ERRORS.md names the same class for every code as the registry', () => {
    const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
    const classes = new Map([...doc.matchAll(/^\| `(CB_ERR_[A-Z_]+)` \|.*\| `(\w+)` \|$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const [code, info] of Object.entries(ERROR_CODES))
      assert.equal(classes.get(code), info.class, `${code} class differs between registry and docs`);
  });

  test('wire round trip keeps code, message, retryable and details, never the stack or cause', () => {
    const e = createError('CB_ERR_NO_RESPONDERS', 'nobody', { cause: new Error('secret internals'), details: { topic: 'a.b' } });
    const wire = JSON.parse(JSON.stringify(e));
    assert.deepEqual(Object.keys(wire).sort(), ['code', 'details', 'message', 'retryable']);
    const back = deserializeError(wire);
    assert.ok(back instanceof RequestError);
    assert.equal(back.code, 'CB_ERR_NO_RESPONDERS');
    assert.equal(back.message, 'nobody');
    assert.deepEqual(back.details, { topic: 'a.b' });
  });

  test('unknown remote codes are kept in details', () => {
    const back = deserializeError({ code: 'CB_ERR_FROM_THE_FUTURE', message: 'x' });
    assert.equal(back.code, 'CB_ERR_INTERNAL');
    assert.equal(back.details?.remoteCode, 'CB_ERR_FROM_THE_FUTURE');
    assert.equal(isErrorCode('CB_ERR_FROM_THE_FUTURE'), false);
    assert.equal(deserializeError(null).code, 'CB_ERR_PROTOCOL');
  });
});
