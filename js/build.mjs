// Bundles widget.ts into ../conduit_widget/static/widget.js (ESM, minified) and
// copies widget.css next to it. `node build.mjs --watch` rebuilds on change
// (pair it with ANYWIDGET_HMR=1 on the Python side).
import { copyFile, mkdir } from "node:fs/promises";
import { watch } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "conduit_widget", "static");
const cssSrc = join(here, "widget.css");
const cssOut = join(outDir, "widget.css");
const isWatch = process.argv.includes("--watch");

/** @type {import("esbuild").BuildOptions} */
const options = {
  entryPoints: [join(here, "widget.ts")],
  outfile: join(outDir, "widget.js"),
  bundle: true,
  format: "esm",
  minify: !isWatch,
  sourcemap: isWatch ? "inline" : false,
  target: "es2020",
  platform: "browser",
  legalComments: "none",
  logLevel: "info",
};

async function copyCss() {
  await mkdir(outDir, { recursive: true });
  await copyFile(cssSrc, cssOut);
}

await mkdir(outDir, { recursive: true });
if (isWatch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  await copyCss();
  watch(cssSrc, () => {
    copyCss().then(
      () => console.log("copied widget.css"),
      (err) => console.error("copying widget.css failed:", err),
    );
  });
  console.log("watching widget.ts and widget.css (Ctrl-C to stop)");
} else {
  await esbuild.build(options);
  await copyCss();
  console.log(`wrote ${cssOut}`);
}
