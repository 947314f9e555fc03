import { ChecksumMismatchError, ModelUnavailableError } from '../backbones/model-files.js';
import { NoModelError } from '../head-model.js';
import { UsageError } from '../project.js';
import { OutsideProjectError } from '../project-paths.js';
import { StoreVersionError } from '../store/database.js';
import { UpdateInProgressError } from '../store/updates.js';
import type { ApiError } from './app-api.js';

/** An operation the user cancelled; nothing it started is left half-applied. */
export class CancelledError extends Error {}

/** The stable code of an engine error, the same codes the CLI prints with --json. */
export function toApiError(error: unknown, cancelled = false): ApiError {
  const message = error instanceof Error ? error.message : String(error);
  if (cancelled || error instanceof CancelledError) return { code: 'cancelled', message };
  if (error instanceof NoModelError) return { code: 'no-model', message };
  if (error instanceof UsageError || error instanceof OutsideProjectError) return { code: 'usage', message };
  if (error instanceof ChecksumMismatchError) return { code: 'checksum-mismatch', message };
  if (error instanceof ModelUnavailableError) return { code: 'backbone-unavailable', message };
  if (error instanceof UpdateInProgressError) return { code: 'update-in-progress', message };
  if (error instanceof StoreVersionError) return { code: 'state', message };
  return { code: 'internal', message };
}
