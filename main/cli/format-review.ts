import type { ExcludeResult, MoveResult, ReviewResult } from '../engine/api/contract.js';

/** Human-readable renderings of review, move and exclude results (the same data --json prints). */
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

export function formatReview(result: ReviewResult): string {
  const lines = [`Review of version ${result.versionId} (${result.learner})`, ''];
  lines.push(`Held-out mistakes: ${result.heldOut.mistakes} of ${result.heldOut.samples}${shownOf(result.mistakes.length, result.heldOut.mistakes)}`);
  for (const entry of result.mistakes) {
    lines.push(`  ${entry.path}: is ${entry.trueClass}, predicted ${entry.predictedClass} (${percent(entry.confidence)})`);
  }
  const method = result.training.method === 'exact' ? 'exact' : 'analytic stand-in';
  lines.push(
    '',
    `Possible label errors: ${result.training.issues} of ${result.training.judged} training images judged (${result.training.folds}-fold out of sample, ${method})${shownOf(result.labelIssues.length, result.training.issues)}`,
  );
  for (const entry of result.labelIssues) {
    lines.push(`  ${entry.path}: labeled ${entry.givenClass} (${percent(entry.givenConfidence)}), looks like ${entry.suggestedClass} (${percent(entry.suggestedConfidence)})`);
  }
  const standing = result.moves.filter((move) => move.undoneAt === null);
  if (standing.length > 0) {
    lines.push('', 'Recent moves (undo with: keizoku undo-move N):');
    for (const move of standing) lines.push(`  ${move.id}: ${move.from} → ${move.to}`);
  }
  if (result.excluded.length > 0) {
    lines.push('', 'Excluded from training (undo with: keizoku include PATH):');
    for (const entry of result.excluded) lines.push(`  ${entry.path}`);
  }
  return lines.join('\n');
}

function shownOf(shown: number, total: number): string {
  return shown < total ? ` (showing ${shown}; --limit N for more)` : '';
}

export function formatMove(result: MoveResult): string {
  const { move } = result;
  return result.command === 'move'
    ? `Moved ${move.from} → ${move.to} (move ${move.id}; undo with: keizoku undo-move ${move.id})`
    : `Moved back ${move.to} → ${move.undoneTo ?? move.from}`;
}

export function formatExclude(result: ExcludeResult): string {
  return result.excluded ? `Excluded ${result.path}: the next update leaves it out` : `Included ${result.path} again: the next update learns it`;
}
