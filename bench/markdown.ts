// Rendering: tables as Markdown (docs/benchmarks.md) and as aligned text (stdout), and the
// number formats every section uses.
import { describeMachine } from './machine.js';
import { SECTION_IDS, type SectionId, type SectionRecord, type Table } from './section.js';

/** A fraction as a percentage with one decimal ("90.3"); "–" when not measured. */
export function pct(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : (value * 100).toFixed(1);
}

/** A ratio against the reference ("0.97×"); "–" when not measurable. */
export function ratio(value: number | null | undefined, reference: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || reference === null || reference === undefined || reference === 0) return '–';
  const r = value / reference;
  return Number.isFinite(r) ? `${r.toFixed(digits)}×` : '–';
}

export function fixed(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

function escapeCell(cell: string): string {
  return cell.replace(/\|/g, '\\|');
}

export function markdownTable(table: Table): string {
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  const rule = table.align.map((a) => (a === 'r' ? '---:' : ':---'));
  return [line(table.headers), `| ${rule.join(' | ')} |`, ...table.rows.map(line)].join('\n');
}

/** Markdown emphasis and code marks, which mean nothing on a terminal. */
function plain(text: string): string {
  return text.replace(/\*\*|`/g, '');
}

export function textTable(markdown: Table): string {
  const table = { ...markdown, headers: markdown.headers.map(plain), rows: markdown.rows.map((row) => row.map(plain)) };
  const widths = table.headers.map((h, c) => Math.max(h.length, ...table.rows.map((row) => (row[c] ?? '').length)));
  const pad = (cell: string, c: number) => (table.align[c] === 'r' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!));
  const line = (cells: string[]) => cells.map((cell, c) => pad(cell, c)).join('  ').trimEnd();
  return [line(table.headers), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n');
}

function shortDate(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

const SECTION_START = (id: SectionId) => `<!-- bench-section:${id} -->`;
const SECTION_END = (id: SectionId) => `<!-- /bench-section:${id} -->`;

/** One section as Markdown, wrapped in markers so a partial run can replace just this block. */
export function sectionMarkdown(record: SectionRecord): string {
  const parts = [
    SECTION_START(record.id),
    `## ${record.title}`,
    '',
    `_Measured ${shortDate(record.measuredAt)} at commit \`${record.commit}\` in ${(record.durationMs / 1000).toFixed(0)} s ` +
      `(\`npm run bench -- ${record.id}\`), other processes took ${(record.foreignCpu * 100).toFixed(0)} % of the CPU meanwhile, on: ${describeMachine(record.machine)}._`,
    '',
    record.method,
  ];
  for (const table of record.tables) {
    parts.push('', `**${table.caption}**`, '', markdownTable(table));
    if (table.reading.length > 0) parts.push('', table.reading.join(' '));
  }
  parts.push(SECTION_END(record.id));
  return parts.join('\n');
}

export function sectionText(record: SectionRecord): string {
  const parts = [`== ${record.title} ==`, plain(record.method)];
  for (const table of record.tables) {
    parts.push('', plain(table.caption), textTable(table));
    if (table.reading.length > 0) parts.push(plain(table.reading.join(' ')));
  }
  return parts.join('\n');
}

/** The block of a section in an existing docs/benchmarks.md, if any. */
export function extractSection(doc: string, id: SectionId): string | undefined {
  const start = doc.indexOf(SECTION_START(id));
  const end = doc.indexOf(SECTION_END(id));
  return start >= 0 && end > start ? doc.slice(start, end + SECTION_END(id).length) : undefined;
}

const SECTION_TITLES: Record<SectionId, string> = {
  accuracy: 'Class-incremental accuracy',
  domains: 'New domains and new instances (synthetic shifts)',
  finetune: 'Fine-tuning the top of the backbone',
  throughput: 'Embedding throughput',
  int8: 'Int8 inference',
  update: 'Update latency and memory',
  training: 'Training steps and analytic update',
  peers: 'Against Teachable Machine',
  scale: 'Scale: update time and memory against project size',
  live: 'Live camera predictions per second',
  fleet: 'Fleet: exchanging statistics through an MQTT broker',
};

/**
 * The whole docs/benchmarks.md: intro, the latest run's provenance, then every section, taking
 * the blocks of sections not run this time from the previous file.
 */
export function benchmarksDocument(fresh: readonly SectionRecord[], previousDoc: string, totalMs: number): string {
  const latest = fresh[fresh.length - 1]!;
  const ran = fresh.map((r) => r.id).join(', ');
  const intro = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.ts); edits are overwritten. -->',
    '',
    'Measured with the product code on real photos from `../shared/data` (Caltech-101, CIFAR-10) and the default',
    'backbone (MobileNetV2 1.0 224 uint8, imported from TFLite by the project\'s importer, run by ONNX Runtime on CPU).',
    'Every figure is given as a ratio against a reference measured in the same run (the row marked **reference**),',
    'so results from different machines compare by their ratios, not their absolute values.',
    '',
    '- `accuracy`: class-incremental accuracy of the learners against joint training (upper bound) and naive fine-tuning (lower bound).',
    '- `domains`: new samples of known classes — synthetic domain shifts of Caltech-101 (photo → line drawing → corrupted) and new instances of the same classes — against the analytic learner retrained on everything seen so far.',
    '- `throughput`: images/s of the embedding pipeline against inference alone.',
    '- `int8`: the default backbone imported as an int8 graph against the float graph: images/s (inference alone and the pipeline), ImageNet top-1 and feature agreement, class-incremental accuracy.',
    '- `update`: latency and peak memory of real `update` runs on a project folder against the first full update.',
    '- `training`: optimizer steps of the ONNX Runtime train-step graphs against the TypeScript reference trainer, and the analytic update in JS against ONNX Runtime.',
    '- `finetune`: the finetune learner (the backbone\'s top trained on cached activations) against the frozen-backbone analytic learner: new domains, class-incremental Caltech-101, cost.',
    '- `peers`: Keizoku against Teachable Machine\'s published library (@teachablemachine/image in Chromium) on the same photos: time to a first model and to add classes, test accuracy, images/s, peak memory.',
    '- `scale`: time, peak memory and database size of real updates on synthetic projects of 1k–30k samples and 100 or 1,000 classes (from pre-cached embeddings), against the 1k-sample / 100-class project.',
    "- `live`: predictions/s of Try it's live camera in Chromium (fake camera) against `keizoku serve`, against the engine's own predictions/s on frames of the same camera.",
    '- `fleet`: publish, receive and merge times of fleet statistics for 2, 10 and 100 simulated devices against a local Mosquitto, directly and through the aggregator, against one local ridge solve.',
    '',
    `Run \`npm run bench\` (all sections) or \`npm run bench -- ${SECTION_IDS.join('|')}\` (one or more sections; \`peers\` and \`live\` need Debian's Chromium at /usr/bin/chromium or KEIZOKU_CHROMIUM).`,
    'Each section runs in its own Node process (so memory figures are not polluted by another section); progress goes to stderr,',
    'the tables to stdout and to this file, raw figures to `bench-results/<section>.json` (gitignored).',
    'A partial run replaces only its own sections here and keeps the others as last measured; each section says when and where.',
    '',
    `Latest run: ${shortDate(latest.measuredAt)}, commit \`${latest.commit}\`, sections ${ran}, ${(totalMs / 1000).toFixed(0)} s in all.`,
    '',
    'Machine:',
    '',
    `- CPU: ${latest.machine.cpu}, ${latest.machine.cores} cores`,
    `- RAM: ${latest.machine.ramGiB} GiB`,
    `- OS: ${latest.machine.os}`,
    `- Node ${latest.machine.node}, ${latest.machine.onnxruntime}, ${latest.machine.libvips}`,
    ...(latest.machine.gpu ? [`- GPU: ${latest.machine.gpu}`] : []),
  ];
  const blocks = SECTION_IDS.map((id) => {
    const record = fresh.find((r) => r.id === id);
    if (record) return sectionMarkdown(record);
    return (
      extractSection(previousDoc, id) ??
      `${SECTION_START(id)}\n## ${SECTION_TITLES[id]}\n\nNot measured yet: run \`npm run bench -- ${id}\`.\n${SECTION_END(id)}`
    );
  });
  return [...intro, '', ...blocks.flatMap((b) => [b, '']) ].join('\n');
}
