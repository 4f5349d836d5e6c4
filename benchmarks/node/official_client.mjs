// The official @microsoft/signalr client under Node, as a reference for benchmarks/throughput.py.
//
// Usage: node official_client.mjs '{"url": "http://127.0.0.1:PORT/hubs/image-generation", "key": "condt_...",
//                                   "protocol": "json" | "messagepack", "taskId": "...", "count": 20000,
//                                   "timeoutMs": 60000}'
// It connects (WebSockets, the key from accessTokenFactory), subscribes to the task, prints {"ready": true},
// then counts ImageGenerationProgress events whose message starts with "burst" until `count` have arrived
// (or the timeout) and prints {"count": n, "firstBatch": 1, "seconds": s, "rate": r}: the rate from the
// first event to the last, as every client in the benchmark is measured. Its own log goes to stderr.

import { createRequire } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
// ESM ignores NODE_PATH, so the packages are resolved from the front end's node_modules explicitly.
const jsDir = process.env.CONDUIT_JS_DIR || path.resolve(here, "..", "..", "js");
const require = createRequire(path.join(jsDir, "package.json"));
const signalR = require("@microsoft/signalr");
const { MessagePackHubProtocol } = require("@microsoft/signalr-protocol-msgpack");

const config = JSON.parse(process.argv[2] ?? "{}");
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

let builder = new signalR.HubConnectionBuilder()
  .withUrl(config.url, { accessTokenFactory: () => config.key, transport: signalR.HttpTransportType.WebSockets })
  .withServerTimeout(120000)
  .configureLogging({
    log(level, message) {
      if (level >= signalR.LogLevel.Warning) process.stderr.write(`[signalr ${signalR.LogLevel[level]}] ${message}\n`);
    },
  });
if (config.protocol === "messagepack") builder = builder.withHubProtocol(new MessagePackHubProtocol());
const connection = builder.build();

let count = 0;
let first = 0;
let last = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));
connection.on("ImageGenerationProgress", (event) => {
  if (typeof event?.message !== "string" || !event.message.startsWith("burst")) return;
  const now = performance.now();
  if (count === 0) first = now;
  count += 1;
  last = now;
  if (count >= config.count) finish();
});

const timer = setTimeout(finish, config.timeoutMs ?? 60000);
try {
  await connection.start();
  await connection.invoke("SubscribeToTask", config.taskId);
  emit({ ready: true });
  await finished;
  clearTimeout(timer);
  const seconds = (last - first) / 1000;
  emit({ count, firstBatch: 1, seconds, rate: seconds > 0 ? (count - 1) / seconds : 0 });
  await connection.stop();
} catch (err) {
  emit({ error: String(err?.message ?? err) });
  process.exitCode = 1;
}
process.exit();
