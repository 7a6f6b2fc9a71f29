#!/usr/bin/env node
// Empties dist/ before a build, so that nothing a past build left behind (the output of a deleted
// or renamed source file, source maps) can end up in the package.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

rmSync(fileURLToPath(new URL('../dist', import.meta.url)), { recursive: true, force: true });
