// Builds the anywidget ES modules and the stylesheet into the Python package.
//
//   node build.mjs           one build
//   node build.mjs --watch   rebuild on change (for development)
//
// Output (generated, git-ignored): ../src/jobwidgets/static/{badge.js,table.js,widgets.css}
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(here, "../src/jobwidgets/static");
const watch = process.argv.includes("--watch");

/** @type {import("esbuild").BuildOptions} */
const options = {
  absWorkingDir: here,
  entryPoints: {
    badge: "src/badge.js",
    table: "src/table.js",
    widgets: "src/widgets.css",
  },
  outdir,
  bundle: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: false,
  sourcemap: watch ? "inline" : false,
  legalComments: "none",
  logLevel: "info",
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
