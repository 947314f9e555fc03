import { z } from 'zod';
import { readRegularFile } from '../engine/files/read-regular-file.js';
import { CliUsageError } from './options.js';

export const TOKEN_ENV = 'KEIZOKU_TOKEN';
/** A token file holds one line; anything larger is not one. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

export const TokenSchema = z.string().min(16, 'the access token must be at least 16 characters');

/**
 * The serve access token, from `--token`, `--token-file FILE` or $KEIZOKU_TOKEN (the first
 * two are exclusive; either beats the environment). The last two keep the secret out of
 * `ps`, which shows every user the command line.
 */
export async function resolveServeToken(
  flags: { token?: string | undefined; 'token-file'?: string | undefined },
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void,
): Promise<string | undefined> {
  if (flags.token !== undefined && flags['token-file'] !== undefined) throw new CliUsageError('pass either --token or --token-file, not both');
  const [token, from] =
    flags.token !== undefined
      ? [flags.token, '--token']
      : flags['token-file'] !== undefined
        ? [await readTokenFile(flags['token-file'], warn), '--token-file']
        : [env[TOKEN_ENV] || undefined, TOKEN_ENV];
  if (token === undefined) return undefined;
  const checked = TokenSchema.safeParse(token);
  if (!checked.success) throw new CliUsageError(`${from}: ${checked.error.issues[0]?.message ?? 'invalid token'}`);
  return checked.data;
}

/**
 * The first line of `file`, trimmed. Read like every file a user names (readRegularFile: opened
 * non-blocking, checked on the open descriptor), so a FIFO or device is refused, never waited
 * on. A file others may read only earns a warning: Windows reports no such modes, and secret
 * mounts (Docker's) are often 0444 by design.
 */
async function readTokenFile(file: string, warn: (line: string) => void): Promise<string> {
  const read = await readRegularFile(file, MAX_TOKEN_FILE_BYTES);
  if (!read.ok) {
    if (read.problem === 'not-regular') throw new CliUsageError(`the token file ${file} is not a regular file (${read.reason})`);
    if (read.problem === 'too-large') throw new CliUsageError(`the token file ${file} is too large for a token`);
    throw new CliUsageError(`cannot read the token file ${file}: ${read.reason}`);
  }
  if (process.platform !== 'win32' && (read.stats.mode & 0o044) !== 0) {
    warn(`keizoku: warning: the token file ${file} is readable by others; chmod 600 it`);
  }
  const line = read.bytes.toString('utf8').split(/\r?\n/, 1)[0]!.trim();
  if (!line) throw new CliUsageError(`the token file ${file} is empty`);
  return line;
}
