// A script's command line: node:util parseArgs in strict mode, and what bad input ends in.
// An unknown option, an option without its value, a word where none is taken, a number
// that is none or too small, a folder that is not what the option names: each is a
// UsageError, and the script ends with one line naming the problem, then its usage text,
// on stderr, exit code 2 (anything else that fails is the script's own failure: its stack,
// exit code 1).
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad command-line input: the message names the option and what is wrong with it. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options' values (strict: unknown options, missing values and positionals refused). */
export function parseOptions<O extends Options>(options: O, args: string[] = process.argv.slice(2)) {
  try {
    return parseArgs({ options, args, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // node:util's parseArgs errors: ERR_PARSE_ARGS_UNKNOWN_OPTION and the like.
    if (String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_'))
      throw new UsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
    throw err;
  }
}

/** `--option`'s value as a whole number of at least `min`. */
export function wholeNumber(value: string, option: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min)
    throw new UsageError(`--${option} must be a whole number of at least ${min}, not "${value}"`);
  return n;
}

/**
 * The exit code for what ended `script`'s main, its text written to stderr: a UsageError,
 * its line and the usage (2); anything else, its stack (1).
 */
export function exitCodeFor(script: string, usage: string, err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`${script}: ${err.message}\n${usage.endsWith('\n') ? usage : `${usage}\n`}`);
    return 2;
  }
  process.stderr.write(`${script} failed: ${(err as Error).stack ?? String(err)}\n`);
  return 1;
}
