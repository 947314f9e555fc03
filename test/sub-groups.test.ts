// Accuracy per sub-group (the first folder below a class folder): a real project whose class
// `ketch` holds photos at its top and line drawings in `ketch/drawings/`, run through the real CLI.
import { copyFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvalResultSchema, UpdateResultSchema } from '../main/engine/api/contract.js';
import { accuracyBySubGroup, subGroupOf, subGroupsByMember } from '../main/engine/evaluation/sub-groups.js';
import { drawCaltechLines as drawLines } from './support/drawings.js';
import { addCaltechClasses, runCli, tempDir } from './support/project.js';

describe('sub-groups', () => {
  it('a sub-group is the first folder below the class folder; a hash with copies in two places counts once', () => {
    expect(subGroupOf('cat/x.jpg')).toBeNull();
    expect(subGroupOf('cat/sketches/x.jpg')).toBe('sketches');
    expect(subGroupOf('cat/sketches/old/x.jpg')).toBe('sketches');
    const { groupOf, known } = subGroupsByMember([
      { relPath: 'cat/a.jpg', className: 'cat', contentHash: 'h1' },
      { relPath: 'cat/sketches/a.jpg', className: 'cat', contentHash: 'h1' },
      { relPath: 'cat/photos/a.jpg', className: 'cat', contentHash: 'h1' },
      { relPath: 'cat/b.jpg', className: 'cat', contentHash: 'h2' },
      { relPath: 'dog/a.jpg', className: 'dog', contentHash: 'h1' },
    ]);
    // The named sub-group first in code-unit order wins over the top level; another class's copy is its own sample.
    expect(groupOf({ className: 'cat', contentHash: 'h1' })).toBe('photos');
    expect(groupOf({ className: 'cat', contentHash: 'h2' })).toBeNull();
    expect(groupOf({ className: 'dog', contentHash: 'h1' })).toBeNull();
    expect(known.get('cat')).toEqual(new Set(['photos', null]));

    const rows = accuracyBySubGroup({
      truth: ['cat', 'cat', 'cat', 'dog'],
      predicted: ['cat', 'dog', 'cat', 'dog'],
      groups: ['photos', 'photos', null, null],
      knownGroups: new Map([...known, ['cat', new Set(['photos', null, 'sketches'])]]),
      classOrder: ['cat', 'dog'],
    });
    // dog has no sub-folder, so no rows; a sub-group without held-out samples shows with n = 0.
    expect(rows).toEqual([
      { className: 'cat', group: null, accuracy: 1, correct: 1, count: 1 },
      { className: 'cat', group: 'photos', accuracy: 0.5, correct: 1, count: 2 },
      { className: 'cat', group: 'sketches', accuracy: null, correct: 0, count: 0 },
    ]);
    expect(accuracyBySubGroup({ truth: ['dog'], predicted: ['dog'], groups: [null], knownGroups: new Map([['dog', new Set([null])]]), classOrder: ['dog'] })).toBeUndefined();
  });

  it('update --json reports perGroup for a class with sub-folders, rows adding up to its held-out count; eval --data too; text output lists them', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 15 });
    await drawLines('ketch', 'train', [15, 30], path.join(root, 'ketch', 'drawings'));
    // A copy of a top-level photo inside the sub-folder: one content hash in two places.
    const first = readdirSync(path.join(root, 'ketch')).filter((name) => name.endsWith('.jpg')).sort()[0]!;
    copyFileSync(path.join(root, 'ketch', first), path.join(root, 'ketch', 'drawings', first));

    const run = runCli(['update', '--root', root, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const result = UpdateResultSchema.parse(run.json());
    const perGroup = result.metrics.perGroup!;
    expect(perGroup.map((row) => [row.className, row.group])).toEqual([['ketch', null], ['ketch', 'drawings']]);
    const ketch = result.metrics.perClass.find((row) => row.className === 'ketch')!;
    expect(ketch.count).toBeGreaterThanOrEqual(4);
    expect(perGroup.reduce((sum, row) => sum + row.count, 0)).toBe(ketch.count);
    expect(perGroup.reduce((sum, row) => sum + row.correct, 0)).toBe(ketch.correct);
    for (const row of perGroup) {
      expect(row.count).toBeGreaterThan(0);
      expect(row.accuracy).toBe(row.correct / row.count);
    }

    // Unchanged: the stored report comes back with its sub-groups, and the text lists them.
    const text = runCli(['update', '--root', root]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Per sub-group:\n\s+ketch · \(top level\)\s+[\d.]+%\s+\(\d+\/\d+\)\n\s+ketch · drawings\s+[\d.]+%\s+\(\d+\/\d+\)/);

    const data = tempDir();
    addCaltechClasses(data, ['airplanes', 'ketch'], { split: 'test', limit: 5 });
    await drawLines('ketch', 'test', [5, 11], path.join(data, 'ketch', 'drawings'));
    const evaluated = runCli(['eval', '--root', root, '--data', data, '--json']);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    const metrics = EvalResultSchema.parse(evaluated.json()).metrics;
    expect(metrics.perGroup!.map((row) => [row.className, row.group, row.count])).toEqual([['ketch', null, 5], ['ketch', 'drawings', 6]]);
  });

  it('a project without sub-folders reports no perGroup', () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 8 });
    const run = runCli(['update', '--root', root, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const result = UpdateResultSchema.parse(run.json());
    expect(result.metrics.perClass.length).toBe(2);
    expect('perGroup' in result.metrics).toBe(false);
    expect(runCli(['update', '--root', root]).stdout).not.toContain('sub-group');
  });
});
