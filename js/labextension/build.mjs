// Builds the JupyterLab extension into ../../src/jobwidgets/labextension/:
// `jlpm install --immutable`, then `jlpm build` (tsc into lib/, then
// `jupyter labextension build`). A build never rewrites the tracked yarn.lock: when
// package.json asks for something the lock lacks, the install fails and says so.
//
// jlpm and jupyter come with JupyterLab. `pip install` puts them on PATH (its build
// environment has jupyterlab); in a checkout, the project's .venv/bin is used when
// they are not on PATH.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const venvBin = path.resolve(here, "../../.venv/bin");

function onPath(command) {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, command)));
}

const env = { ...process.env };
if (!onPath("jlpm") && existsSync(path.join(venvBin, "jlpm"))) {
  env.PATH = `${venvBin}${path.delimiter}${env.PATH ?? ""}`;
}

for (const args of [["install", "--immutable"], ["build"]]) {
  const done = spawnSync("jlpm", args, { cwd: here, env, stdio: "inherit" });
  if (done.error || done.status !== 0) {
    const why = done.error ? done.error.message : `exit status ${done.status}`;
    const fix =
      args[0] === "install"
        ? "If yarn.lock is out of date with package.json, run `jlpm install` there and commit " +
          "yarn.lock. jlpm comes with JupyterLab: pip install jupyterlab, or run `make` in the checkout."
        : "jlpm comes with JupyterLab: pip install jupyterlab, or run `make` in the checkout.";
    console.error(`jobwidgets: \`jlpm ${args.join(" ")}\` failed in ${here} (${why}). ${fix}`);
    process.exit(1);
  }
}
