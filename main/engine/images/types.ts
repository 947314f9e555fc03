/** How a backbone wants its input: resize the shorter side to the input size, center-crop, then normalize. */
export interface Preprocessing {
  /** Model input height in pixels. */
  height: number;
  /** Model input width in pixels. */
  width: number;
  /** Per-channel mean on 0..255 RGB. */
  mean: [number, number, number];
  /** Per-channel std on 0..255 RGB: value = (pixel - mean) / std. */
  std: [number, number, number];
}

/** Bounds on the work done for one file. */
export interface DecodeLimits {
  /** Decompression-bomb guard: width × height declared by the header. Default 100e6. */
  maxInputPixels: number;
  /** Files larger than this are refused before decoding. Default 256 MiB. */
  maxFileBytes: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxInputPixels: 100e6,
  maxFileBytes: 256 * 1024 * 1024,
});

export type PreprocessResult =
  | { ok: true; pixels: Float32Array /* 3×H×W, CHW */ }
  | { ok: false; reason: string };
