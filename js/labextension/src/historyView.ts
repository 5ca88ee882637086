// The panel's History view: past jobs from the server's history store, the
// active notebook's by default ("All notebooks" shows every notebook's), a
// page at a time, rendered by the JobTable's own view (read-only: its search
// box and status filter ask the server), with paging and export as CSV or
// JSON. Plain DOM (no Lumino), so the unit tests render it in jsdom.
//
// Text reaches the page only through textContent.

import { saveFile, tableView } from '../../src/index.js';
import { HistoryModel, IHistoryRecord, toCSV, toJSON } from './history.js';

/** Saves `text` as a file called `name` (the browser's download, by default). */
export type Download = (name: string, text: string, mime: string) => void;

/** The browser's download of a text file, as the table's own export saves it. */
export const browserDownload: Download = saveFile;

const FORMATS = {
  csv: { label: 'CSV', mime: 'text/csv', write: toCSV },
  json: { label: 'JSON', mime: 'application/json', write: toJSON }
} as const;

export type ExportFormat = keyof typeof FORMATS;

const NUMBER = new Intl.NumberFormat('en-US');

function button(text: string, label: string, className = 'jw-btn'): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.title = label;
  return b;
}

/** "history-2026-11-28T22-41-05.csv" */
function fileName(format: ExportFormat, now: Date): string {
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, '-');
  return `jobs-history-${stamp}.${format}`;
}

export interface IHistoryViewOptions {
  model: HistoryModel;
  download?: Download;
  now?: () => Date;
}

export class HistoryView {
  constructor(options: IHistoryViewOptions) {
    this.model = options.model;
    this._download = options.download ?? browserDownload;
    this._now = options.now ?? (() => new Date());

    const node = document.createElement('div');
    node.className = 'jw-history';
    this.node = node;

    // Scope, refresh, export
    const bar = document.createElement('div');
    bar.className = 'jw-history-bar';
    bar.setAttribute('role', 'group');
    bar.setAttribute('aria-label', 'Past jobs');
    this._scope = document.createElement('span');
    this._scope.className = 'jw-history-scope';
    const allLabel = document.createElement('label');
    allLabel.className = 'jw-history-all';
    this._all = document.createElement('input');
    this._all.type = 'checkbox';
    this._all.className = 'jw-history-all-input';
    allLabel.append(this._all, document.createTextNode(' All notebooks'));
    this._refresh = button('Refresh', 'Refresh the job history');
    this._exportCsv = button('Export CSV', 'Export the matching past jobs as CSV');
    this._exportJson = button('Export JSON', 'Export the matching past jobs as JSON');
    bar.append(this._scope, allLabel, this._refresh, this._exportCsv, this._exportJson);

    // Paging
    const pager = document.createElement('div');
    pager.className = 'jw-history-pager';
    pager.setAttribute('role', 'group');
    pager.setAttribute('aria-label', 'Pages of past jobs');
    this._first = button('\u00ab', 'First page', 'jw-btn jw-btn-small');
    this._previous = button('\u2039 Previous', 'Previous page', 'jw-btn jw-btn-small');
    this._position = document.createElement('span');
    this._position.className = 'jw-history-position';
    this._position.setAttribute('aria-live', 'polite');
    this._next = button('Next \u203a', 'Next page', 'jw-btn jw-btn-small');
    this._last = button('\u00bb', 'Last page', 'jw-btn jw-btn-small');
    pager.append(this._first, this._previous, this._position, this._next, this._last);

    this._status = document.createElement('div');
    this._status.className = 'jw-history-status';
    this._status.setAttribute('role', 'status');

    this._host = document.createElement('div');
    this._host.className = 'jw-panel-table jw-history-table';

    node.append(bar, this._status, this._host, pager);

    const on = (el: HTMLElement, type: string, fn: () => void) => {
      el.addEventListener(type, fn);
      this._cleanups.push(() => el.removeEventListener(type, fn));
    };
    on(this._all, 'change', () => this.model.setAllNotebooks(this._all.checked));
    on(this._refresh, 'click', () => void this.model.load());
    on(this._first, 'click', () => void this.model.first());
    on(this._previous, 'click', () => void this.model.previous());
    on(this._next, 'click', () => void this.model.next());
    on(this._last, 'click', () => void this.model.last());
    on(this._exportCsv, 'click', () => void this.export('csv'));
    on(this._exportJson, 'click', () => void this.export('json'));
    this._cleanups.push(this.model.changed(() => this._update()));
    this._update();
  }

  readonly model: HistoryModel;
  readonly node: HTMLDivElement;

  /** The view is shown: render the table once, and ask the server for the current page. */
  show(): void {
    if (!this._cleanupTable) {
      const el = document.createElement('div');
      el.className = 'jw-panel-table';
      this._host.appendChild(el);
      this._cleanupTable = tableView.render({ model: this.model, el }); // its sync loads
      if (this.model.state !== 'loading') void this.model.load();
    } else void this.model.load();
  }

  /** Every record that matches the filters, saved as a file; resolves when done. */
  async export(format: ExportFormat): Promise<void> {
    if (this._exporting) return;
    const { label, mime, write } = FORMATS[format];
    this._exporting = `Exporting as ${label}\u2026`;
    this._update();
    let records: IHistoryRecord[];
    try {
      records = await this.model.exportRecords((done, total) => {
        this._exporting = `Exporting as ${label}\u2026 ${NUMBER.format(done)} of ${NUMBER.format(total)}`;
        this._update();
      });
      this._download(fileName(format, this._now()), write(records), mime);
      this._note = `Exported ${NUMBER.format(records.length)} ${records.length === 1 ? 'job' : 'jobs'} as ${label}.`;
    } catch (err) {
      this._note = `Could not export: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this._exporting = '';
      this._update();
    }
  }

  dispose(): void {
    for (const off of this._cleanups) off();
    this._cleanups = [];
    this._cleanupTable?.();
    this._cleanupTable = null;
    this.node.remove();
  }

  private _update(): void {
    const m = this.model;
    const state = m.state;
    this.node.dataset.jwHistory = state;
    this._scope.textContent = m.allNotebooks ? 'Jobs of every notebook' : `Jobs of ${m.notebook}`;
    this._scope.title = this._scope.textContent;
    this._all.checked = m.allNotebooks;
    this._all.disabled = m.notebook === null;
    const count = m.records.length;
    this._position.textContent =
      state === 'disabled'
        ? ''
        : count === 0
          ? `0 of ${NUMBER.format(m.total)}`
          : `${NUMBER.format(m.offset + 1)}\u2013${NUMBER.format(m.offset + count)} of ${NUMBER.format(m.total)}`;
    const busy = state === 'loading';
    this._first.disabled = busy || !m.hasPrevious;
    this._previous.disabled = busy || !m.hasPrevious;
    this._next.disabled = busy || !m.hasNext;
    this._last.disabled = busy || !m.hasNext;
    const exportable = state === 'loaded' && m.total > 0 && !this._exporting;
    this._exportCsv.disabled = !exportable;
    this._exportJson.disabled = !exportable;
    let status = '';
    if (this._exporting) status = this._exporting;
    else if (state === 'error') status = `Could not read the job history: ${m.message}`;
    else if (state === 'disabled')
      status = 'The job history is off on this server (JOBWIDGETS_HISTORY=off): past jobs are not recorded.';
    else if (state === 'loading') status = 'Loading\u2026';
    else status = this._note;
    this._status.textContent = status;
    this._status.hidden = status === '';
    this._status.classList.toggle('jw-history-error', state === 'error' || status.startsWith('Could not'));
    this._host.hidden = state === 'disabled';
  }

  private _download: Download;
  private _now: () => Date;
  private _scope: HTMLSpanElement;
  private _all: HTMLInputElement;
  private _refresh: HTMLButtonElement;
  private _exportCsv: HTMLButtonElement;
  private _exportJson: HTMLButtonElement;
  private _first: HTMLButtonElement;
  private _previous: HTMLButtonElement;
  private _position: HTMLSpanElement;
  private _next: HTMLButtonElement;
  private _last: HTMLButtonElement;
  private _status: HTMLDivElement;
  private _host: HTMLDivElement;
  private _cleanupTable: (() => void) | null = null;
  private _cleanups: (() => void)[] = [];
  private _exporting = '';
  private _note = '';
}
