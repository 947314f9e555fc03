// The fleet a project has joined, kept in its settings table under "fleet". Secrets are never
// stored: only where to read them (environment variables, or a file the user keeps private).

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { SettingsStore } from '../store/settings.js';
import { TopicNameSchema } from './message.js';

const SETTINGS_KEY = 'fleet';

export const DEFAULT_USERNAME_ENV = 'KEIZOKU_FLEET_USERNAME';
export const DEFAULT_PASSWORD_ENV = 'KEIZOKU_FLEET_PASSWORD';

export const FleetConfigSchema = z.object({
  broker: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'a broker URL: mqtt://HOST:PORT or mqtts://HOST:PORT'),
  fleet: TopicNameSchema,
  device: TopicNameSchema,
  joinedAt: z.string(),
  /** A file whose first line is the username and second line the password (chmod 600). */
  credentialsFile: z.string().min(1).optional(),
  /** TLS files for mqtts:// (a private CA, or client-certificate authentication). */
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** Gaussian noise (differential privacy) on what this device publishes; absent: none. */
  noise: z.object({ epsilon: z.number().positive(), delta: z.number().positive().lt(1) }).optional(),
  /** Read the others from the aggregator's fleet sum (one message) when it holds this device's statistics. */
  viaAggregator: z.boolean().optional(),
  /** The message version last published and the sha256 of its statistics, so re-sending the same statistics keeps the version. */
  published: z.object({ version: z.number().int().min(1), statisticsSha256: z.string() }).optional(),
});
export type FleetConfig = z.infer<typeof FleetConfigSchema>;

export function readFleetConfig(settings: SettingsStore): FleetConfig | undefined {
  const raw = settings.get<unknown>(SETTINGS_KEY);
  if (raw === undefined || raw === null) return undefined;
  const parsed = FleetConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`the project's fleet settings are unreadable (${parsed.error.issues[0]?.message}); run fleet leave, then fleet join again`);
  return parsed.data;
}

export function writeFleetConfig(settings: SettingsStore, config: FleetConfig | null): void {
  settings.set(SETTINGS_KEY, config);
}

export interface BrokerCredentials {
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Reads the secrets the config points at (a file or the environment), never argv. */
export function loadCredentials(config: FleetConfig, env: NodeJS.ProcessEnv = process.env): BrokerCredentials {
  const out: BrokerCredentials = {};
  if (config.credentialsFile) {
    const [username, password] = readFileSync(config.credentialsFile, 'utf8').split(/\r?\n/);
    if (username) out.username = username;
    if (password) out.password = password;
  } else {
    if (env[DEFAULT_USERNAME_ENV]) out.username = env[DEFAULT_USERNAME_ENV];
    if (env[DEFAULT_PASSWORD_ENV]) out.password = env[DEFAULT_PASSWORD_ENV];
  }
  if (config.ca) out.ca = readFileSync(config.ca);
  if (config.cert) out.cert = readFileSync(config.cert);
  if (config.key) out.key = readFileSync(config.key);
  return out;
}
