// The Prometheus text reader lives with the bench (bench/lib/prom.ts); tests use the same one.
export * from "../../bench/lib/prom.js";
