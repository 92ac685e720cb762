// `npm run admin -- <command>`: the operator's CLI over the admin API.
//   ADMIN_URL (default http://127.0.0.1:8080) and ADMIN_TOKEN select the edge.
//
//   tenants list | tenants create NAME [--priority N] [--limits JSON]
//   tenants get ID | tenants update ID [--name N] [--priority N] [--limits JSON] | tenants delete ID
//   keys create TENANT [--name N] [--expires-at UNIX_S] [--models a,b] [--limits JSON]
//   keys list TENANT | keys revoke TENANT KEY_ID
//   usage TENANT [--days N]
import { parseArgs } from "node:util";

const { values: opt, positionals: pos } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: "string" },
    priority: { type: "string" },
    limits: { type: "string" },
    "expires-at": { type: "string" },
    models: { type: "string" },
    days: { type: "string" },
  },
});

const base = (process.env.ADMIN_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "") + "/admin/v1";
const token = process.env.ADMIN_TOKEN;

function fail(msg: string): never {
  console.error(msg);
  process.exit(2);
}

function json(text: string | undefined, what: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    fail(`${what} must be JSON, e.g. '{"tokens_per_minute":100000}'`);
  }
}

async function call(method: string, path: string, body?: unknown): Promise<void> {
  if (!token) fail("Set ADMIN_TOKEN (and ADMIN_URL if the edge is not on 127.0.0.1:8080).");
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  console.log(text);
  if (!res.ok) process.exit(1);
}

const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));

const [group, action, a, b] = pos;
const usage = () => fail("usage: see the header of scripts/admin.ts (tenants|keys|usage ...)");
switch (`${group} ${action ?? ""}`.trim()) {
  case "tenants list":
    await call("GET", "/tenants");
    break;
  case "tenants create":
    await call("POST", "/tenants", clean({ name: a ?? usage(), priority: num(opt.priority), limits: json(opt.limits, "--limits") }));
    break;
  case "tenants get":
    await call("GET", `/tenants/${a ?? usage()}`);
    break;
  case "tenants update":
    await call("PATCH", `/tenants/${a ?? usage()}`, clean({ name: opt.name, priority: num(opt.priority), limits: json(opt.limits, "--limits") }));
    break;
  case "tenants delete":
    await call("DELETE", `/tenants/${a ?? usage()}`);
    break;
  case "keys create":
    await call(
      "POST",
      `/tenants/${a ?? usage()}/keys`,
      clean({ name: opt.name, expires_at: num(opt["expires-at"]), models: opt.models?.split(","), limits: json(opt.limits, "--limits") }),
    );
    break;
  case "keys list":
    await call("GET", `/tenants/${a ?? usage()}/keys`);
    break;
  case "keys revoke":
    await call("DELETE", `/tenants/${a ?? usage()}/keys/${b ?? usage()}`);
    break;
  default:
    if (group === "usage" && action) await call("GET", `/tenants/${action}/usage${opt.days ? `?days=${opt.days}` : ""}`);
    else usage();
}
