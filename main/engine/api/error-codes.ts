import { ChecksumMismatchError, ModelUnavailableError } from '../backbones/model-files.js';
import { NotFineTunableError } from '../backbones/resolve.js';
import { NoModelError } from '../use-cases/head-model.js';
import { UsageError } from '../project/project.js';
import { OutsideProjectError } from '../project/project-paths.js';
import { classifyStoreFailure, StoreStateError } from '../store/store-errors.js';
import { UpdateInProgressError } from '../store/updates.js';
import { HeadMovedError } from '../use-cases/update-errors.js';
import type { ApiError } from './app-api.js';

/** An operation the user cancelled; nothing it started is left half-applied. */
export class CancelledError extends Error {}

/**
 * The stable code of an engine error, the same codes the CLI prints with --json. SQLite and
 * file-system failures of the project's state (damaged, read-only, disk full) are `state`
 * wherever they surface, with a message that says what to do.
 */
export function toApiError(error: unknown, cancelled = false): ApiError {
  const message = error instanceof Error ? error.message : String(error);
  if (cancelled || error instanceof CancelledError) return { code: 'cancelled', message };
  if (error instanceof NoModelError) return { code: 'no-model', message };
  if (error instanceof UsageError || error instanceof OutsideProjectError || error instanceof NotFineTunableError) return { code: 'usage', message };
  if (error instanceof ChecksumMismatchError) return { code: 'checksum-mismatch', message };
  if (error instanceof ModelUnavailableError) return { code: 'backbone-unavailable', message };
  if (error instanceof UpdateInProgressError) return { code: 'update-in-progress', message };
  if (error instanceof HeadMovedError) return { code: 'conflict', message };
  if (error instanceof StoreStateError) return { code: 'state', message };
  // SQLite only ever speaks of the project database; a full disk stops any write the same way.
  if (/^SQLITE_|^E(NOSPC|DQUOT)$/.test(String((error as { code?: unknown } | null)?.code))) {
    const stateProblem = classifyStoreFailure(error, "the project's state folder");
    if (stateProblem) return { code: 'state', message: stateProblem.message };
  }
  return { code: 'internal', message };
}
