// What the front end offers other packages: the JobTable view, its row store
// and the formatting the view uses. The JupyterLab panel (labextension/)
// imports this module as the package `jobwidgets-frontend` and renders the same
// view against its own comm, and saves its exports as the table does. Its types, and the one definition of a row, are in
// index.d.ts; a test checks that both name the same exports.

export { default as tableView } from "./table.js";
export { acquireStore, storeOf } from "./store.js";
export { formatDuration, isFinal } from "./model.js";
export { saveFile, toCSV } from "./table/export.js";
