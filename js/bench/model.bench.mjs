// Times the table's data pipeline on 10,000 rows: sort by each column, filter,
// count, apply a delta to the row store. Run: npm run bench   (median of 15 runs per case)
import { STATUSES, countByStatus, filterRows, sortRows } from "../src/model.js";
import { storeOf } from "../src/store.js";
import { buildItems } from "../src/table/groups.js";
import { exportRecords, toCSV } from "../src/table/export.js";

const N = 10000;
const rows = Array.from({ length: N }, (_, i) => ({
  key: String(i),
  job_id: `job-${((i * 7919) % N).toString(36)}-${i}`,
  backend: ["local", "dask", "aer_simulator", "remote-queue"][i % 4],
  status: STATUSES[(i * 3) % 7],
  created_at: 1e9 + i,
  submitted_at: i % 11 ? 1e9 + ((i * 31) % 977) : null,
  started_at: i % 3 ? 1e9 + 1000 + (i % 50) : null,
  finished_at: null,
  progress: i % 5 ? (i % 100) / 100 : null,
  error: i % 7 === 6 ? `Timeout after ${i} s` : null,
  tags: i % 4 ? [`tag-${i % 50}`, ...(i % 3 ? [] : ["nightly"])] : [],
}));

function time(label, fn) {
  const runs = [];
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    fn();
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  console.log(`${label.padEnd(34)} median ${runs[7].toFixed(2)} ms   max ${runs[14].toFixed(2)} ms`);
}

const now = 1e9 + 2000;
for (const column of ["job_id", "backend", "status", "submitted_at", "queue", "run", "progress"]) {
  for (const dir of ["asc", "desc"]) time(`sortRows ${column} ${dir}`, () => sortRows(rows, column, dir, now));
}
time("filterRows text 'dask'", () => filterRows(rows, { text: "dask" }));
time("filterRows status RUNNING + text", () => filterRows(rows, { status: "RUNNING", text: "job-1" }));
time("countByStatus", () => countByStatus(rows));
// the store of a model nothing listens to: apply() is the kernel message handler
const store = storeOf({ get() {}, on() {}, off() {}, send() {} });
store.apply({ type: "reset", rows });
time("store delta 200 upserts", () =>
  store.apply({ type: "delta", upsert: rows.slice(0, 200).map((r) => ({ ...r, progress: 0.5 })), remove: [] }),
);
// grouping (a frame re-groups after every delta while grouped) and export
const keys = rows.map((r) => r.key);
const byKey = new Map(rows.map((r) => [r.key, r]));
time("buildItems by tag (50+ groups)", () => buildItems(keys, byKey, "tag", new Set()));
time("buildItems by status", () => buildItems(keys, byKey, "status", new Set()));
time("buildItems by backend, 1 collapsed", () => buildItems(keys, byKey, "backend", new Set(["backend:dask"])));
time("export 10,000 records as CSV", () => toCSV(exportRecords(keys, byKey, now)));
// the table's column widths from the rows' content (table/columns.js), with the
// estimating measurer (a canvas measures only the few longest strings, as here)
const { contentWidths } = await import("../src/table/columns.js");
const measurer = { size: 13, exact: false, measure: (t, k) => String(t ?? "").length * (k === "mono" ? 8 : 7) };
time("contentWidths (column widths)", () => contentWidths(rows, { measurer, now }));
