export type { Preprocessing, DecodeLimits, PreprocessResult } from './types.js';
export { DEFAULT_DECODE_LIMITS } from './types.js';
export { preprocessImage, decodeToRgb, rgbToChw, configureSharp, type DecodeRgbResult } from './preprocess.js';
export { sniffFormat, type SniffResult, type RasterFormat, type RefusedFormat } from './sniff.js';
export { decodeBmp, type BmpDecodeResult } from './bmp.js';
