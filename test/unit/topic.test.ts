import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValidTopic, groupProblem, topicProblem } from '../../src/core/topic.js';
import { isCrossbusError } from '../../src/core/errors/index.js';

describe('topics and patterns', () => {
  test('valid topics', () => {
    for (const t of ['a', 'orders.created', 'a.b.c.d', 'ünïcode.tøpic', '_INBOX.x1.2', 'with-dash.and_underscore', 'a:b.c/d']) {
      assert.equal(topicProblem(t, 'topic'), undefined, t);
    }
  });
  test('invalid topics', () => {
    for (const t of ['', '.', 'a.', '.a', 'a..b', 'a.*', '*', '>', 'a.>', 'a b', 'a\tb', 'a\nb', 'a*', 'a>b', 'a\u0000b', 'a\u00a0b']) {
      assert.notEqual(topicProblem(t, 'topic'), undefined, JSON.stringify(t));
    }
  });
  test('valid and invalid patterns', () => {
    for (const p of ['a.*', '*', '>', 'a.>', '*.b.>', 'a.*.c']) assert.equal(topicProblem(p, 'pattern'), undefined, p);
    for (const p of ['a.>.b', '>.a', 'a*', 'a.b*', 'a..*', '', 'a.**']) assert.notEqual(topicProblem(p, 'pattern'), undefined, p);
  });
  test('length limit counts UTF-8 bytes, exactly at the edge', () => {
    assert.equal(topicProblem('a'.repeat(256), 'topic'), undefined);
    assert.match(topicProblem('a'.repeat(257), 'topic')!, /longer/);
    assert.equal(topicProblem('é'.repeat(128), 'topic'), undefined);
    assert.match(topicProblem('é'.repeat(129), 'topic')!, /longer/);
    assert.equal(topicProblem('abc', 'topic', 3), undefined);
    assert.match(topicProblem('abcd', 'topic', 3)!, /longer/);
  });
  test('assertValidTopic throws typed errors', () => {
    assert.throws(
      () => assertValidTopic('a.*', 'topic'),
      (e) => isCrossbusError(e, 'CB_ERR_TOPIC_INVALID') && /wildcard/.test((e as Error).message),
    );
    assert.throws(
      () => assertValidTopic('a'.repeat(300), 'topic'),
      (e) => isCrossbusError(e, 'CB_ERR_TOPIC_TOO_LONG'),
    );
    assert.throws(
      () => assertValidTopic(42, 'topic'),
      (e) => isCrossbusError(e, 'CB_ERR_TOPIC_INVALID'),
    );
  });
  test('group names', () => {
    assert.equal(groupProblem('pricing'), undefined);
    assert.equal(groupProblem('orders.*'), undefined);
    assert.notEqual(groupProblem(''), undefined);
    assert.notEqual(groupProblem('a b'), undefined);
    assert.notEqual(groupProblem('x'.repeat(256)), undefined);
  });
});
