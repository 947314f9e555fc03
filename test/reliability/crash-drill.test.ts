// The crash drill: real `keizoku update` processes SIGKILLed at seeded random moments and at
// every named point of an update, for each kind of learner (closed-form, gradient-trained head,
// fine-tuned backbone top). After every kill the database must be
// intact, the head a whole version (the previous one, or the one whose commit had landed),
// `predict` must answer from it, and a follow-up update must succeed from it.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PredictResultSchema, UpdateResultSchema } from '../../main/engine/api/contract.js';
import type { FaultPoint } from '../../main/engine/use-cases/fault-injection.js';
import { seededRandom } from '../../main/engine/learners/seeded-random.js';
import { CALTECH_DIR } from '../support/paths.js';
import { runCli, startCli, tempDir } from '../support/project.js';
import { drill } from './support/drill-log.js';
import { inspectState, photo } from './support/state.js';

const SEED = Number(process.env.KEIZOKU_DRILL_SEED ?? 20261202);
const CLASSES = ['airplanes', 'ketch', 'chair', 'Motorbikes', 'butterfly', 'bonsai', 'brain', 'camera', 'cup', 'anchor'];
const FAULT_POINTS: readonly FaultPoint[] = ['before-scan', 'after-embed', 'after-train', 'after-evaluate', 'inside-commit', 'after-commit'];
/** Phases the seeded kills aim at (the progress line that opens each), longest first and most often. */
const AIMED_PHASES = ['embedding', 'training', 'embedding', 'training', 'scanning', 'backbone', 'embedding', 'evaluating'] as const;
const RANDOM_KILLS_PER_LEARNER = AIMED_PHASES.length;
/** A kill lands at a seeded moment within this long after its phase began (or in a later phase, as recorded). */
const WITHIN_PHASE_MS = 300;
/** 14 killed updates, each followed by predict and a follow-up update: ~70 s on a quiet 2-core machine, 3× that under load. */
const DRILL_TIMEOUT_MS = 900_000;

/** Grows the project a little before each try, so every killed update has photos to embed and something to learn. */
class GrowingProject {
  readonly root = tempDir('keizoku-drill-');
  private readonly used = new Map<string, number>();
  private classCount = 0;

  addPhotos(className: string, count: number): void {
    const files = readdirSync(path.join(CALTECH_DIR, 'train', className)).sort();
    const from = this.used.get(className) ?? 0;
    mkdirSync(path.join(this.root, className), { recursive: true });
    for (const file of files.slice(from, from + count)) copyFileSync(path.join(CALTECH_DIR, 'train', className, file), path.join(this.root, className, file));
    this.used.set(className, from + count);
  }

  addClass(): void {
    this.addPhotos(CLASSES[this.classCount++ % CLASSES.length]!, 5);
  }

  /** New samples of known classes; every third step a new class; every fourth a removed photo. */
  grow(step: number): void {
    if (step % 3 === 2 && this.classCount < CLASSES.length) this.addClass();
    this.addPhotos(CLASSES[step % this.classCount]!, 5);
    if (step % 4 === 3) {
      const dir = path.join(this.root, CLASSES[0]!);
      const victim = readdirSync(dir).sort()[0];
      if (victim) rmSync(path.join(dir, victim));
    }
  }
}

type Kill = { kind: 'point'; point: FaultPoint } | { kind: 'random'; phase: (typeof AIMED_PHASES)[number]; delayMs: number };

/** The phase the update last reported on stderr (progress lines), or 'startup' before any. */
function lastPhase(stderr: string): string {
  const phases = [...stderr.matchAll(/^keizoku: (backbone|scanning|embedding|training|evaluating|saving)\b/gm)];
  return phases.at(-1)?.[1] ?? 'startup';
}

describe('crash drill', () => {
  for (const [index, learner] of (['analytic', 'replay', 'finetune'] as const).entries()) {
    it(`${learner}: SIGKILL at ${FAULT_POINTS.length} named points and ${RANDOM_KILLS_PER_LEARNER} seeded random moments never loses the previous version`, async () => {
      const project = new GrowingProject();
      project.addClass();
      project.addClass();
      const first = runCli(['update', '--root', project.root, '--learner', learner, '--json']);
      expect(first.status, first.stderr).toBe(0);

      const random = seededRandom(SEED + index);
      const kills: Kill[] = [
        ...FAULT_POINTS.map((point): Kill => ({ kind: 'point', point })),
        ...AIMED_PHASES.map((phase): Kill => ({ kind: 'random', phase, delayMs: Math.round(random() * WITHIN_PHASE_MS) })),
      ];
      const phases = new Map<string, number>();
      let step = 0;

      await drill(
        `crash drill, ${learner} (seed ${SEED})`,
        kills,
        async (kill) => {
          project.grow(step++);
          const before = inspectState(project.root);
          const run = startCli(
            ['update', '--root', project.root, '--json'],
            kill.kind === 'point' ? { KEIZOKU_FAULT_AT: kill.point } : {},
          );
          let phase = kill.kind === 'point' ? kill.point : 'finished first';
          if (kill.kind === 'random') {
            let exited = false;
            void run.exited.then(() => (exited = true));
            const opening = new RegExp(`^keizoku: ${kill.phase}\\b`, 'm');
            while (!exited && !opening.test(run.output().stderr)) await new Promise((resolve) => setTimeout(resolve, 5));
            await new Promise((resolve) => setTimeout(resolve, kill.delayMs));
            if (!exited) {
              phase = lastPhase(run.output().stderr);
              run.child.kill('SIGKILL');
            }
            await run.exited;
          } else {
            expect((await run.exited).signal, run.output().stderr).toBe('SIGKILL');
          }
          phases.set(phase, (phases.get(phase) ?? 0) + 1);

          // The state is whole, and its head is the previous version or the one that had committed.
          const after = inspectState(project.root);
          expect(after.integrity).toBe('ok');
          expect(after.foreignKeyProblems).toBe(0);
          const headVersion = after.versions.find((version) => version.id === after.head);
          expect(headVersion, `head ${after.head} is a stored version`).toBeDefined();
          if (after.head !== before.head) expect(headVersion!.parentId).toBe(before.head);

          // It is usable as it is: predict answers from the head...
          const predicted = runCli(['predict', '--root', project.root, '--json', photo('ketch', 3, 'test')]);
          expect(predicted.status, predicted.stderr).toBe(0);
          expect(PredictResultSchema.parse(predicted.json()).versionId).toBe(after.head);

          // ...and the next update continues from it.
          const next = runCli(['update', '--root', project.root, '--json']);
          expect(next.status, next.stderr).toBe(0);
          const result = UpdateResultSchema.parse(next.json());
          if (result.status === 'committed') expect(result.version.parentId).toBe(after.head);
          else expect(result.version.id).toBe(after.head);
          expect(inspectState(project.root).running).toBe(0);
        },
        () => [...phases].map(([phase, count]) => `${phase} ${count}`).join(', '),
      );
    }, DRILL_TIMEOUT_MS);
  }
});
