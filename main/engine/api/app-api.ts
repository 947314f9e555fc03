// The app's API: one method list with request and result schemas, shared by the Electron IPC
// bridge, the HTTP server and the renderer. Results reuse the CLI's public schemas
// (contract.ts); as there, fields are only ever added.
import { z } from 'zod';
import {
  AccuracyReportSchema,
  DeviceReportSchema,
  ExcludeResultSchema,
  ExportResultSchema,
  MoveResultSchema,
  ReviewResultSchema,
  FileFailureSchema,
  FleetStatusResultSchema,
  PredictResultSchema,
  RollbackResultSchema,
  UpdateResultSchema,
  VersionSummarySchema,
  VersionsResultSchema,
} from './contract.js';

/** Largest single image accepted by import and predict (bytes, before base64). */
export const MAX_IMAGE_BYTES = 25 * 1024 * 1024;
/** Largest request body the server reads (base64 inflates by 4/3). */
export const MAX_REQUEST_BYTES = 120 * 1024 * 1024;

const base64Image = z.string().max(Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 4, 'image larger than 25 MB');
/** A name of one path segment, as the user typed or dropped it; checked again where it is used. */
const segment = z.string().min(1).max(255);
/** A sample's project-relative path (posix); the engine checks it stays inside the project. */
const samplePath = z.string().min(1).max(4096);

export const ClassCardSchema = z.object({
  name: z.string(),
  /** usable-looking files in the folder now (not yet judged by the decoder counts here too) */
  files: z.number().int(),
  ready: z.number().int(),
  /** files the last update did not see (added or changed since) */
  newSinceUpdate: z.number().int(),
  failed: z.number().int(),
  /** 'learned': in the current model; 'new': folder not in the model yet; 'removed': in the model, folder gone */
  status: z.enum(['learned', 'new', 'removed']),
  /** up to four relPaths for thumbnails, of files the decoder has accepted */
  thumbnails: z.array(z.string()),
  /** files per subfolder (the first folder below the class folder), sorted by name; only for classes that have subfolders */
  subGroups: z.array(z.object({ name: z.string(), files: z.number().int() })).optional(),
});
export type ClassCard = z.infer<typeof ClassCardSchema>;

export const ProjectSettingsSchema = z.object({
  backbone: z.string(),
  device: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu']),
  learner: z.string(),
  replayPerClass: z.number().int().min(0).max(100_000),
  /** total replay budget in MB for learners that keep a buffer; 0: use replayPerClass */
  replayMegabytes: z.number().min(0).max(100_000),
  heldOutFraction: z.number().min(0).lt(1),
});
export type AppSettings = z.infer<typeof ProjectSettingsSchema>;

export const OverviewSchema = z.object({
  root: z.string(),
  classes: z.array(ClassCardSchema),
  totals: z.object({ files: z.number().int(), ready: z.number().int(), newSinceUpdate: z.number().int(), failed: z.number().int() }),
  failed: z.array(FileFailureSchema),
  head: VersionSummarySchema.nullable(),
  /** whether an update would learn something (new files or classes, removed ones) */
  hasChanges: z.boolean(),
  /** the app's folder watcher: 'starting' until its first scan is done (set by the app's engine host) */
  watcher: z.enum(['starting', 'watching', 'paused', 'stopped']).optional(),
  /** the state folder cannot be written (read-only media): the app shows versions, results and predictions only */
  readOnly: z.boolean().optional(),
});
export type Overview = z.infer<typeof OverviewSchema>;

export const VersionDetailSchema = z.object({
  version: VersionSummarySchema,
  metrics: AccuracyReportSchema,
  device: DeviceReportSchema.nullable(),
  /** classes first learned in this version */
  addedClasses: z.array(z.string()),
});
export type VersionDetail = z.infer<typeof VersionDetailSchema>;

/** What a learner does and what it costs, in words (main/engine/learners/descriptions.ts). */
export const LearnerDescriptionSchema = z.object({ summary: z.string(), cost: z.string() });
export type LearnerDescriptionOut = z.infer<typeof LearnerDescriptionSchema>;

export const SettingsResultSchema = z.object({
  settings: ProjectSettingsSchema,
  backbones: z.array(z.object({ id: z.string(), name: z.string(), bytes: z.number().int(), featureDim: z.number().int(), isDefault: z.boolean() })),
  learners: z.array(z.string()),
  /** by learner id, for the ids in `learners` that have one */
  learnerDescriptions: z.record(z.string(), LearnerDescriptionSchema),
  devices: z.array(z.string()),
  /** the provider the last inference ran on, and why when it is not the one asked for */
  activeDevice: DeviceReportSchema.nullable(),
});
export type SettingsResult = z.infer<typeof SettingsResultSchema>;

export const ImportResultSchema = z.object({
  imported: z.array(z.string()),
  rejected: z.array(FileFailureSchema),
});
export type ImportResult = z.infer<typeof ImportResultSchema>;

export const ThumbnailResultSchema = z.object({ path: z.string(), dataUrl: z.string() });

/** Every method: its request and its result. */
export const API = {
  overview: { request: z.object({}).strict(), result: OverviewSchema },
  update: { request: z.object({}).strict(), result: UpdateResultSchema },
  cancelUpdate: { request: z.object({}).strict(), result: z.object({ cancelled: z.boolean() }) },
  versions: { request: z.object({}).strict(), result: VersionsResultSchema },
  versionDetail: { request: z.object({ id: z.number().int().min(1) }).strict(), result: VersionDetailSchema },
  rollback: { request: z.object({ id: z.number().int().min(1) }).strict(), result: RollbackResultSchema },
  importFiles: {
    request: z
      .object({ files: z.array(z.object({ className: segment, fileName: segment, dataBase64: base64Image })).min(1).max(2000) })
      .strict(),
    result: ImportResultSchema,
  },
  predictImages: {
    request: z
      .object({
        images: z.array(z.object({ name: segment, dataBase64: base64Image })).min(1).max(20),
        top: z.number().int().min(1).max(50).optional(),
        /** false: do not keep these images' embeddings in the project's cache (a live camera's frames are never seen twice) */
        keepEmbeddings: z.boolean().optional(),
      })
      .strict(),
    result: PredictResultSchema,
  },
  thumbnail: { request: z.object({ path: z.string().min(1).max(4096) }).strict(), result: ThumbnailResultSchema },
  /** a sample at up to 1024 px (Review's preview), same form as thumbnail */
  samplePreview: { request: z.object({ path: samplePath }).strict(), result: ThumbnailResultSchema },
  settings: { request: z.object({}).strict(), result: SettingsResultSchema },
  setSettings: { request: ProjectSettingsSchema.partial().strict(), result: SettingsResultSchema },
  prepareBackbone: { request: z.object({}).strict(), result: z.object({ backbone: z.string(), featureDim: z.number().int() }) },
  /** the current version as one ONNX file + labels.json in the project's state folder (exports/v<N>/);
   * `keizoku serve` offers both for download at `api/exported/v<N>/model.onnx` and `…/labels.json` */
  exportModel: { request: z.object({}).strict(), result: ExportResultSchema },
  /** what the current version gets wrong: held-out mistakes and suspected label errors */
  review: { request: z.object({ limit: z.number().int().min(1).max(10_000).optional() }).strict(), result: ReviewResultSchema },
  /** moves a sample into another class folder (never overwriting; undoable) */
  moveSample: { request: z.object({ path: samplePath, toClass: segment }).strict(), result: MoveResultSchema },
  undoMove: { request: z.object({ id: z.number().int().min(1) }).strict(), result: MoveResultSchema },
  /** leaves a sample out of training from the next update on; includeSample undoes it */
  excludeSample: { request: z.object({ path: samplePath }).strict(), result: ExcludeResultSchema },
  includeSample: { request: z.object({ path: samplePath }).strict(), result: ExcludeResultSchema },
  /** the fleet this project joined (keizoku fleet join) and what the broker holds: as `keizoku fleet status --json` */
  fleetStatus: { request: z.object({}).strict(), result: FleetStatusResultSchema },
} as const;

export type ApiMethod = keyof typeof API;
export const API_METHODS = Object.keys(API) as ApiMethod[];
export type ApiRequest<M extends ApiMethod> = z.infer<(typeof API)[M]['request']>;
export type ApiResult<M extends ApiMethod> = z.infer<(typeof API)[M]['result']>;

export function isApiMethod(name: string): name is ApiMethod {
  return Object.hasOwn(API, name);
}

/** Errors carry a stable code (the CLI's codes) and a message for the user. */
export const ApiErrorSchema = z.object({ code: z.string(), message: z.string() });
export type ApiError = z.infer<typeof ApiErrorSchema>;

/** Pushed to every connected UI: progress of the running task, and "the folder changed". */
export const EngineEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    task: z.enum(['update', 'watch', 'backbone', 'predict']),
    phase: z.enum(['backbone', 'scan', 'embed', 'train', 'evaluate', 'commit', 'watch']),
    done: z.number(),
    total: z.number(),
    message: z.string().optional(),
  }),
  z.object({ type: z.literal('task'), task: z.enum(['update', 'watch']), state: z.enum(['started', 'finished', 'failed', 'cancelled']), message: z.string().optional() }),
  z.object({ type: z.literal('changed'), what: z.enum(['files', 'versions', 'settings']) }),
]);
export type EngineEvent = z.infer<typeof EngineEventSchema>;
