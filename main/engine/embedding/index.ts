export { createOnnxFeatureExtractor, type FeatureExtractor } from './extractor.js';
export { embedFiles, DEFAULT_BATCH_SIZE, type EmbedJob, type EmbedEvents, type EmbedOptions, type EmbedTotals } from './embed.js';
