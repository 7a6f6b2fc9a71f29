/** Common shape every benchmark suite returns; `bench/run.ts` collects these. */
export interface BenchOutput {
  suite: string;
  unit: string;
  /** Human-readable, aligned table. */
  table: string;
  results: Record<string, number>;
  ratios: Record<string, number>;
}

/** Prints the table, then (as the very last line) a machine-readable JSON summary. */
export function printBench(out: BenchOutput): void {
  process.stdout.write(out.table.endsWith('\n') ? out.table : `${out.table}\n`);
  process.stdout.write(`${JSON.stringify({ suite: out.suite, unit: out.unit, results: out.results, ratios: out.ratios })}\n`);
}
