import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEVICE_CHOICES } from '../engine/runtime/devices.js';

/** Flags every project command accepts; validated here, at the CLI's trust boundary. */
export const COMMON_FLAGS = {
  root: { type: 'string' },
  state: { type: 'string' },
  json: { type: 'boolean', default: false },
  backbone: { type: 'string' },
  'feature-output': { type: 'string' },
  'model-dir': { type: 'string' },
  'no-download': { type: 'boolean', default: false },
  device: { type: 'string' },
  learner: { type: 'string' },
  'held-out': { type: 'string' },
  'replay-per-class': { type: 'string' },
  'replay-megabytes': { type: 'string' },
  data: { type: 'string' },
  top: { type: 'string' },
  limit: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  host: { type: 'string' },
  port: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  broker: { type: 'string' },
  every: { type: 'string' },
  fleet: { type: 'string' },
  'device-id': { type: 'string' },
  'credentials-file': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'dp-epsilon': { type: 'string' },
  'dp-delta': { type: 'string' },
  'via-aggregator': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const numberFlag = (check: z.ZodNumber) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const parsed = check.safeParse(Number(value));
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `${value}: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
        return z.NEVER;
      }
      return parsed.data;
    });

export const CommonOptionsSchema = z.object({
  root: z.string().min(1).optional(),
  state: z.string().min(1).optional(),
  json: z.boolean(),
  backbone: z.string().min(1).optional(),
  'feature-output': z.string().min(1).optional(),
  'model-dir': z.string().min(1).optional(),
  'no-download': z.boolean(),
  device: z.enum(DEVICE_CHOICES).optional(),
  learner: z.string().min(1).optional(),
  'held-out': numberFlag(z.number().min(0).lt(1)),
  'replay-per-class': numberFlag(z.number().int().min(0)),
  'replay-megabytes': numberFlag(z.number().min(0)),
  data: z.string().min(1).optional(),
  top: numberFlag(z.number().int().min(1).max(1000)),
  limit: numberFlag(z.number().int().min(1).max(10_000)),
  out: z.string().min(1).optional(),
  force: z.boolean(),
  host: z.string().min(1).optional(),
  port: numberFlag(z.number().int().min(0).max(65535)),
  token: z.string().min(16, 'at least 16 characters').optional(),
  'token-file': z.string().min(1).optional(),
  broker: z.string().min(1).optional(),
  every: numberFlag(z.number().min(1).max(86_400)),
  fleet: z.string().min(1).optional(),
  'device-id': z.string().min(1).optional(),
  'credentials-file': z.string().min(1).optional(),
  'tls-ca': z.string().min(1).optional(),
  'tls-cert': z.string().min(1).optional(),
  'tls-key': z.string().min(1).optional(),
  'dp-epsilon': numberFlag(z.number().gt(0).max(1)),
  'dp-delta': numberFlag(z.number().gt(0).lt(1)),
  'via-aggregator': z.boolean(),
  help: z.boolean(),
});
export type CommonOptions = z.infer<typeof CommonOptionsSchema>;

export class CliUsageError extends Error {}

export function parseCommandLine(argv: string[]): { command: string | undefined; options: CommonOptions; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: COMMON_FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  const [command, ...positionals] = parsed.positionals;
  // Under `fleet`, --device names this device in the fleet (elsewhere it is the compute device).
  const values: Record<string, unknown> = { ...parsed.values };
  if (command === 'fleet' && values.device !== undefined) {
    values['device-id'] = values.device;
    delete values.device;
  }
  const options = CommonOptionsSchema.safeParse(values);
  if (!options.success) {
    throw new CliUsageError(options.error.issues.map((issue) => (issue.path.length ? `--${issue.path.join('.')}: ` : '') + issue.message).join('; '));
  }
  return { command, options: options.data, positionals };
}
