import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The core, the client and the runtime-neutral transports must run in browsers, workers and
 * extension service workers: no Node built-ins, no `ws`, no Buffer/process, no DOM-only globals.
 */
const ROOT = new URL('../../src/', import.meta.url).pathname;
const ISOMORPHIC = ['core', 'client', 'browser', 'transports/memory', 'transports/websocket/websocket-client.ts'];
const FORBIDDEN: Array<[RegExp, string]> = [
  [/from\s+['"]node:/, 'a node: import'],
  [/from\s+['"](ws|fs|path|net|http|https|os|crypto|events|stream|child_process)['"]/, 'a Node package import'],
  [/\bBuffer\./, 'Buffer'],
  [/\bprocess\./, 'process'],
  [/\bconsole\./, 'console (use the injected logger)'],
  [/\b(window|document|localStorage)\./, 'a DOM-only global'],
];

function files(p: string): string[] {
  if (statSync(p).isFile()) return [p];
  return readdirSync(p).flatMap((n) => files(join(p, n)));
}

test('isomorphic folders import nothing runtime-specific', () => {
  const offenders: string[] = [];
  for (const f of ISOMORPHIC.flatMap((d) => files(join(ROOT, d))).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(f, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    for (const [re, what] of FORBIDDEN) if (re.test(text)) offenders.push(`${f.slice(ROOT.length)}: ${what}`);
  }
  assert.deepEqual(offenders, []);
});

test('library code never writes to the console', () => {
  const offenders = files(ROOT)
    .filter((f) => f.endsWith('.ts') && !f.includes('/cli/'))
    .filter((f) => /\bconsole\.(log|error|warn|info|debug)\(/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});
