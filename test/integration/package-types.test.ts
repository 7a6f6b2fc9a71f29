/**
 * The packed package's types, per runtime. Each entry's declarations name exactly the values its
 * JavaScript exports, under the conditions a runtime resolves (`node`; `browser`). The README's
 * TypeScript examples compile against the package as a user's project compiles them: a Node project (`nodenext`, no DOM library) and a browser project built by a
 * bundler (`bundler` resolution with the `browser` condition, the DOM library). Each ```ts block
 * starts with the runtime it is written for (`// Node:`, `// Browser:`, `// Node or a browser:`).
 * Names an example leaves to the reader (`secret`, `bus`, `config`, …) are declared for it below.
 * The package's declarations are checked too, as with `skipLibCheck: false`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { packAndInstall } from '../helpers/packed-package.js';

type Runtime = 'node' | 'browser';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The export conditions each runtime matches, besides `default` (TypeScript adds `types`). */
const CONDITIONS: Record<Runtime, string[]> = { node: ['node', 'import'], browser: ['browser', 'import'] };

/** The entries each runtime's programs import: in Node, the browser-only page client is left out. */
const ENTRIES: Record<Runtime, string[]> = {
  node: ['crossbus', 'crossbus/sync', 'crossbus/hub', 'crossbus/core', 'crossbus/errors', 'crossbus/runtime'],
  browser: [
    'crossbus',
    'crossbus/page',
    'crossbus/streams',
    'crossbus/kv',
    'crossbus/settings',
    'crossbus/sync',
    'crossbus/hub',
    'crossbus/core',
    'crossbus/errors',
  ],
};

/** What the examples leave to the reader, declared globally (an example's own declarations shadow them). */
const PLACEHOLDERS: Record<Runtime, string> = {
  node: `
declare const secret: string;
declare const bus: import('crossbus').Bus;
declare const data: Uint8Array;
declare const maxAgeMs: number, maxBytes: number, maxMessages: number, duplicateWindowMs: number;
`,
  browser: `
declare const secret: string;
declare const bus: import('crossbus').Bus;
declare const data: Uint8Array;
declare const maxAgeMs: number, maxBytes: number, maxMessages: number, duplicateWindowMs: number;
declare const config: import('crossbus/hub').HubConfig;
declare const security: import('crossbus/hub').HubSecurity;
declare const worker: Worker;
declare const extensionId: string;
`,
};

const COMPILER_OPTIONS: Record<Runtime, Record<string, unknown>> = {
  node: { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022'], types: ['node'] },
  browser: {
    module: 'esnext',
    moduleResolution: 'bundler',
    customConditions: ['browser'],
    moduleDetection: 'force',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    types: [],
  },
};

/** Every ```ts block of the README with the runtimes its first line names. */
function readmeExamples(markdown: string): Array<{ line: number; runtimes: Runtime[]; code: string }> {
  const examples = [];
  for (const m of markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const code = m[1] as string;
    const line = markdown.slice(0, m.index).split('\n').length;
    const marker = /^\/\/ (Node or a browser|Node|Browser):/.exec(code)?.[1];
    assert.ok(marker !== undefined, `README.md:${line}: a ts example starts with // Node:, // Browser: or // Node or a browser:`);
    const runtimes: Runtime[] = marker === 'Node' ? ['node'] : marker === 'Browser' ? ['browser'] : ['node', 'browser'];
    examples.push({ line, runtimes, code });
  }
  return examples;
}

/**
 * Writes a project for `runtime` with its examples and compiles it. Diagnostics are asked for the
 * project's files and the package's declarations only: checking every library under node_modules
 * (as `skipLibCheck: false` in tsc does) would take many times longer and test other packages.
 */
function typecheck(project: string, runtime: Runtime, examples: ReturnType<typeof readmeExamples>): ts.Program {
  const dir = join(project, runtime);
  mkdirSync(dir);
  writeFileSync(join(dir, 'placeholders.d.ts'), PLACEHOLDERS[runtime]);
  const files = ['placeholders.d.ts', 'entries.ts'];
  // Every entry this runtime may import, so that all their declarations are checked.
  writeFileSync(join(dir, 'entries.ts'), ENTRIES[runtime].map((s, i) => `export * as e${i} from '${s}';`).join('\n'));
  for (const e of examples.filter((x) => x.runtimes.includes(runtime))) {
    const name = `readme-line-${e.line}.ts`;
    writeFileSync(join(dir, name), e.code);
    files.push(name);
  }
  const tsconfig = {
    compilerOptions: { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, ...COMPILER_OPTIONS[runtime] },
    files,
  };
  const configFile = join(dir, 'tsconfig.json');
  writeFileSync(configFile, JSON.stringify(tsconfig, null, 2));

  const config = ts.getParsedCommandLineOfConfigFile(
    configFile,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  );
  assert.ok(config !== undefined && config.errors.length === 0, `${configFile}: ${JSON.stringify(config?.errors)}`);
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const checked = program
    .getSourceFiles()
    .filter((sf) => !sf.fileName.includes('/node_modules/') || sf.fileName.includes('/node_modules/crossbus/'));
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...checked.flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]),
  ];
  const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' };
  assert.equal(
    diagnostics.length,
    0,
    `${runtime}: the README's examples or the package's declarations do not compile:\n${ts.formatDiagnostics(diagnostics, host)}`,
  );
  assert.ok(
    checked.some((sf) => sf.fileName.includes('/node_modules/crossbus/dist/')),
    'the package was found',
  );
  return program;
}

/** The file `exports` gives `subpath` under `conditions`: `{ types, default }` at the end of the walk. */
function exportTarget(exports: unknown, conditions: string[]): { types?: string; default?: string } {
  if (typeof exports !== 'object' || exports === null) return { default: exports as string };
  const entry = exports as Record<string, unknown>;
  if (typeof entry.types === 'string' && typeof entry.default === 'string') return { types: entry.types, default: entry.default };
  for (const [condition, target] of Object.entries(entry)) {
    if (condition === 'default' || conditions.includes(condition)) return exportTarget(target, conditions);
  }
  return {};
}

/** Whether `symbol` is a value that code can import: not a type, nor a value exported with `export type`. */
function isValueExport(checker: ts.TypeChecker, symbol: ts.Symbol): boolean {
  let s: ts.Symbol | undefined = symbol;
  while (s !== undefined && s.flags & ts.SymbolFlags.Alias) {
    if (s.declarations?.some((d) => ts.isTypeOnlyImportOrExportDeclaration(d))) return false;
    s = checker.getImmediateAliasedSymbol(s);
  }
  return s !== undefined && (s.flags & ts.SymbolFlags.Value) !== 0;
}

/** Names of the values (not types) the declarations of `file` export. */
function declaredValues(program: ts.Program, file: string): string[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  assert.ok(source !== undefined, `${file} is part of the program`);
  const module = checker.getSymbolAtLocation(source);
  assert.ok(module !== undefined, file);
  return checker
    .getExportsOfModule(module)
    .filter((s) => isValueExport(checker, s))
    .map((s) => s.name)
    .sort();
}

const pkg = packAndInstall();
const programs = new Map<Runtime, ts.Program>();
function compiled(runtime: Runtime): ts.Program {
  let program = programs.get(runtime);
  if (program === undefined) {
    program = typecheck(pkg.project, runtime, readmeExamples(readFileSync(README, 'utf8')));
    programs.set(runtime, program);
  }
  return program;
}

test("the README's TypeScript examples compile against the packed package, in Node and in a browser bundle", () => {
  const examples = readmeExamples(readFileSync(README, 'utf8'));
  assert.ok(examples.some((e) => e.runtimes.includes('node')) && examples.some((e) => e.runtimes.includes('browser')));
  for (const runtime of ['node', 'browser'] as const) compiled(runtime);
});

test('in each runtime, every entry declares exactly the values its JavaScript exports', async () => {
  const manifest = JSON.parse(readFileSync(join(pkg.installed, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  for (const runtime of ['node', 'browser'] as const) {
    const program = compiled(runtime);
    for (const specifier of ENTRIES[runtime]) {
      const target = exportTarget(manifest.exports[`.${specifier.slice('crossbus'.length)}`], CONDITIONS[runtime]);
      assert.ok(target.types !== undefined && target.default !== undefined, `${runtime} ${specifier}: types and code`);
      const resolved = ts.resolveModuleName(specifier, join(pkg.project, runtime, 'entries.ts'), program.getCompilerOptions(), ts.sys);
      assert.equal(
        resolved.resolvedModule?.resolvedFileName,
        join(pkg.installed, target.types),
        `${runtime} ${specifier}: TypeScript's choice`,
      );
      const code = (await import(pathToFileURL(join(pkg.installed, target.default)).href)) as Record<string, unknown>;
      assert.deepEqual(declaredValues(program, join(pkg.installed, target.types)), Object.keys(code).sort(), `${runtime} ${specifier}`);
    }
  }
});
