// Anthropic's request headers and rate-limit response headers.
import { EdgeError } from "../errors.js";

/**
 * `anthropic-version`: any dated version is accepted (the SDKs send one, e.g. 2023-06-01 or
 * 2026-10-21; the shapes served here are those every version shares) and it may be absent
 * (Anthropic requires it; curl users forget it); a malformed value is refused.
 * `anthropic-beta` is accepted and has no effect: a beta flag only unlocks request fields or
 * block types, and those are validated (and refused when unsupported) on their own, so no
 * beta can change a request silently.
 */
export function checkVersion(version: string | undefined): void {
  if (version === undefined || /^\d{4}-\d{2}-\d{2}$/.test(version.trim())) return;
  throw new EdgeError("invalid_request", `anthropic-version: '${version}' is not a version (expected a date such as 2023-06-01).`, { param: "anthropic-version" });
}

/** Our reset durations ("20ms", "7s", "6m0s", edge/quota-admission.ts formatReset) in ms. */
export function parseReset(v: string): number | null {
  const ms = /^(\d+)ms$/.exec(v);
  if (ms) return Number(ms[1]);
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  if (!m || (m[1] === undefined && m[2] === undefined)) return null;
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000;
}

/** x-ratelimit-{limit,remaining,reset}-{requests,tokens} -> anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset} (reset as RFC 3339). */
export function anthropicRateLimitHeaders(ours: Record<string, string>, now: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kind of ["requests", "tokens"]) {
    const limit = ours[`x-ratelimit-limit-${kind}`];
    const remaining = ours[`x-ratelimit-remaining-${kind}`];
    const reset = parseReset(ours[`x-ratelimit-reset-${kind}`] ?? "");
    if (limit === undefined || remaining === undefined) continue;
    out[`anthropic-ratelimit-${kind}-limit`] = limit;
    out[`anthropic-ratelimit-${kind}-remaining`] = remaining;
    if (reset !== null) out[`anthropic-ratelimit-${kind}-reset`] = new Date(now + reset).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  return out;
}
