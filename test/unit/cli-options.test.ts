/**
 * The CLI's option declarations: parseArgs config and help derived from one spec, help defaults
 * read from the DEFAULT_* constants, usage errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HELP_OPTION,
  UsageError,
  defineOptions,
  didYouMean,
  editDistance,
  intOption,
  isUsageError,
  optionsHelp,
  parseArgsOptions,
  parseOptions,
  pickOptions,
  usageErrorText,
} from '../../src/cli/options.js';
import { HUB_HELP, HUB_OPTIONS } from '../../src/cli/commands/hub.js';
import { DLQ_HELP } from '../../src/cli/commands/dlq.js';
import { STREAM_HELP } from '../../src/cli/commands/stream.js';
import { AUDIT_HELP } from '../../src/cli/commands/audit.js';
import { PROGRESS_THRESHOLD } from '../../src/cli/progress.js';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  DEFAULT_MAX_DUPLICATE_IDS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_MESSAGES,
  DEFAULT_MAX_TOPIC_LENGTH,
  DEFAULT_MAX_TOTAL_QUEUED_BYTES,
  DEFAULT_SLOW_CONSUMER_POLICY,
} from '../../src/core/defaults.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../../src/hub/defaults.js';
import { DEFAULT_REPLAY_RATE, DEFAULT_TAIL_ENTRIES } from '../../src/cli/defaults.js';

const SPECS = defineOptions({
  port: { type: 'string', placeholder: '<n>', description: 'TCP port', default: 7070 },
  verbose: { type: 'boolean', short: 'v', description: 'say more' },
  n: { type: 'string', short: 'n', placeholder: '<count>', description: 'how many' },
  ...HELP_OPTION,
});

describe('option specs', () => {
  test('parseArgs gets type and short only: a help default is never applied as a value', () => {
    assert.deepEqual(parseArgsOptions(SPECS), {
      port: { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      n: { type: 'string', short: 'n' },
      help: { type: 'boolean', short: 'h' },
    });
    const { values, positionals } = parseOptions(SPECS, ['x', '-v', '-n', '3']);
    assert.deepEqual({ ...values }, { verbose: true, n: '3' });
    assert.deepEqual(positionals, ['x']);
  });

  test('strict: an unknown flag or a positional where none is allowed is a usage error', () => {
    for (const [args, positionals] of [
      [['--bogus'], true],
      [['x'], false],
    ] as const) {
      let caught: unknown;
      try {
        parseOptions(SPECS, [...args], positionals);
      } catch (err) {
        caught = err;
      }
      assert.ok(isUsageError(caught), String(caught));
    }
    assert.ok(isUsageError(new UsageError('x')));
    assert.ok(!isUsageError(new Error('x')));
    assert.ok(!isUsageError(undefined));
  });

  test("pickOptions takes a subcommand's flags", () => {
    assert.deepEqual(Object.keys(pickOptions(SPECS, ['n', 'help'])), ['n', 'help']);
  });

  test('help: flags, placeholders, shorts and defaults; descriptions in one column across sections', () => {
    const text = optionsHelp([
      { title: 'Options:', options: SPECS },
      { title: 'More:', options: { 'a-much-longer-flag': { type: 'boolean', description: 'd' } } },
    ]);
    assert.equal(
      text,
      [
        'Options:',
        '  --port <n>            TCP port (default 7070)',
        '  -v, --verbose         say more',
        '  -n <count>            how many',
        '  -h, --help            show this help',
        '',
        'More:',
        '  --a-much-longer-flag  d',
      ].join('\n'),
    );
  });

  test('help: long descriptions wrap under their column; a default is never split', () => {
    const text = optionsHelp([
      {
        title: 'Options:',
        options: {
          x: { type: 'string', placeholder: '<v>', description: 'word '.repeat(30).trim(), default: 'a long default value' },
        },
      },
    ]);
    const lines = text.split('\n').slice(1);
    assert.ok(lines.length > 1);
    assert.ok(
      lines.every((l) => l.length <= 100),
      text,
    );
    assert.ok(
      lines.slice(1).every((l) => l.startsWith(' '.repeat(21)) && l[21] !== ' '),
      text,
    );
    assert.ok(
      lines.some((l) => l.includes('(default a long default value)')),
      text,
    );
  });

  test('usage errors: the message, then where the help is', () => {
    assert.equal(usageErrorText('hub', 'bad'), "crossbus: bad\nRun 'crossbus hub --help' for usage.\n");
    assert.equal(usageErrorText(undefined, 'bad'), "crossbus: bad\nRun 'crossbus --help' for usage.\n");
    assert.equal(intOption('port', undefined, 0, 9), undefined);
    assert.equal(intOption('port', '7', 0, 9), 7);
    assert.throws(
      () => intOption('port', '70', 0, 9),
      (err: unknown) => err instanceof UsageError && /--port must be an integer in 0\.\.9, got "70"/.test(err.message),
    );
  });
});

describe('command help', () => {
  test('hub: every flag is listed, with the defaults the code falls back on', () => {
    for (const name of Object.keys(HUB_OPTIONS)) assert.match(HUB_HELP, new RegExp(`--${name}\\b`), name);
    const defaults: Array<[string, string | number]> = [
      ['host', DEFAULT_HOST],
      ['port', DEFAULT_PORT],
      ['max-frame', DEFAULT_MAX_FRAME_BYTES],
      ['max-topic', DEFAULT_MAX_TOPIC_LENGTH],
      ['max-queue-bytes', DEFAULT_MAX_QUEUED_BYTES],
      ['max-queue-messages', DEFAULT_MAX_QUEUED_MESSAGES],
      ['max-total-queue-bytes', DEFAULT_MAX_TOTAL_QUEUED_BYTES],
      ['slow-consumer', DEFAULT_SLOW_CONSUMER_POLICY],
      ['max-connections', DEFAULT_MAX_CONNECTIONS],
      ['max-pending-handshakes', DEFAULT_MAX_PENDING_HANDSHAKES],
      ['max-duplicate-ids', DEFAULT_MAX_DUPLICATE_IDS],
      ['heartbeat-ms', DEFAULT_HEARTBEAT_MS],
    ];
    // The flag's line, or the lines its description wraps onto (up to the next flag).
    for (const [flag, value] of defaults)
      assert.match(HUB_HELP, new RegExp(`--${flag} <[a-z]+> (?:(?!\\n {2}-)[^])*\\(default ${value}\\)`), flag);
  });

  test('stream, dlq and audit: defaults from their constants', () => {
    assert.match(DLQ_HELP, new RegExp(`--rate <n> (?:(?!\\n {2}-)[^])*\\(default ${DEFAULT_REPLAY_RATE}\\)`));
    assert.match(STREAM_HELP, new RegExp(`--progress (?:(?!\\n {2}-)[^])*\\(default for more than ${PROGRESS_THRESHOLD} messages\\)`));
    assert.match(AUDIT_HELP, new RegExp(`-n <count> .*\\(default ${DEFAULT_TAIL_ENTRIES}\\)`));
  });
});

describe('our words for parseArgs refusals', () => {
  const refusal = (args: string[]): string => {
    try {
      parseOptions(SPECS, args);
    } catch (err) {
      assert.ok(isUsageError(err));
      return (err as Error).message;
    }
    assert.fail(`${args.join(' ')} was accepted`);
  };

  test('an unknown flag names the closest one (edit distance); a far one names none', () => {
    assert.equal(refusal(['--prot', '1']), 'unknown option --prot (did you mean --port?)');
    assert.equal(refusal(['--verbsoe']), 'unknown option --verbsoe (did you mean --verbose?)');
    assert.equal(refusal(['--zzzzzzzz']), 'unknown option --zzzzzzzz');
    assert.equal(refusal(['--port']), '--port needs a value');
    assert.equal(refusal(['--verbose=1']), '--verbose takes no value');
  });

  test('--secret is refused without echoing the value, pointing to --secret-file', () => {
    for (const args of [['--secret', 'c2VjcmV0'], ['--secret=c2VjcmV0']]) {
      const text = refusal(args);
      assert.match(text, /--secret-file <path>.*CROSSBUS_SECRET_FILE/);
      assert.doesNotMatch(text, /c2VjcmV0/);
    }
  });

  test('editDistance and didYouMean', () => {
    assert.equal(editDistance('sub', 'pub'), 1);
    assert.equal(editDistance('reqeust', 'request'), 1, 'a transposition is one edit');
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(didYouMean('stram', ['stream', 'stats', 'sub']), 'stream');
    assert.equal(didYouMean('xyz', ['stream', 'stats']), undefined);
  });

  test('a multiple string flag collects every value; help shows it repeats', () => {
    const specs = defineOptions({ header: { type: 'string', multiple: true, placeholder: '<k=v>', description: 'h' } });
    assert.deepEqual(parseOptions(specs, ['--header', 'a=1', '--header', 'b=2']).values.header, ['a=1', 'b=2']);
    assert.match(optionsHelp([{ title: 'Options:', options: specs }]), /--header <k=v> \.\.\./);
  });
});
