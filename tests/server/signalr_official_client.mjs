// Drives a local Conduit hub with the official SignalR JavaScript client, for tests/server/test_hub_official_client.py.
//
// Usage: node signalr_official_client.mjs '<config JSON>'
//
// config = {
//   url: "http://127.0.0.1:PORT/hubs/image-generation",
//   key: "condt_...",
//   keyVia: "factory" | "headers" | "query" | "none",
//                                                // accessTokenFactory; headers {Authorization: "Bearer ..."};
//                                                // ?access_token= in the hub URL, as a browser's WebSocket sends it
//   skipNegotiation: true | false,               // true: WebSockets straight away
//   protocol: "json" | "messagepack",
//   transport: "WebSockets" | "ServerSentEvents" | "LongPolling",   // optional, WebSockets by default
//   events: ["ImageGenerationProgress", ...],    // client methods to register and record
//   probeKeys: ["condt_wrong..."],               // optional: first try to start with each of these (expected to fail)
//   timeoutMs: 20000,                            // optional: overall limit of this process
//   serverTimeoutMs: 60000, keepAliveMs: 15000,  // optional: the client's serverTimeout and keepAliveInterval
// }
//
// Output: one JSON object per line on stdout, in the order things happened:
//   {"probe": key, "ok": false, "error": "...", "errorName": "..."}   one per probeKeys entry
//   {"started": true, "connectionId": ...} or {"started": false, "error": "..."} (then the script ends)
//   {"event": name, "args": [...]}                                   each recorded server invocation
//   {"invoked": id, "ok": true, "result": ...} / {"invoked": id, "ok": false, "error": "..."}
//   {"closed": true, "error": null|"..."}                            the connection's onclose
//   {"stopped": true, "state": "Disconnected"}                       after a "stop" command
//   {"summary": {"events": {name: count}, "invocations": n, "closes": n}}  last, once stdin ends or on "stop"
//   {"timeout": true}                                                the overall limit was reached
// Commands, one JSON object per line on stdin, run in order:
//   {"op": "invoke", "id": "x", "method": "SubscribeToTask", "args": ["<task id>"]}
//   {"op": "stop"}
// Diagnostics (the client's own log) go to stderr. The exit code is 0 unless the script itself is broken.

import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
// ESM ignores NODE_PATH, so resolve the packages from the front end's node_modules explicitly.
const jsDir = process.env.CONDUIT_JS_DIR || path.resolve(here, "..", "..", "js");
const require = createRequire(path.join(jsDir, "package.json"));
const signalR = require("@microsoft/signalr");
const { MessagePackHubProtocol } = require("@microsoft/signalr-protocol-msgpack");

const config = JSON.parse(process.argv[2] ?? "{}");
const timeoutMs = config.timeoutMs ?? 20000;

const counts = { events: {}, invocations: 0, closes: 0 };

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function describe(err) {
  if (err === undefined || err === null) return null;
  if (err instanceof Error) return err.message;
  return String(err);
}

// The client's log, on stderr only: stdout carries nothing but observations.
const logger = {
  log(level, message) {
    if (level >= signalR.LogLevel.Warning) process.stderr.write(`[signalr ${signalR.LogLevel[level]}] ${message}\n`);
  },
};

function build(key) {
  const options = {
    skipNegotiation: Boolean(config.skipNegotiation),
    transport: signalR.HttpTransportType[config.transport ?? "WebSockets"],
  };
  if (config.keyVia === "factory") {
    options.accessTokenFactory = () => key;
  } else if (config.keyVia === "headers") {
    options.headers = { Authorization: `Bearer ${key}` };
  }
  let url = config.url;
  if (config.keyVia === "query") {
    const withKey = new URL(url);
    withKey.searchParams.set("access_token", key);
    url = withKey.toString();
  }
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(url, options)
    .withServerTimeout(config.serverTimeoutMs ?? 60000) // a real Conduit pings only every 30 s
    .withKeepAliveInterval(config.keepAliveMs ?? 15000)
    .configureLogging(logger);
  if (config.protocol === "messagepack") builder = builder.withHubProtocol(new MessagePackHubProtocol());
  return builder.build(); // no withAutomaticReconnect: a drop must show up as a close
}

// Plain JSON for the output: MessagePack may hand back Dates, Uint8Arrays or bigints.
function plain(value) {
  return JSON.parse(
    JSON.stringify(value ?? null, (_, v) => {
      if (typeof v === "bigint") return Number(v);
      if (v instanceof Uint8Array) return { bytes: Array.from(v) };
      return v;
    }),
  );
}

const overall = setTimeout(() => {
  emit({ timeout: true });
  process.exit(0);
}, timeoutMs);
overall.unref(); // the connection and stdin keep the process alive; this only bounds it

async function main() {
  for (const probeKey of config.probeKeys ?? []) {
    const probe = build(probeKey);
    try {
      await probe.start();
      emit({ probe: probeKey, ok: true, state: probe.state });
      await probe.stop();
    } catch (err) {
      emit({ probe: probeKey, ok: false, error: describe(err), errorName: err?.name ?? null, state: probe.state });
    }
  }

  const connection = build(config.key);
  for (const name of config.events ?? []) {
    connection.on(name, (...args) => {
      counts.events[name] = (counts.events[name] ?? 0) + 1;
      emit({ event: name, args: plain(args) });
    });
  }
  connection.onclose((err) => {
    counts.closes += 1;
    emit({ closed: true, error: describe(err) });
  });
  try {
    await connection.start();
  } catch (err) {
    emit({ started: false, error: describe(err), errorName: err?.name ?? null });
    clearTimeout(overall);
    return;
  }
  emit({ started: true, connectionId: connection.connectionId, state: connection.state });

  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const command = JSON.parse(line);
    if (command.op === "invoke") {
      counts.invocations += 1;
      try {
        const result = await connection.invoke(command.method, ...(command.args ?? []));
        emit({ invoked: command.id, ok: true, result: plain(result), state: connection.state });
      } catch (err) {
        emit({ invoked: command.id, ok: false, error: describe(err), state: connection.state });
      }
    } else if (command.op === "stop") {
      break;
    } else {
      emit({ unknownCommand: command });
    }
  }
  // "stop", or stdin closed because the test is done with us.
  lines.close();
  await connection.stop();
  emit({ stopped: true, state: connection.state });
  emit({ summary: counts });
  clearTimeout(overall);
  process.stdin.destroy();
}

main().catch((err) => {
  emit({ scriptError: describe(err), stack: err?.stack ?? null });
  process.exitCode = 1;
});
