// Bundles widget.ts and gallery.ts into ../conduit_widget/static/widget.js and
// gallery.js (ESM, minified) and their CSS (minified) next to them. `node build.mjs --watch` rebuilds on change
// (pair it with ANYWIDGET_HMR=1 on the Python side).
import { copyFile, mkdir } from "node:fs/promises";
import { watch } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "conduit_widget", "static");
const cssNames = ["widget.css", "gallery.css"];
const isWatch = process.argv.includes("--watch");

/** @type {import("esbuild").BuildOptions} */
const options = {
  entryPoints: [join(here, "widget.ts"), join(here, "gallery.ts")],
  outdir: outDir,
  bundle: true,
  format: "esm",
  minify: !isWatch,
  sourcemap: isWatch ? "inline" : false,
  target: "es2020",
  platform: "browser",
  legalComments: "none",
  logLevel: "info",
};

// Minified outside watch mode: every widget model in a notebook saved with its widget state carries its own
// copy of the stylesheet, as of the module.
async function copyCss() {
  await mkdir(outDir, { recursive: true });
  for (const name of cssNames) {
    if (isWatch) {
      await copyFile(join(here, name), join(outDir, name));
    } else {
      await esbuild.build({ entryPoints: [join(here, name)], outfile: join(outDir, name), minify: true, logLevel: "warning" });
    }
  }
}

await mkdir(outDir, { recursive: true });
if (isWatch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  await copyCss();
  for (const name of cssNames) {
    watch(join(here, name), () => {
      copyCss().then(
        () => console.log(`copied ${name}`),
        (err) => console.error(`copying ${name} failed:`, err),
      );
    });
  }
  console.log("watching the .ts and .css sources (Ctrl-C to stop)");
} else {
  await esbuild.build(options);
  await copyCss();
  console.log(`wrote ${cssNames.join(" and ")} to ${outDir}`);
}
