// The JobTable's front end, shared by the panel: the same view, row store and
// formatting code (plain JavaScript in js/src/). Types: shared.d.ts.
// The build copies this file to lib/, next to which ../../src/ is the same folder.
export { default as tableView } from '../../src/table.js';
export { acquireStore, storeOf } from '../../src/store.js';
export { formatDuration, isFinal } from '../../src/model.js';
