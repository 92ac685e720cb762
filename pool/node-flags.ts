// V8 flags the pool process runs with (pool.Dockerfile's CMD, `npm run pool`, and the
// local stack and benchmarks through scripts/stack.ts; test/deploy checks they agree).
// A young generation of 64 MB semi-spaces instead of V8's default: the pool allocates a
// few short-lived objects per token (gRPC frames, decoded messages, deltas, JSON), and
// with the default most of them met a scavenge young. Measured in three alternated sweep
// pairs (bench/results/ab-semi-*.md): pool CPU per 1k tokens 44.1 / 43.3 / 45.4 -> 39.8 /
// 39.8 / 39.0 ms at 256 streams, 67.4 / 60.4 / 53.1 -> 55.2 / 57.1 / 53.1 ms at 64; peak
// RSS 464 -> 536 MB (the tokenizer threads' heaps count too). The edge's CPU did not move.
export const POOL_NODE_FLAGS = ["--max-semi-space-size=64"] as const;
