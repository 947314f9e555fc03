import { AccessPolicyError } from '../server/access-policy.js';
import { toApiError } from '../engine/api/error-codes.js';
import { loadCatalog } from '../engine/backbones/catalog.js';
import { runEvaluateFolder } from '../engine/use-cases/evaluate-folder.js';
import { EngineCallError } from '../engine/host/engine-client.js';
import { runPredict } from '../engine/use-cases/predict.js';
import { Project, type ProjectOptions } from '../engine/project/project.js';
import type { StoreAccess } from '../engine/store/database.js';
import { runUpdate } from '../engine/use-cases/update.js';
import { listVersions, rollback } from '../engine/use-cases/versions.js';
import { watchProject } from '../engine/use-cases/watch-project.js';
import { runExport } from '../engine/export/export-model.js';
import { formatEval, formatExport, formatPredict, formatRollback, formatUpdate, formatVersions, formatWatch } from './format.js';
import { formatExclude, formatMove, formatReview } from './format-review.js';
import { runReview } from '../engine/use-cases/review/review.js';
import { moveSample, undoMove } from '../engine/use-cases/review/move-sample.js';
import { excludeSample, includeSample } from '../engine/use-cases/review/exclude-sample.js';
import { USAGE } from './usage.js';
import { fleetStatus, joinFleet, leaveFleet, runAggregator, runAggregatorEvery } from '../engine/use-cases/fleet-commands.js';
import { formatFleetAggregate, formatFleetJoin, formatFleetLeave, formatFleetStatus } from './format-fleet.js';
import { runServe } from './serve.js';
import { CliUsageError, parseCommandLine, type CommonOptions } from './options.js';
import { createProgressReporter } from './progress.js';

const PROJECT_COMMANDS = ['update', 'eval', 'predict', 'watch', 'versions', 'rollback', 'export', 'review', 'move', 'undo-move', 'exclude', 'include', 'fleet'] as const;
/** Commands that only look at the project: they open its state read-only, so they work on read-only media too. */
const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set(['eval', 'predict', 'versions', 'export', 'review']);

interface Outcome {
  json: object;
  text: string;
}

async function main(argv: string[]): Promise<number> {
  let command: string | undefined;
  let options: CommonOptions | undefined;
  const abort = new AbortController();
  const progress = createProgressReporter();
  try {
    const parsed = parseCommandLine(argv);
    command = parsed.command;
    options = parsed.options;
    if (options.help || !command || command === 'help') {
      process.stdout.write(USAGE);
      return command || options.help ? 0 : 2;
    }
    if (command === 'backbones') {
      const catalog = loadCatalog();
      return print({ json: { command, ...catalog }, text: catalog.backbones.map((entry) => `${entry.id === catalog.default ? '*' : ' '} ${entry.id}  ${entry.name}  (${entry.license})`).join('\n') }, options.json);
    }
    if (command === 'serve') {
      if (!options.root) throw new CliUsageError('serve needs --root DIR (the folder with one subfolder per class)');
      return await runServe(options);
    }
    if (command === 'fleet' && parsed.positionals[0] === 'aggregate') {
      if (!options.broker || !options.fleet) throw new CliUsageError('fleet aggregate needs --broker URL and --fleet NAME');
      const request = { broker: options.broker, fleet: options.fleet, credentialsFile: options['credentials-file'], ca: options['tls-ca'], cert: options['tls-cert'], key: options['tls-key'] };
      if (options.every === undefined) {
        const result = await runAggregator(request);
        return print({ json: result, text: formatFleetAggregate(result) }, options.json);
      }
      // A running aggregator: one line (or JSON object) per published sum, until Ctrl-C.
      const { every, json } = options;
      process.once('SIGINT', () => abort.abort(new Error('cancelled')));
      process.once('SIGTERM', () => abort.abort(new Error('cancelled')));
      await runAggregatorEvery(request, every * 1000, abort.signal, (round) => {
        if ('published' in round) print({ json: round.published, text: `${new Date().toISOString()} ${formatFleetAggregate(round.published)}` }, json);
        else process.stderr.write(`keizoku fleet aggregate: ${round.failed} (trying again in ${every} s)\n`);
      });
      return 0;
    }
    if (!(PROJECT_COMMANDS as readonly string[]).includes(command)) throw new CliUsageError(`unknown command '${command}'`);
    if (!options.root) throw new CliUsageError(`${command} needs --root DIR (the folder with one subfolder per class)`);

    process.once('SIGINT', () => abort.abort(new Error('cancelled')));
    process.once('SIGTERM', () => abort.abort(new Error('cancelled')));
    const readOnly = READ_ONLY_COMMANDS.has(command) || (command === 'fleet' && parsed.positionals[0] === 'status');
    if (command === 'fleet' && !['join', 'leave', 'status'].includes(parsed.positionals[0] ?? '')) throw new CliUsageError('fleet needs join, leave, status or aggregate');
    const project = Project.open(projectOptions(options, progress.listener, abort.signal, readOnly ? 'read' : 'write'));
    try {
      const outcome = await runCommand(command, project, options, parsed.positionals, abort.signal);
      progress.stop();
      return print(outcome, options.json);
    } finally {
      project.close();
    }
  } catch (error) {
    progress.stop();
    const { code, message, exitCode } = classify(error, abort.signal);
    if (options?.json ?? argv.includes('--json')) process.stdout.write(`${JSON.stringify({ command: command ?? null, error: { code, message } })}\n`);
    process.stderr.write(`keizoku: ${message}\n`);
    if (code === 'usage' && !(options?.json ?? argv.includes('--json'))) process.stderr.write(`Run 'keizoku --help' for usage.\n`);
    if (code === 'internal' && error instanceof Error && error.stack && process.env.KEIZOKU_DEBUG) process.stderr.write(`${error.stack}\n`);
    return exitCode;
  }
}

async function runCommand(command: string, project: Project, options: CommonOptions, positionals: string[], signal: AbortSignal): Promise<Outcome> {
  switch (command) {
    case 'update': {
      const result = await runUpdate(project);
      return { json: result, text: formatUpdate(result) };
    }
    case 'eval': {
      if (!options.data) throw new CliUsageError('eval needs --data DIR (a labeled folder with the same layout)');
      const result = await runEvaluateFolder(project, options.data);
      return { json: result, text: formatEval(result) };
    }
    case 'predict': {
      if (positionals.length === 0) throw new CliUsageError('predict needs one or more image files');
      const result = await runPredict(project, positionals, options.top ?? 5);
      return { json: result, text: formatPredict(result) };
    }
    case 'watch': {
      const result = await watchProject(project, signal);
      return { json: result, text: formatWatch(result) };
    }
    case 'versions': {
      const result = listVersions(project);
      return { json: result, text: formatVersions(result) };
    }
    case 'export': {
      if (!options.out) throw new CliUsageError('export needs --out FILE.onnx');
      const result = await runExport(project, options.out, { force: options.force });
      return { json: result, text: formatExport(result) };
    }
    case 'rollback': {
      const id = Number(positionals[0]);
      if (positionals.length !== 1 || !Number.isInteger(id) || id < 1) throw new CliUsageError('rollback needs one version number, e.g. rollback 3');
      const result = rollback(project, id);
      return { json: result, text: formatRollback(result) };
    }
    case 'review': {
      const result = await runReview(project, { limit: options.limit });
      return { json: result, text: formatReview(result) };
    }
    case 'move': {
      if (positionals.length !== 2) throw new CliUsageError('move needs a sample path and a class, e.g. move cats/img1.jpg dogs');
      const result = await moveSample(project, positionals[0]!, positionals[1]!);
      return { json: result, text: formatMove(result) };
    }
    case 'undo-move': {
      const id = Number(positionals[0]);
      if (positionals.length !== 1 || !Number.isInteger(id) || id < 1) throw new CliUsageError('undo-move needs one move number (see review)');
      const result = await undoMove(project, id);
      return { json: result, text: formatMove(result) };
    }
    case 'exclude':
    case 'include': {
      if (positionals.length !== 1) throw new CliUsageError(`${command} needs one sample path, e.g. ${command} cats/img1.jpg`);
      const result = command === 'exclude' ? await excludeSample(project, positionals[0]!) : includeSample(project, positionals[0]!);
      return { json: result, text: formatExclude(result) };
    }
    case 'fleet':
      return runFleetCommand(project, options, positionals);
    default:
      throw new CliUsageError(`unknown command '${command}'`);
  }
}

async function runFleetCommand(project: Project, options: CommonOptions, positionals: string[]): Promise<Outcome> {
  const action = positionals[0];
  if (positionals.length !== 1) throw new CliUsageError('fleet takes one action: join, leave or status');
  if (action === 'join') {
    if (!options.broker || !options.fleet) throw new CliUsageError('fleet join needs --broker URL and --fleet NAME');
    if ((options['dp-epsilon'] === undefined) !== (options['dp-delta'] === undefined)) throw new CliUsageError('noise needs both --dp-epsilon and --dp-delta');
    const result = await joinFleet(project, {
      broker: options.broker, fleet: options.fleet, device: options['device-id'], credentialsFile: options['credentials-file'],
      ca: options['tls-ca'], cert: options['tls-cert'], key: options['tls-key'],
      noise: options['dp-epsilon'] !== undefined && options['dp-delta'] !== undefined ? { epsilon: options['dp-epsilon'], delta: options['dp-delta'] } : undefined,
      viaAggregator: options['via-aggregator'],
    });
    return { json: result, text: formatFleetJoin(result) };
  }
  if (action === 'leave') {
    const result = await leaveFleet(project);
    return { json: result, text: formatFleetLeave(result) };
  }
  const result = await fleetStatus(project);
  return { json: result, text: formatFleetStatus(result) };
}

function projectOptions(options: CommonOptions, onProgress: ProjectOptions['onProgress'], signal: AbortSignal, access: StoreAccess): ProjectOptions {
  return {
    access,
    root: options.root!,
    stateDir: options.state,
    backbone: options.backbone,
    featureOutput: options['feature-output'],
    modelDir: options['model-dir'],
    allowDownload: !options['no-download'],
    device: options.device,
    learner: options.learner,
    heldOutFraction: options['held-out'],
    replayPerClass: options['replay-per-class'],
    replayMegabytes: options['replay-megabytes'],
    onProgress,
    signal,
  };
}

function print(outcome: Outcome, json: boolean): number {
  process.stdout.write(json ? `${JSON.stringify(outcome.json)}\n` : `${outcome.text}\n`);
  return 0;
}

/** Exit codes: 0 done (even when some files were unusable), 2 bad invocation, 1 unusable state or failure, 130 cancelled. */
function classify(error: unknown, signal: AbortSignal): { code: string; message: string; exitCode: number } {
  if (error instanceof CliUsageError || error instanceof AccessPolicyError) return { code: 'usage', message: error.message, exitCode: 2 };
  // The same codes as the app's API: serve's engine reports its start-up failure that way.
  const { code, message } = error instanceof EngineCallError ? error.error : toApiError(error, signal.aborted);
  return { code, message, exitCode: EXIT_CODES[code] ?? 1 };
}

const EXIT_CODES: Readonly<Record<string, number>> = { usage: 2, 'no-model': 2, cancelled: 130 };

process.exitCode = await main(process.argv.slice(2));
