import { runMatchBench } from './match.js';
await runMatchBench();
