// Expected failures are values: functions that can fail for reasons outside our
// control (a worker, Redis, a bad bundle) return Result instead of throwing.
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
