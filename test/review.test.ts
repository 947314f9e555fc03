// The Review screen's engine: held-out mistakes, suspected label errors judged out of sample,
// and the safe file actions (move, undo, exclude) on a real project of Caltech photos with a
// deliberately mislabeled file in each split.
import { copyFileSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExcludeResultSchema, MoveResultSchema, ReviewResultSchema } from '../main/engine/api/contract.js';
import { getLearner, noFeatures } from '../main/engine/learners/index.js';
import { OutsideProjectError } from '../main/engine/project/project-paths.js';
import { Project, UsageError, type ProjectOptions } from '../main/engine/project/project.js';
import { loadHeadModel } from '../main/engine/use-cases/head-model.js';
import { crossFittedScores, FOLDS } from '../main/engine/use-cases/review/cross-fit.js';
import { excludeSample, includeSample } from '../main/engine/use-cases/review/exclude-sample.js';
import { findLabelIssues } from '../main/engine/use-cases/review/label-issues.js';
import { moveSample, undoMove } from '../main/engine/use-cases/review/move-sample.js';
import { outOfSampleProbabilities } from '../main/engine/use-cases/review/out-of-sample.js';
import { runReview } from '../main/engine/use-cases/review/review.js';
import { projectOverview } from '../main/engine/use-cases/overview.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { watchProject } from '../main/engine/use-cases/watch-project.js';
import { photoOnSide } from './support/mislabeled.js';
import { CORAL_DIR } from './support/paths.js';
import { addCaltechClasses, runCli, tempDir, TEST_CACHE_DIR } from './support/project.js';

const open = (root: string, extra: Partial<ProjectOptions> = {}) => Project.open({ root, modelDir: CORAL_DIR, cacheDir: TEST_CACHE_DIR, device: 'cpu', ...extra });

async function withProject<T>(root: string, fn: (project: Project) => Promise<T>, extra: Partial<ProjectOptions> = {}): Promise<T> {
  const project = open(root, extra);
  try {
    return await fn(project);
  } finally {
    project.close();
  }
}

/**
 * airplanes / ketch / Motorbikes, 15 photos each, plus an airplane filed under ketch (trained
 * on) and a motorbike filed under airplanes (held out).
 */
function mislabeledProject(): { root: string; planeInKetch: string; bikeInAirplanes: string; ketch: string[]; airplanes: string[] } {
  const root = tempDir('keizoku-review-');
  addCaltechClasses(root, ['airplanes', 'ketch', 'Motorbikes'], { limit: 15 });
  const [ketch, airplanes] = ['ketch', 'airplanes'].map((name) => readdirSync(path.join(root, name)).sort().map((file) => `${name}/${file}`));
  copyFileSync(photoOnSide('airplanes', 'train'), path.join(root, 'ketch', 'plane-in-ketch.jpg'));
  copyFileSync(photoOnSide('Motorbikes', 'heldout'), path.join(root, 'airplanes', 'bike-in-airplanes.jpg'));
  return { root, planeInKetch: 'ketch/plane-in-ketch.jpg', bikeInAirplanes: 'airplanes/bike-in-airplanes.jpg', ketch: ketch!, airplanes: airplanes! };
}

const embeddingCount = (project: Project) => project.store.db.prepare('SELECT count(*) FROM embeddings').pluck().get() as number;

describe('review: what the current version gets wrong', () => {
  const { root, planeInKetch, bikeInAirplanes, ketch, airplanes } = mislabeledProject();

  it('lists the mislabeled held-out file among the mistakes and the mislabeled training file among suspected label errors', async () => {
    const first = await withProject(root, runUpdate);
    expect(first.status).toBe('committed');
    const review = await withProject(root, (project) => {
      expect(project.store.samples.get(planeInKetch)?.split).toBe('train');
      expect(project.store.samples.get(bikeInAirplanes)?.split).toBe('heldout');
      return runReview(project);
    });
    ReviewResultSchema.parse(review);
    expect(review.training.method).toBe('exact');
    expect(review.training.folds).toBe(FOLDS);
    expect(review.training.judged).toBe(review.training.samples);
    const mistake = review.mistakes.find((entry) => entry.path === bikeInAirplanes);
    expect(mistake).toMatchObject({ trueClass: 'airplanes', predictedClass: 'Motorbikes' });
    expect(mistake!.confidence).toBeGreaterThan(mistake!.trueClassConfidence);
    // Most confident first.
    expect(review.mistakes.map((entry) => entry.confidence)).toEqual([...review.mistakes.map((entry) => entry.confidence)].sort((a, b) => b - a));
    const issue = review.labelIssues.find((entry) => entry.path === planeInKetch);
    expect(issue).toMatchObject({ givenClass: 'ketch', suggestedClass: 'airplanes' });
    expect(issue!.margin).toBeGreaterThan(0);
    // The clear case leads the list, and clean photos are seldom suspected.
    expect(review.labelIssues[0]!.path).toBe(planeInKetch);
    expect(review.training.issues).toBeLessThan(review.training.samples / 5);
    expect(review.classNames).toEqual(['Motorbikes', 'airplanes', 'ketch']);
  });

  it('scores training samples out of sample: each fold exactly as the learner retrained without it would', async () => {
    await withProject(root, async (project) => {
      const { version, learner, state, backbone } = await loadHeadModel(project);
      const members = project.store.versions.members(version.id);
      const rows = {
        features: project.store.embeddings.matrix(members.map((member) => member.contentHash), backbone.key, backbone.featureDim),
        labels: members.map((member) => member.className),
        keys: members.map((member) => member.contentHash),
        count: members.length,
        dim: backbone.featureDim,
      };
      const fit = await crossFittedScores(version.learner, learner, state, rows);
      // Retrain from nothing on every member outside fold 0, and score fold 0 with it.
      const foldOf = (hash: string) => Number.parseInt(hash.slice(13, 21), 16) % FOLDS;
      const inFold = members.flatMap((member, row) => (foldOf(member.contentHash) === 0 ? [row] : []));
      const outside = members.flatMap((member, row) => (foldOf(member.contentHash) === 0 ? [] : [row]));
      expect(inFold.length).toBeGreaterThan(0);
      const select = (indices: number[]) => {
        const features = new Float32Array(indices.length * rows.dim);
        indices.forEach((row, i) => features.set(rows.features.subarray(row * rows.dim, (row + 1) * rows.dim), i * rows.dim));
        return { features, labels: indices.map((row) => rows.labels[row]!), count: indices.length, dim: rows.dim };
      };
      const analytic = getLearner('analytic');
      const retrained = await analytic.update(null, { classNames: fit.classNames, added: select(outside), removed: noFeatures(rows.dim) });
      const expected = await analytic.predict(retrained, select(inFold).features, inFold.length);
      const C = fit.classNames.length;
      inFold.forEach((row, i) => {
        for (let c = 0; c < C; c++) expect(fit.scores[row * C + c]).toBeCloseTo(expected[i * C + c]!, 3);
      });
      // …and not what the head (which saw them) says.
      const head = await learner.predict(state, select(inFold).features, inFold.length);
      expect(inFold.some((row, i) => Math.abs(head[i * C]! - fit.scores[row * C]!) > 1e-3)).toBe(true);
    });
  });

  it('judges gradient-trained learners by an analytic stand-in, on pooled activations for finetune', async () => {
    await withProject(root, async (project) => {
      const { version, learner, state, backbone } = await loadHeadModel(project);
      const members = project.store.versions.members(version.id);
      const dim = backbone.featureDim;
      const features = project.store.embeddings.matrix(members.map((member) => member.contentHash), backbone.key, dim);
      const rows = { features, labels: members.map((member) => member.className), keys: members.map((member) => member.contentHash), count: members.length, dim };
      // Computed once per version and open store: the Review screen's reloads reuse it.
      const model = { version, learner, state, backbone };
      expect(await outOfSampleProbabilities(project.store, model)).toBe(await outOfSampleProbabilities(project.store, model));
      const standIn = await crossFittedScores('replay', learner, state, rows);
      expect(standIn.method).toBe('analytic-stand-in');
      // analytic itself is exact, so the stand-in for the same features gives the same scores.
      const exact = await crossFittedScores('analytic', learner, state, rows);
      standIn.scores.forEach((score, i) => expect(score).toBeCloseTo(exact.scores[i]!, 3));
      // Activations [dim, 2, 2] whose four cells repeat each feature pool back to the features.
      const activations = new Float32Array(rows.count * dim * 4);
      for (let row = 0; row < rows.count; row++) for (let j = 0; j < dim; j++) activations.fill(features[row * dim + j]!, (row * dim + j) * 4, (row * dim + j + 1) * 4);
      const pooled = await crossFittedScores('finetune', learner, state, { ...rows, features: activations, dim: dim * 4 }, [dim, 2, 2]);
      pooled.scores.forEach((score, i) => expect(score).toBeCloseTo(exact.scores[i]!, 3));
      const planted = members.findIndex((member) => member.className === 'ketch' && project.store.samples.get(planeInKetch)?.contentHash === member.contentHash);
      const C = exact.classNames.length;
      expect(standIn.scores[planted * C + exact.classNames.indexOf('airplanes')]).toBeGreaterThan(standIn.scores[planted * C + exact.classNames.indexOf('ketch')]!);
    });
  });

  it('moves a file to its right class without overwriting, and undoes the move to the exact path', async () => {
    // A different photo already holds the name in the target class.
    // (a copy of one already there, so the next update has nothing new to learn from it)
    const squatter = path.join(root, 'airplanes', 'plane-in-ketch.jpg');
    copyFileSync(path.join(root, airplanes[0]!), squatter);
    const squatterBytes = readFileSync(squatter);
    const originalBytes = readFileSync(path.join(root, planeInKetch));
    await withProject(root, async (project) => {
      const before = project.store.samples.get(planeInKetch)!;
      const moved = MoveResultSchema.parse(await moveSample(project, planeInKetch, 'airplanes'));
      expect(moved.move).toMatchObject({ from: planeInKetch, to: 'airplanes/plane-in-ketch (2).jpg', undoneAt: null });
      expect(existsSync(path.join(root, planeInKetch))).toBe(false);
      expect(readFileSync(path.join(root, moved.move.to))).toEqual(originalBytes);
      expect(readFileSync(squatter)).toEqual(squatterBytes);
      // The samples row followed the file: same content, so the same cached embedding.
      expect(project.store.samples.get(planeInKetch)).toBeUndefined();
      expect(project.store.samples.get(moved.move.to)).toMatchObject({ className: 'airplanes', contentHash: before.contentHash, status: 'ready', split: null });

      const undone = MoveResultSchema.parse(await undoMove(project, moved.move.id));
      expect(undone.move.undoneTo).toBe(planeInKetch);
      expect(readFileSync(path.join(root, planeInKetch))).toEqual(originalBytes);
      expect(existsSync(path.join(root, moved.move.to))).toBe(false);
      expect(readFileSync(squatter)).toEqual(squatterBytes);
      expect(project.store.samples.get(planeInKetch)).toEqual(before);
      await expect(undoMove(project, moved.move.id)).rejects.toThrow(/already undone/);
    });
  });

  it('undoes into a free name when the original one was taken meanwhile', async () => {
    await withProject(root, async (project) => {
      const moved = await moveSample(project, ketch[0]!, 'Motorbikes');
      const taker = path.join(root, ketch[0]!);
      writeFileSync(taker, 'not a photo, but a file that must survive');
      const undone = await undoMove(project, moved.move.id);
      const freeName = ketch[0]!.replace(/\.jpg$/, ' (2).jpg');
      expect(undone.move.undoneTo).toBe(freeName);
      expect(readFileSync(taker, 'utf8')).toBe('not a photo, but a file that must survive');
      expect(existsSync(path.join(root, moved.move.to))).toBe(false);
      expect(project.store.samples.get(freeName)?.className).toBe('ketch');
    });
  });

  it('moves onto a name whose file is gone but whose samples row was left behind', async () => {
    await withProject(root, async (project) => {
      const source = project.store.samples.get(ketch[4]!)!;
      const stale = `Motorbikes/${ketch[4]!.slice('ketch/'.length)}`;
      project.store.samples.upsertMany([{ relPath: stale, className: 'Motorbikes', contentHash: null, size: 1, mtimeMs: 1, status: 'failed', reason: 'gone' }]);
      const moved = await moveSample(project, ketch[4]!, 'Motorbikes');
      expect(moved.move.to).toBe(stale);
      expect(project.store.samples.get(stale)).toMatchObject({ className: 'Motorbikes', contentHash: source.contentHash, status: 'ready' });
      await undoMove(project, moved.move.id);
      expect(project.store.samples.get(ketch[4]!)).toEqual(source);
      expect(project.store.samples.get(stale)).toBeUndefined();
    });
  });

  it('refuses hostile or impossible moves with clear errors, touching nothing', async () => {
    const outside = tempDir('keizoku-review-outside-');
    writeFileSync(path.join(outside, 'secret.jpg'), 'secret');
    symlinkSync(path.join(root, ketch[1]!), path.join(root, 'ketch', 'link.jpg'));
    symlinkSync(path.join(outside, 'secret.jpg'), path.join(root, 'ketch', 'outside-link.jpg'));
    const listing = () => JSON.stringify(['airplanes', 'ketch', 'Motorbikes'].map((name) => readdirSync(path.join(root, name)).sort()));
    const before = listing();
    await withProject(root, async (project) => {
      for (const hostile of ['../secret.jpg', `${outside}/secret.jpg`, `ketch/../${airplanes[0]}`, `ketch/./${ketch[1]!.slice(6)}`, '.keizoku/keizoku.db', ketch[1]!.replace('/', '\\')]) {
        await expect(moveSample(project, hostile, 'airplanes'), hostile).rejects.toBeInstanceOf(OutsideProjectError);
      }
      await expect(moveSample(project, 'ketch/outside-link.jpg', 'airplanes')).rejects.toThrow(/outside the project/);
      await expect(moveSample(project, 'ketch/link.jpg', 'airplanes')).rejects.toThrow(/links are not moved/);
      await expect(moveSample(project, 'ketch/no-such.jpg', 'airplanes')).rejects.toThrow(/no such file/);
      await expect(moveSample(project, ketch[1]!, 'helicopters')).rejects.toThrow(/no class folder named "helicopters"/);
      for (const badClass of ['../x', '.keizoku', '', 'a/b']) {
        await expect(moveSample(project, ketch[1]!, badClass), badClass).rejects.toBeInstanceOf(UsageError);
      }
      await expect(moveSample(project, ketch[1]!, 'ketch')).rejects.toThrow(/already in the class/);
      await expect(undoMove(project, 9999)).rejects.toThrow(/no move 9999/);
      await expect(excludeSample(project, '../secret.jpg')).rejects.toBeInstanceOf(OutsideProjectError);
      expect(() => includeSample(project, ketch[2]!)).toThrow(/not excluded/);
    });
    expect(listing()).toBe(before);
    expect(readFileSync(path.join(outside, 'secret.jpg'), 'utf8')).toBe('secret');
  });

  it('moves to the right class reuse the embedding: neither the watcher nor the next update embeds again', async () => {
    const abort = new AbortController();
    const removed = new Set<string>();
    const addsInBatch = new Set<string>();
    const addsDone = new Set<string>();
    let moveTo: string | undefined;
    let moveId = 0;
    // Stop once the batch that carried both halves of the move has been handled.
    const stopWhenSeen = () => {
      if (moveTo !== undefined && addsDone.has(moveTo) && removed.has(planeInKetch)) abort.abort();
    };
    let resolveReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (resolveReady = resolve));
    const watching = open(root, {
      onProgress: (event) => {
        if (event.phase !== 'watch') return;
        if (event.message?.startsWith('watching')) return resolveReady();
        for (const relPath of addsInBatch) addsDone.add(relPath);
        stopWhenSeen();
      },
    });
    const embeddingsBefore = embeddingCount(watching);
    const watched = watchProject(watching, abort.signal, (event) => {
      if (event.kind === 'added') addsInBatch.add(event.file.relPath);
      if (event.kind === 'removed') removed.add(event.file.relPath);
    });
    try {
      await ready;
      await withProject(root, async (project) => {
        const { move } = await moveSample(project, planeInKetch, 'airplanes');
        moveId = move.id;
        moveTo = move.to;
      });
      stopWhenSeen();
      const result = await watched;
      expect(result.embedded).toBe(0);
      expect(result.fromCache).toBeGreaterThanOrEqual(1);
      expect(embeddingCount(watching)).toBe(embeddingsBefore);
      expect(watching.store.samples.get(planeInKetch)).toBeUndefined();
      expect(watching.store.samples.get(moveTo!)?.status).toBe('ready');
    } finally {
      abort.abort();
      await watched.catch(() => undefined);
      watching.close();
    }
    const updated = await withProject(root, runUpdate);
    expect(updated.status).toBe('committed');
    expect(updated.samples).toMatchObject({ embedded: 0, learned: 1, unlearned: 1 });
    const review = await withProject(root, (project) => {
      const hash = project.store.samples.get(moveTo!)!.contentHash!;
      expect(project.store.versions.members(updated.version.id)).toContainEqual({ contentHash: hash, className: 'airplanes' });
      return runReview(project);
    });
    expect(review.labelIssues.map((entry) => entry.path)).not.toContain(moveTo);
    expect(review.moves[0]).toMatchObject({ id: moveId, undoneAt: null });
  });

  it('an excluded file is not trained on at the next update, and including it again learns it back', async () => {
    const target = await withProject(root, async (project) => {
      const trained = project.store.samples.all().find((row) => row.className === 'Motorbikes' && row.split === 'train')!.relPath;
      ExcludeResultSchema.parse(await excludeSample(project, trained));
      return trained;
    });
    // The next update has something to do: unlearn it.
    expect((await withProject(root, projectOverview)).hasChanges).toBe(true);
    const without = await withProject(root, runUpdate);
    expect(without.samples).toMatchObject({ learned: 0, unlearned: 1, embedded: 0 });
    const hash = await withProject(root, async (project) => {
      const row = project.store.samples.get(target)!;
      expect(row.split).toBeNull();
      expect(project.store.versions.members(without.version.id).map((member) => member.contentHash)).not.toContain(row.contentHash);
      const review = await runReview(project);
      expect(review.excluded.map((entry) => entry.path)).toEqual([target]);
      expect([...review.mistakes, ...review.labelIssues].map((entry) => entry.path)).not.toContain(target);
      includeSample(project, target);
      return row.contentHash!;
    });
    const back = await withProject(root, runUpdate);
    expect(back.samples).toMatchObject({ learned: 1, unlearned: 0 });
    await withProject(root, async (project) => {
      expect(project.store.versions.members(back.version.id).map((member) => member.contentHash)).toContain(hash);
    });
  });

  it('prints the same data as keizoku review --json, and the file actions from the CLI', () => {
    const review = runCli(['review', '--root', root, '--json', '--limit', '3']);
    expect(review.status, review.stderr).toBe(0);
    const parsed = ReviewResultSchema.parse(review.json());
    expect(parsed.mistakes.length).toBeLessThanOrEqual(3);
    expect(parsed.mistakes.map((entry) => entry.path)).toContain(bikeInAirplanes);
    const text = runCli(['review', '--root', root]);
    expect(text.stdout).toContain(`${bikeInAirplanes}: is airplanes, predicted Motorbikes`);

    const moved = runCli(['move', bikeInAirplanes, 'Motorbikes', '--root', root, '--json']);
    expect(moved.status, moved.stderr).toBe(0);
    const move = MoveResultSchema.parse(moved.json()).move;
    expect(move.to).toBe('Motorbikes/bike-in-airplanes.jpg');
    expect(existsSync(path.join(root, move.to))).toBe(true);
    const undone = runCli(['undo-move', String(move.id), '--root', root, '--json']);
    expect(undone.status, undone.stderr).toBe(0);
    expect(existsSync(path.join(root, bikeInAirplanes))).toBe(true);

    const hostile = runCli(['move', '../../etc/passwd', 'ketch', '--root', root, '--json']);
    expect(hostile.status).toBe(2);
    expect(hostile.json()).toMatchObject({ command: 'move', error: { code: 'usage' } });
    const noClass = runCli(['move', ketch[3]!, 'nope', '--root', root, '--json']);
    expect(noClass.json().error.message).toMatch(/no class folder named "nope"/);
    const excluded = runCli(['exclude', ketch[3]!, '--root', root, '--json']);
    expect(ExcludeResultSchema.parse(excluded.json())).toEqual({ command: 'exclude', path: ketch[3], excluded: true });
    const included = runCli(['include', ketch[3]!, '--root', root]);
    expect(included.stdout).toContain(`Included ${ketch[3]}`);
  });
});

describe('confident learning on given probabilities', () => {
  it('flags a sample confidently of another class and ranks by margin', () => {
    // 3 classes; rows: clean 0, clean 0, clean 1, clean 1, clean 2, mislabeled (given 0, looks 2), borderline (given 1), unsure 2.
    // Thresholds (mean self-confidence): t0 = 0.6, t1 = 0.75, t2 = 0.8.
    const p = [
      [0.9, 0.05, 0.05],
      [0.8, 0.1, 0.1],
      [0.1, 0.85, 0.05],
      [0.05, 0.9, 0.05],
      [0.05, 0.05, 0.9],
      [0.1, 0.05, 0.85],
      [0.1, 0.5, 0.4],
      [0.1, 0.2, 0.7],
    ];
    const labels = Int32Array.from([0, 0, 1, 1, 2, 0, 1, 2]);
    const issues = findLabelIssues(Float64Array.from(p.flat()), labels, 3);
    expect(issues.map((issue) => [issue.row, issue.suggested])).toEqual([[5, 2]]);
    expect(issues[0]!.margin).toBeCloseTo(0.75);
    // Rows marked not judged (label −1) neither count nor get flagged.
    expect(findLabelIssues(Float64Array.from(p.flat()), Int32Array.from([0, 0, 1, 1, 2, -1, 1, 2]), 3)).toEqual([]);
  });
});
