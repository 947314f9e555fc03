import type { ExportResult, AccuracyReport, EvalResult, PredictResult, RollbackResult, UpdateResult, VersionsResult, VersionSummary, WatchResult, FileFailure } from '../engine/api/contract.js';

/** Human-readable renderings of the same results that --json prints. */
const percent = (value: number | null) => (value === null ? '   –  ' : `${(value * 100).toFixed(1).padStart(5)}%`);
const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);

function failures(failed: readonly FileFailure[]): string[] {
  if (failed.length === 0) return [];
  const shown = failed.slice(0, 20).map((entry) => `  ${entry.path}: ${entry.reason}`);
  if (failed.length > shown.length) shown.push(`  … and ${failed.length - shown.length} more (see --json)`);
  return [`Skipped ${failed.length} file(s):`, ...shown];
}

function accuracy(report: AccuracyReport): string[] {
  const lines = [
    `Retained ${percent(report.retained)}   New ${percent(report.new)}   Overall ${percent(report.overall)}   (${report.sampleCount} held-out images)`,
  ];
  if (report.forgetting?.mean !== null && report.forgetting?.mean !== undefined) lines.push(`Forgetting ${percent(report.forgetting.mean)}`);
  const worst = [...report.perClass].filter((entry) => entry.accuracy !== null).sort((a, b) => a.accuracy! - b.accuracy!).slice(0, 5);
  if (worst.length > 0 && report.perClass.length > 1 && worst[0]!.accuracy! < 1) {
    lines.push(`Weakest classes: ${worst.map((entry) => `${entry.className} ${percent(entry.accuracy).trim()}`).join(', ')}`);
  }
  return [...lines, ...subGroups(report)];
}

/** One line per sub-group of the classes that have sub-folders, so a new look is seen on its own. */
function subGroups(report: AccuracyReport): string[] {
  if (!report.perGroup?.length) return [];
  const label = (entry: NonNullable<AccuracyReport['perGroup']>[number]) => `${entry.className} · ${entry.group ?? '(top level)'}`;
  const width = Math.max(...report.perGroup.map((entry) => label(entry).length));
  return [
    'Per sub-group:',
    ...report.perGroup.map((entry) => `  ${label(entry).padEnd(width)} ${percent(entry.accuracy)}  (${entry.correct}/${entry.count})`),
  ];
}

export function formatUpdate(result: UpdateResult): string {
  const { version, classes, samples, timingsMs } = result;
  const head =
    result.status === 'unchanged'
      ? `Nothing new to learn; version ${version.id} stays current.`
      : `Version ${version.id} (${version.learner}) learned ${samples.learned} image(s)` +
        (samples.unlearned ? `, forgot ${samples.unlearned} removed` : '') +
        `: ${classes.total} classes` +
        (classes.added.length ? `, new: ${classes.added.join(', ')}` : '') +
        (classes.removed.length ? `, removed: ${classes.removed.join(', ')}` : '') +
        '.';
  return [
    head,
    ...accuracy(result.metrics),
    `Images: ${samples.files} files, ${samples.train} train / ${samples.heldOut} held out; ${samples.embedded} embedded, ${samples.fromCache} from cache` +
      (result.device ? ` on ${result.device.device}${result.device.fallbackReason ? ` (${result.device.fallbackReason})` : ''}` : ''),
    `Took ${ms(timingsMs.total)} (embed ${ms(timingsMs.embed)}, train ${ms(timingsMs.train)}, evaluate ${ms(timingsMs.evaluate)})`,
    ...(classes.empty.length ? [`Empty class folders (no usable image yet): ${classes.empty.join(', ')}`] : []),
    ...failures(result.failed),
  ].join('\n');
}

export function formatEval(result: EvalResult): string {
  return [
    `Version ${result.versionId} on ${result.dataDir}:`,
    ...accuracy(result.metrics),
    ...(result.unknownClasses.length ? [`Not learned, not counted: ${result.unknownClasses.join(', ')}`] : []),
    ...failures(result.failed),
  ].join('\n');
}

export function formatPredict(result: PredictResult): string {
  return [
    ...result.predictions.map(
      (prediction) => `${prediction.path}: ${prediction.top.map((entry) => `${entry.className} ${(entry.confidence * 100).toFixed(1)}% (score ${entry.score.toFixed(3)})`).join(', ')}`,
    ),
    ...failures(result.failed),
  ].join('\n');
}

function versionLine(version: VersionSummary): string {
  return `${version.isHead ? '*' : ' '} ${String(version.id).padStart(3)}  ${version.createdAt.replace('T', ' ').slice(0, 19)}  ${version.learner.padEnd(8)} ${String(version.classNames.length).padStart(4)} classes  retained ${percent(version.retained)}  new ${percent(version.new)}  overall ${percent(version.overall)}`;
}

export function formatExport(result: ExportResult): string {
  return [
    `exported version ${result.versionId} (${result.classNames.length} classes, ${(result.bytes / 1024 / 1024).toFixed(1)} MiB) to ${result.out}`,
    `labels: ${result.labels}`,
    `input '${result.input.name}' [${result.input.shape.join(', ')}]; outputs '${result.outputs.scores}', '${result.outputs.probabilities}' (temperature ${result.temperature.toPrecision(3)})`,
  ].join('\n');
}

export function formatVersions(result: VersionsResult): string {
  if (result.versions.length === 0) return 'No versions yet: run keizoku update.';
  return result.versions.map(versionLine).join('\n');
}

export function formatRollback(result: RollbackResult): string {
  return `Version ${result.head.id} is current again (was ${result.previousHead ?? 'none'}).\n${versionLine(result.head)}`;
}

export function formatWatch(result: WatchResult): string {
  return [
    `Watched: ${result.events.added} added, ${result.events.changed} changed, ${result.events.removed} removed; ${result.embedded} embedded, ${result.fromCache} from cache.`,
    ...failures(result.failed),
  ].join('\n');
}
