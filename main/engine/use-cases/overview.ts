import type { FileFailure } from '../api/contract.js';
import type { ClassCard, Overview } from '../api/app-api.js';
import { compareCodeUnits, scanProject } from '../dataset/scan.js';
import type { Project } from '../project/project.js';
import { stateDirNameInside } from './sample-sync.js';
import { subGroupOf } from '../evaluation/sub-groups.js';
import { summarizeVersion } from './version-summary.js';

const THUMBNAILS_PER_CLASS = 4;

/**
 * What the project looks like now, for the class cards: each class folder with its counts and
 * a few thumbnails, what the last update has not seen yet, and every unusable file with the
 * decoder's (or the scan's) reason. Reads the folders (stat only) and the samples table.
 */
export async function projectOverview(project: Project): Promise<Overview> {
  const { store } = project;
  const scan = await scanProject(project.root, { stateDirName: stateDirNameInside(project), stateDir: project.stateDir });
  const rows = new Map(store.samples.all().map((row) => [row.relPath, row]));
  const head = store.versions.head();
  const learned = new Set(head?.classes.map((entry) => entry.name) ?? []);
  const excluded = store.exclusions.paths();
  // An excluded file that the last update still used (it has a split) is a change the next update makes.
  let excludedStillLearned = false;

  const failed: FileFailure[] = [...scan.failed];
  const cards = new Map<string, ClassCard>();
  for (const name of scan.classNames) {
    cards.set(name, { name, files: 0, ready: 0, newSinceUpdate: 0, failed: 0, status: learned.has(name) ? 'learned' : 'new', thumbnails: [] });
  }
  for (const failure of scan.failed) {
    const card = cards.get(failure.path.split('/')[0]!);
    if (card && failure.path.includes('/')) card.failed++;
  }
  for (const file of scan.files) {
    const card = cards.get(file.className)!;
    const row = rows.get(file.relPath);
    const unchanged = row !== undefined && row.size === file.size && row.mtimeMs === file.mtimeMs && row.className === file.className;
    if (unchanged && row.status === 'failed') {
      card.failed++;
      failed.push({ path: file.relPath, reason: row.reason ?? 'unusable' });
      continue;
    }
    card.files++;
    countSubGroup(card, subGroupOf(file.relPath));
    if (unchanged && row.status === 'ready') card.ready++;
    // An update assigns every sample a split; a row without one arrived after the last update
    // (an excluded file has none, and is no news).
    if (excluded.has(file.relPath)) excludedStillLearned ||= unchanged && row.split !== null;
    else if (!unchanged || row.split === null || head === undefined) card.newSinceUpdate++;
    // Only files the decoder has accepted: a thumbnail never decodes a file still being judged.
    if (unchanged && row.status === 'ready' && card.thumbnails.length < THUMBNAILS_PER_CLASS) card.thumbnails.push(file.relPath);
  }
  for (const name of learned) {
    if (!cards.has(name)) cards.set(name, { name, files: 0, ready: 0, newSinceUpdate: 0, failed: 0, status: 'removed', thumbnails: [] });
  }

  for (const card of cards.values()) card.subGroups?.sort((a, b) => compareCodeUnits(a.name, b.name));
  const classes = [...cards.values()].sort((a, b) => compareCodeUnits(a.name, b.name));
  const totals = { files: 0, ready: 0, newSinceUpdate: 0, failed: failed.length };
  for (const card of classes) {
    totals.files += card.files;
    totals.ready += card.ready;
    totals.newSinceUpdate += card.newSinceUpdate;
  }
  const hasChanges =
    classes.some((card) => (card.status === 'new' && card.files > 0) || card.status === 'removed') || totals.newSinceUpdate > 0 || excludedStillLearned;
  failed.sort((a, b) => compareCodeUnits(a.path, b.path));
  return {
    root: project.root,
    classes,
    totals,
    failed,
    head: head ? summarizeVersion(head, store) : null,
    hasChanges,
  };
}

function countSubGroup(card: ClassCard, group: string | null): void {
  if (group === null) return;
  card.subGroups ??= [];
  const entry = card.subGroups.find((candidate) => candidate.name === group);
  if (entry) entry.files++;
  else card.subGroups.push({ name: group, files: 1 });
}
