import sharp, { type Sharp } from 'sharp';
import { readRegularFile } from '../files/read-regular-file.js';
import { sniffFormat } from '../images/index.js';
import { UsageError } from '../project/project.js';
import { resolveSampleFile } from '../project/project-paths.js';

const THUMBNAIL_PX = 192;
const MAX_SOURCE_BYTES = 64 * 1024 * 1024;

const PREVIEW_PX = 1024;

/** A small square WebP of a sample, as a data: URL (the CSP allows data: images only). */
export function sampleThumbnail(root: string, relPath: string, stateDir?: string): Promise<string> {
  return sampleImage(root, relPath, stateDir, (image) => image.resize(THUMBNAIL_PX, THUMBNAIL_PX, { fit: 'cover' }).webp({ quality: 72 }));
}

/** The whole sample at up to 1024 px on its longer side (Review's preview), as a WebP data: URL. */
export function samplePreview(root: string, relPath: string, stateDir?: string): Promise<string> {
  return sampleImage(root, relPath, stateDir, (image) => image.resize(PREVIEW_PX, PREVIEW_PX, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 82 }));
}

async function sampleImage(root: string, relPath: string, stateDir: string | undefined, shape: (image: Sharp) => Sharp): Promise<string> {
  const file = resolveSampleFile(root, relPath, stateDir);
  const read = await readRegularFile(file, MAX_SOURCE_BYTES, () => 'file too large for a thumbnail');
  if (!read.ok) throw new UsageError(`no thumbnail for ${relPath}: ${read.reason}`);
  const bytes = read.bytes;
  const sniffed = sniffFormat(bytes);
  if (sniffed.kind !== 'raster' || sniffed.format === 'bmp') throw new UsageError(`no thumbnail for ${relPath}: not a decodable photo`);
  // Same strictness as the embedding decoder: a truncated file gets no thumbnail, not a half one.
  const webp = await shape(sharp(bytes, { limitInputPixels: 100_000_000, failOn: 'truncated' }).rotate()).toBuffer();
  return `data:image/webp;base64,${webp.toString('base64')}`;
}
