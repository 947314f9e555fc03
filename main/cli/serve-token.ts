import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { z } from 'zod';
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
export function resolveServeToken(flags: { token?: string | undefined; 'token-file'?: string | undefined }, env: NodeJS.ProcessEnv, warn: (line: string) => void): string | undefined {
  if (flags.token !== undefined && flags['token-file'] !== undefined) throw new CliUsageError('pass either --token or --token-file, not both');
  const [token, from] =
    flags.token !== undefined ? [flags.token, '--token'] : flags['token-file'] !== undefined ? [readTokenFile(flags['token-file'], warn), '--token-file'] : [env[TOKEN_ENV] || undefined, TOKEN_ENV];
  if (token === undefined) return undefined;
  const checked = TokenSchema.safeParse(token);
  if (!checked.success) throw new CliUsageError(`${from}: ${checked.error.issues[0]?.message ?? 'invalid token'}`);
  return checked.data;
}

/**
 * The first line of `file`, trimmed. Opened non-blocking and checked on the open descriptor
 * (no stat-then-open race): a FIFO or device would otherwise block or stream forever, so
 * anything but a regular file is refused. A file others may read only earns a warning:
 * Windows reports no such modes, and secret mounts (Docker's) are often 0444 by design.
 */
function readTokenFile(file: string, warn: (line: string) => void): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new CliUsageError(`cannot read the token file ${file}: ${(error as Error).message}`);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new CliUsageError(`the token file ${file} is not a regular file`);
    if (info.size > MAX_TOKEN_FILE_BYTES) throw new CliUsageError(`the token file ${file} is too large for a token`);
    if (process.platform !== 'win32' && (info.mode & 0o044) !== 0) {
      warn(`keizoku: warning: the token file ${file} is readable by others; chmod 600 it`);
    }
    const buffer = Buffer.alloc(info.size);
    const read = readSync(fd, buffer, 0, info.size, 0);
    const line = buffer.subarray(0, read).toString('utf8').split(/\r?\n/, 1)[0]!.trim();
    if (!line) throw new CliUsageError(`the token file ${file} is empty`);
    return line;
  } finally {
    closeSync(fd);
  }
}
