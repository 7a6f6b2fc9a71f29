#!/usr/bin/env node
/**
 * Type-checks every layer against its own tsconfig.json (what each may use: the core and the
 * client only ES2022 and the shared runtime globals, Node's layers Node's types, the browser's
 * the DOM), then everything together (tests, benchmarks, scripts, examples). Two at a time.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const CONFIGS = [
  'tsconfig.json',
  'src/core/tsconfig.json',
  'src/transports/tsconfig.json',
  'src/transports/postmessage/tsconfig.json',
  'src/client/tsconfig.json',
  'src/browser/tsconfig.json',
  'src/node/tsconfig.json',
  'src/hub/tsconfig.json',
  'src/cli/tsconfig.json',
  'dashboard/tsconfig.json',
];

function check(config) {
  return new Promise((resolve) => {
    const args = [tsc, '-p', config, ...(config === 'tsconfig.json' ? ['--noEmit'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ config, code, out }));
  });
}

const queue = [...CONFIGS];
const failed = [];
async function worker() {
  for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
    const r = await check(c);
    if (r.code !== 0) {
      failed.push(r.config);
      process.stderr.write(`typecheck ${r.config}:\n${r.out}\n`);
    }
  }
}
await Promise.all([worker(), worker()]);
if (failed.length > 0) {
  process.stderr.write(`typecheck failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
process.stdout.write(`typecheck: ${CONFIGS.length} configs clean\n`);
