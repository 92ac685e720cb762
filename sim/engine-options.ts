// The simulated engine's timing and capacity knobs, and their defaults (the CLI's flags map onto them).

export interface EngineOptions {
  prefillTokensPerS: number;
  decodeMsPerToken: number;
  decodeMsPerRunning: number;
  maxRunning: number;
  kvCapacityTokens: number;
  blockSize: number;
  /** Max prompt tokens prefilled per step (chunked prefill). */
  prefillChunk: number;
  maxContextLength: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  prefillTokensPerS: 8000,
  decodeMsPerToken: 6,
  decodeMsPerRunning: 0.35,
  maxRunning: 256,
  kvCapacityTokens: 524288,
  blockSize: 16,
  prefillChunk: 2048,
  maxContextLength: 32768,
};
