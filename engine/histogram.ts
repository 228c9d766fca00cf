import * as hdr from 'hdr-histogram-js';

/** Highest latency the histograms track, in microseconds (2 minutes); larger values are clamped. */
export const HIGHEST_TRACKABLE_US = 120_000_000;

let wasmReady: Promise<void> | undefined;

/** Loads the WASM build of hdr-histogram-js once per process (it records ~3x faster than the JS build). */
export function initHistograms(): Promise<void> {
  wasmReady ??= hdr.initWebAssembly();
  return wasmReady;
}

/** A latency histogram in microseconds, 1 µs to 2 min, 3 significant digits. Call `destroy()` when done (WASM memory). */
export function createLatencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: true,
  });
}

/** Compressed base64 form of a histogram, as stored in the JSON summary. */
export function encodeHistogram(histogram: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/**
 * Decodes a histogram from the JSON summary. Uses the JS build so that it works before
 * (or without) WASM initialisation, e.g. in reporters.
 */
export function decodeHistogram(encoded: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** Decodes a histogram from its compressed base64 form into WASM memory (fast to add to others); call `destroy()`. */
export function decodeHistogramWasm(encoded: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, true);
}
