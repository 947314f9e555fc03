// The engine's public results: what the CLI prints with --json, and what the HTTP/IPC API
// will carry. Accuracies are fractions 0–1 (null when a group has no samples); times are ms.
// Changing a field here changes a public interface: add, don't rename.
import { z } from 'zod';

export const Fraction = z.number().min(0).max(1).nullable();

export const FileFailureSchema = z.object({ path: z.string(), reason: z.string() });
export type FileFailure = z.infer<typeof FileFailureSchema>;

export const DeviceReportSchema = z.object({
  requested: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu']),
  device: z.enum(['cpu', 'cuda', 'dml', 'coreml', 'webgpu']),
  fallbackReason: z.string().optional(),
});
export type DeviceReportOut = z.infer<typeof DeviceReportSchema>;

export const ClassAccuracySchema = z.object({
  className: z.string(),
  /** 'retained': learned before this update (or before the evaluated version); 'new': added by it. */
  group: z.enum(['retained', 'new']),
  accuracy: Fraction,
  correct: z.number().int(),
  count: z.number().int(),
});

export const ForgettingSchema = z.object({
  /** Mean over retained classes of max(0, previous accuracy − current accuracy) on the same held-out samples. */
  mean: Fraction,
  perClass: z.array(z.object({ className: z.string(), previous: Fraction, current: Fraction, drop: z.number() })),
});

/** Accuracy on the held-out samples of one sub-group of a class: the first folder below its
 * class folder (`cat/sketches/x.jpg` → `sketches`); null group: files directly in the class folder. */
export const GroupAccuracySchema = z.object({
  className: z.string(),
  group: z.string().nullable(),
  accuracy: Fraction,
  correct: z.number().int(),
  count: z.number().int(),
});
export type GroupAccuracy = z.infer<typeof GroupAccuracySchema>;

export const AccuracyReportSchema = z.object({
  sampleCount: z.number().int(),
  retained: Fraction,
  new: Fraction,
  overall: Fraction,
  perClass: z.array(ClassAccuracySchema),
  /** rows: true class, columns: predicted class, both in classNames order */
  confusion: z.object({ classNames: z.array(z.string()), counts: z.array(z.array(z.number().int())) }),
  forgetting: ForgettingSchema.nullable(),
  /** Per (class, sub-group), for the classes with sub-folders; present only when some class has
   * them (and absent from versions stored before it existed). */
  perGroup: z.array(GroupAccuracySchema).optional(),
});
export type AccuracyReport = z.infer<typeof AccuracyReportSchema>;

export const VersionSummarySchema = z.object({
  id: z.number().int(),
  parentId: z.number().int().nullable(),
  createdAt: z.string(),
  learner: z.string(),
  backbone: z.string(),
  classNames: z.array(z.string()),
  trainSamples: z.number().int(),
  heldOutSamples: z.number().int(),
  retained: Fraction,
  new: Fraction,
  overall: Fraction,
  isHead: z.boolean(),
});
export type VersionSummary = z.infer<typeof VersionSummarySchema>;

/** A remote device's message that a version includes (fleet mode). */
export const FleetSourceSchema = z.object({
  device: z.string(),
  /** the device's message version counter */
  version: z.number().int(),
  /** sha256 of the message payload as received */
  sha256: z.string(),
  /** sha256 of the statistics it carries (not of when they were sent): equal means the same data */
  statisticsSha256: z.string(),
  samples: z.number().int(),
  classes: z.number().int(),
  publishedAt: z.string(),
});
export type FleetSource = z.infer<typeof FleetSourceSchema>;

/** What the fleet part of an update did: 'merged' (this device's statistics published, the others' summed in) or 'skipped' (broker unreachable: local data only). */
export const FleetUpdateReportSchema = z.object({
  status: z.enum(['merged', 'skipped']),
  fleet: z.string(),
  device: z.string(),
  reason: z.string().optional(),
  /** this device's published message; null when skipped */
  published: z.object({ version: z.number().int(), bytes: z.number().int() }).nullable(),
  /** the other devices' messages in this model (one entry, device "_sum", when read through the aggregator) */
  devices: z.array(FleetSourceSchema),
  /** 'aggregator': the others came from the aggregator's fleet sum, which holds `aggregateIncludes` */
  via: z.enum(['devices', 'aggregator']).optional(),
  aggregateIncludes: z.array(z.object({ device: z.string(), version: z.number().int(), statisticsSha256: z.string() })).optional(),
  /** messages not summed, with the reason (other backbone, precision, feature layout, learner; unreadable) */
  refused: z.array(z.object({ device: z.string(), reason: z.string() })),
  /** samples (same class, same content) held by more than one device; extra copies this device holds are subtracted exactly */
  overlap: z.object({ samples: z.number().int(), corrected: z.number().int(), uncorrected: z.number().int() }),
  /** training samples in the model: this device's plus the included devices' (minus corrected copies) */
  fleetSamples: z.number().int(),
  timingsMs: z.object({ exchange: z.number(), merge: z.number() }),
});
export type FleetUpdateReport = z.infer<typeof FleetUpdateReportSchema>;

const OverlapSchema = z.object({ samples: z.number().int(), corrected: z.number().int(), uncorrected: z.number().int() });

/** `keizoku fleet status --json`, and the app's Settings → Fleet. */
export const FleetStatusResultSchema = z.object({
  command: z.literal('fleet'),
  action: z.literal('status'),
  joined: z.boolean(),
  fleet: z.string().nullable(),
  broker: z.string().nullable(),
  device: z.string().nullable(),
  reachable: z.boolean(),
  reason: z.string().optional(),
  devices: z.array(
    z.object({
      device: z.string(),
      self: z.boolean(),
      version: z.number().int().nullable(),
      /** when the device published its latest message (its own clock), ISO 8601 */
      lastHeardAt: z.string().nullable(),
      learner: z.string().nullable(),
      backbone: z.string().nullable(),
      precision: z.string().nullable(),
      featureDim: z.number().int().nullable(),
      samples: z.number().int(),
      classes: z.array(z.object({ name: z.string(), samples: z.number().int() })),
      noisy: z.boolean(),
      /** why this device's message is not summed here; null when it is */
      refused: z.string().nullable(),
    }),
  ),
  /** what the current version includes (null: no version, or not made in a fleet) */
  head: z
    .object({
      versionId: z.number().int(),
      status: z.enum(['merged', 'skipped']),
      included: z.array(FleetSourceSchema),
      refused: z.array(z.object({ device: z.string(), reason: z.string() })),
      overlap: OverlapSchema,
    })
    .nullable(),
});
export type FleetStatusResult = z.infer<typeof FleetStatusResultSchema>;

export const UpdateResultSchema = z.object({
  command: z.literal('update'),
  /** 'committed': a new version is head; 'unchanged': nothing to learn, head kept. */
  status: z.enum(['committed', 'unchanged']),
  version: VersionSummarySchema,
  classes: z.object({ added: z.array(z.string()), removed: z.array(z.string()), empty: z.array(z.string()), total: z.number().int() }),
  samples: z.object({
    files: z.number().int(),
    train: z.number().int(),
    heldOut: z.number().int(),
    learned: z.number().int(),
    unlearned: z.number().int(),
    embedded: z.number().int(),
    fromCache: z.number().int(),
    failed: z.number().int(),
  }),
  failed: z.array(FileFailureSchema),
  metrics: AccuracyReportSchema,
  /** where the backbone ran; null when every embedding came from the cache */
  device: DeviceReportSchema.nullable(),
  /** where gradient training ran (the replay learner's ONNX graphs); null when the learner trained none */
  trainingDevice: DeviceReportSchema.nullable(),
  timingsMs: z.object({ scan: z.number(), embed: z.number(), train: z.number(), evaluate: z.number(), commit: z.number(), total: z.number() }),
  /** present when the project has joined a fleet (keizoku fleet join) */
  fleet: FleetUpdateReportSchema.optional(),
});
export type UpdateResult = z.infer<typeof UpdateResultSchema>;

export const EvalResultSchema = z.object({
  command: z.literal('eval'),
  versionId: z.number().int(),
  dataDir: z.string(),
  metrics: AccuracyReportSchema,
  /** classes in the data folder that the model has never learned (not counted in the figures) */
  unknownClasses: z.array(z.string()),
  failed: z.array(FileFailureSchema),
  device: DeviceReportSchema.nullable(),
  timingsMs: z.object({ embed: z.number(), evaluate: z.number(), total: z.number() }),
});
export type EvalResult = z.infer<typeof EvalResultSchema>;

export const PredictionSchema = z.object({
  path: z.string(),
  /** best first; score is the learner's own (ridge output or cosine), higher is more likely;
   * confidence is softmax(scores / T), a fraction 0–1, with T fitted on the version's held-out samples */
  top: z.array(z.object({ className: z.string(), score: z.number(), confidence: z.number().min(0).max(1) })),
});
export const PredictResultSchema = z.object({
  command: z.literal('predict'),
  versionId: z.number().int(),
  predictions: z.array(PredictionSchema),
  failed: z.array(FileFailureSchema),
  device: DeviceReportSchema.nullable(),
  timingsMs: z.object({ total: z.number() }),
});
export type PredictResult = z.infer<typeof PredictResultSchema>;

export const VersionsResultSchema = z.object({
  command: z.literal('versions'),
  head: z.number().int().nullable(),
  versions: z.array(VersionSummarySchema),
});
export type VersionsResult = z.infer<typeof VersionsResultSchema>;

export const RollbackResultSchema = z.object({
  command: z.literal('rollback'),
  previousHead: z.number().int().nullable(),
  head: VersionSummarySchema,
});
export type RollbackResult = z.infer<typeof RollbackResultSchema>;

export const WatchResultSchema = z.object({
  command: z.literal('watch'),
  events: z.object({ added: z.number().int(), changed: z.number().int(), removed: z.number().int() }),
  embedded: z.number().int(),
  fromCache: z.number().int(),
  failed: z.array(FileFailureSchema),
  device: DeviceReportSchema.nullable(),
});
export type WatchResult = z.infer<typeof WatchResultSchema>;

export const ExportResultSchema = z.object({
  command: z.literal('export'),
  versionId: z.number().int(),
  /** the .onnx file written: input = normalized image batch, outputs features / scores / probabilities */
  out: z.string(),
  /** labels.json beside it: class names in score order, preprocessing, output names */
  labels: z.string(),
  bytes: z.number().int(),
  classNames: z.array(z.string()),
  input: z.object({ name: z.string(), shape: z.array(z.union([z.number().int(), z.string()])) }),
  outputs: z.object({ features: z.string(), scores: z.string(), probabilities: z.string() }),
  /** softmax temperature fitted on the version's held-out samples (1 when none) */
  temperature: z.number(),
  timingsMs: z.object({ total: z.number() }),
});
export type ExportResult = z.infer<typeof ExportResultSchema>;

/** A move of a sample between class folders (Review → Move to…), undoable. */
export const SampleMoveSchema = z.object({
  id: z.number().int(),
  /** project-relative paths, posix */
  from: z.string(),
  to: z.string(),
  movedAt: z.string(),
  /** null while the move stands */
  undoneAt: z.string().nullable(),
  /** where the undo put the file: `from`, unless that name was taken meanwhile */
  undoneTo: z.string().nullable(),
});
export type SampleMove = z.infer<typeof SampleMoveSchema>;

export const ReviewResultSchema = z.object({
  command: z.literal('review'),
  versionId: z.number().int(),
  learner: z.string(),
  /** class folders a sample can be moved into, sorted */
  classNames: z.array(z.string()),
  /** held-out samples the version misclassifies, most confident first (at most --limit);
   * confidences are calibrated fractions 0–1 (softmax(scores / T), T of the version) */
  mistakes: z.array(
    z.object({
      path: z.string(),
      trueClass: z.string(),
      predictedClass: z.string(),
      confidence: z.number().min(0).max(1),
      trueClassConfidence: z.number().min(0).max(1),
    }),
  ),
  heldOut: z.object({ samples: z.number().int(), mistakes: z.number().int() }),
  /** training samples whose label the model most strongly disagrees with, out of sample (K-fold
   * cross-fitting) by confident learning; largest margin first (at most --limit) */
  labelIssues: z.array(
    z.object({
      path: z.string(),
      givenClass: z.string(),
      suggestedClass: z.string(),
      givenConfidence: z.number().min(0).max(1),
      suggestedConfidence: z.number().min(0).max(1),
      /** suggestedConfidence − givenConfidence */
      margin: z.number(),
    }),
  ),
  training: z.object({
    samples: z.number().int(),
    /** samples scored out of sample (a class's only sample cannot be) */
    judged: z.number().int(),
    issues: z.number().int(),
    /** 'exact': the learner itself without each fold (analytic, ncm); 'analytic-stand-in': an analytic
     * model on the same cached features stands in for a gradient-trained learner (replay, finetune) */
    method: z.enum(['exact', 'analytic-stand-in']),
    folds: z.number().int(),
  }),
  /** files excluded from training, newest first */
  excluded: z.array(z.object({ path: z.string(), excludedAt: z.string() })),
  /** the latest moves, newest first (undone ones too) */
  moves: z.array(SampleMoveSchema),
  timingsMs: z.object({ heldOut: z.number(), labelIssues: z.number(), total: z.number() }),
});
export type ReviewResult = z.infer<typeof ReviewResultSchema>;

export const MoveResultSchema = z.object({ command: z.enum(['move', 'undo-move']), move: SampleMoveSchema });
export type MoveResult = z.infer<typeof MoveResultSchema>;

export const ExcludeResultSchema = z.object({ command: z.enum(['exclude', 'include']), path: z.string(), excluded: z.boolean() });
export type ExcludeResult = z.infer<typeof ExcludeResultSchema>;

export const ErrorResultSchema = z.object({ command: z.string().nullable(), error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorResult = z.infer<typeof ErrorResultSchema>;

/** Progress events, shown as a bar on a terminal (stderr) and streamed to the UI. */
export interface ProgressEvent {
  phase: 'backbone' | 'scan' | 'embed' | 'train' | 'evaluate' | 'commit' | 'watch';
  done: number;
  total: number;
  message?: string;
}
export type ProgressListener = (event: ProgressEvent) => void;
