// Anthropic request fields we know but cannot honour: a client that sends one
// gets a 400 naming it rather than an answer that silently ignored it.
// (Unknown fields are still ignored; cache_control and anthropic-beta are
// accepted, see headers.ts and schemas.ts.)
import { refuseFields, unset, type Check } from "../api/refuse.js";

const REFUSED: Record<string, Check> = {
  mcp_servers: (v) => (unset(v) || (Array.isArray(v) && v.length === 0) ? null : "MCP servers (mcp_servers) are not supported."),
  container: (v) => (unset(v) ? null : "Containers (code execution) are not supported."),
  context_management: (v) => (unset(v) ? null : "context_management is not supported."),
  speed: (v) => (unset(v) || v === "standard" ? null : "speed 'fast' is not offered here."),
  inference_geo: (v) => (unset(v) ? null : "inference_geo is not supported: this gateway cannot pin where a request runs."),
  service_tier: (v) => (unset(v) || v === "auto" || v === "standard_only" ? null : "service_tier must be 'auto' or 'standard_only'."),
};

export const refuseUnsupportedMessages = (body: unknown): void => refuseFields(REFUSED, body);
