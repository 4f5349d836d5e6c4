// Runs the seed document's own client (conduit-realtime-client.ts: the ConduitRealtimeClient class of Conduit's
// JavaScript client documentation, copied unchanged from shared/seed/javascript-client.md) against a local Conduit,
// the way its usage example does: connect to a hub, create a task, wait for "completed" or "failed".
//
// Usage: node run.mjs '{"baseUrl": "http://127.0.0.1:PORT", "virtualKey": "condt_...", "kind": "image"|"video",
//                       "params": {...generateImage / generateVideo params}, "timeoutMs": 20000}'
// Output: one JSON object per line: {"event": name, ...payload} for each event the client emits, then
// {"done": "completed"|"failed", ...} or {"error": "..."}.

import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const jsDir = process.env.CONDUIT_JS_DIR || path.resolve(here, "..", "..", "..", "js");
const config = JSON.parse(process.argv[2] ?? "{}");

// ESM ignores NODE_PATH: esbuild and @microsoft/signalr come from the front end's node_modules explicitly.
const { buildSync } = createRequire(path.join(jsDir, "package.json"))("esbuild");

// TypeScript to CommonJS; CommonJS resolves @microsoft/signalr through NODE_PATH (the front end's node_modules).
const outfile = path.join(os.tmpdir(), `conduit-seed-client-${process.pid}.cjs`);
buildSync({
  entryPoints: [path.join(here, "conduit-realtime-client.ts")],
  bundle: true,
  platform: "node",
  format: "cjs",
  outfile,
  external: ["@microsoft/signalr"], // required at run time, from NODE_PATH, with its own optional `ws` and fetch
  logLevel: "error",
});
const require = createRequire(import.meta.url);
const { ConduitRealtimeClient } = require(outfile);

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const timer = setTimeout(() => {
  emit({ error: "timed out" });
  process.exit(1);
}, config.timeoutMs ?? 20000);

const client = new ConduitRealtimeClient({ virtualKey: config.virtualKey, baseUrl: config.baseUrl });
for (const name of ["connected", "subscribed", "progress", "completed", "failed", "error", "reconnecting"]) {
  client.on(name, (payload) => emit({ event: name, ...(payload ?? {}) }));
}

try {
  await client.connect(config.kind);
  const ended = new Promise((resolve) => {
    client.once("completed", (result) => resolve({ done: "completed", ...result }));
    client.once("failed", (result) => resolve({ done: "failed", ...result }));
  });
  const taskId =
    config.kind === "image" ? await client.generateImage(config.params) : await client.generateVideo(config.params);
  emit({ created: taskId ?? null });
  emit(await ended);
} catch (err) {
  emit({ error: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
}
await client.disconnect().catch(() => {});
clearTimeout(timer);
process.exit();
