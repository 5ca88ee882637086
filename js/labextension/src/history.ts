// The History view's model: past jobs, read from the server's history store
// (`GET jobwidgets/api/history`, served by jobwidgets' Jupyter Server
// extension, so no kernel is needed), one page at a time.
//
// It is also the model the JobTable's view renders against (the same table
// code as the live list): `get("readonly")` and `get("remote_filter")` make
// the view read-only and send its search box and status filter here as
// {type: "filter", status, text}; a page arrives in the view as a `reset`.
// No DOM and no JupyterLab import at run time, so the unit tests run it in
// Node with a fixed JSON answer for a fetch function.
//
// The REST answer: {records: [record...], total, limit, offset, enabled?},
// newest first; a record is a job's last known facts (see IHistoryRecord).
// With the history off: {records: [], total: 0, enabled: false}. A bad filter:
// 400 with {message}.

import { toCSV as writeCSV } from '../../src/index.js';
import type { IRow, ITableModel } from '../../src/index.js';

/** The path of the REST endpoint under the server's base URL. */
export const HISTORY_PATH = 'jobwidgets/api/history';

/** One job's record as the server answers it (jobwidgets.history.JobRecord). */
export interface IHistoryRecord {
  /** the record's key in the history (a job id is unique only per backend) */
  id: string;
  /** null if the job never had an id */
  job_id: string | null;
  backend: string;
  status: string;
  created_at: number | null;
  submitted_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  progress: number | null;
  error: string | null;
  error_traceback: string | null;
  log_tail: string | null;
  tags: string[];
  job_class: string;
  kernel_id: string | null;
  notebook: string | null;
  kernel_ended: boolean;
  updated_at: number;
}

/** One page of the server's answer. */
export interface IHistoryPage {
  records: IHistoryRecord[];
  total: number;
  limit: number;
  offset: number;
  /** false when the history store is off (JOBWIDGETS_HISTORY=off) */
  enabled?: boolean;
}

/**
 * Asks the server: `params` are the query's parameters, `method` GET (or
 * DELETE). Resolves to the parsed JSON answer; rejects with an Error whose
 * message says what went wrong (the server's `message` for a 400).
 */
export type HistoryFetch = (params: URLSearchParams, method?: 'GET' | 'DELETE') => Promise<unknown>;

/** Rows of one page. */
export const PAGE_SIZE = 100;
/** Records per request while exporting. */
export const EXPORT_PAGE_SIZE = 5000;
/** The search box waits this long after the last key before it asks the server. */
export const SEARCH_DELAY_MS = 250;

/**
 * The fields of an export, in their order (the CSV's columns): those of
 * `python -m jobwidgets history export`, so both files read alike.
 */
export const EXPORT_FIELDS: (keyof IHistoryRecord)[] = [
  'id',
  'job_id',
  'backend',
  'status',
  'created_at',
  'submitted_at',
  'started_at',
  'finished_at',
  'progress',
  'error',
  'error_traceback',
  'log_tail',
  'tags',
  'job_class',
  'kernel_id',
  'notebook',
  'kernel_ended',
  'updated_at'
];

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (v == null ? null : String(v));

/** A record as the server sent it, made safe to show (wrong types become null). */
export function cleanRecord(raw: unknown): IHistoryRecord | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  return {
    id: str(r.id) ?? '',
    job_id: str(r.job_id),
    backend: str(r.backend) ?? '',
    status: str(r.status) ?? '',
    created_at: num(r.created_at),
    submitted_at: num(r.submitted_at),
    started_at: num(r.started_at),
    finished_at: num(r.finished_at),
    progress: num(r.progress),
    error: str(r.error),
    error_traceback: str(r.error_traceback),
    log_tail: str(r.log_tail),
    tags: Array.isArray(r.tags) ? r.tags.map(String) : [],
    job_class: str(r.job_class) ?? '',
    kernel_id: str(r.kernel_id),
    notebook: str(r.notebook),
    kernel_ended: r.kernel_ended === true,
    updated_at: num(r.updated_at) ?? 0
  };
}

/** The server's answer checked: a page, or an Error saying what is wrong with it. */
export function parsePage(answer: unknown): IHistoryPage {
  const a = answer as Partial<Record<keyof IHistoryPage, unknown>> | null;
  if (!a || typeof a !== 'object' || !Array.isArray(a.records)) {
    throw new Error('the server answered something that is not a page of the job history');
  }
  const records = a.records.map(cleanRecord).filter((r): r is IHistoryRecord => r !== null);
  return {
    records,
    total: num(a.total) ?? records.length,
    limit: num(a.limit) ?? records.length,
    offset: num(a.offset) ?? 0,
    enabled: a.enabled !== false
  };
}

/** The table's row of a record; `key` is its position in the whole result. */
export function recordToRow(record: IHistoryRecord, key: string): IRow {
  return {
    key,
    job_id: record.job_id,
    backend: record.backend,
    status: record.status,
    created_at: record.created_at,
    submitted_at: record.submitted_at,
    started_at: record.started_at,
    finished_at: record.finished_at,
    progress: record.progress,
    progress_text: null,
    log_lines: 0,
    error: record.error,
    traceback: record.error_traceback,
    cancel_state: null,
    cancel_message: null,
    log_tail: record.log_tail,
    kernel_ended: record.kernel_ended,
    updated_at: record.updated_at,
    notebook: record.notebook,
    kernel_id: record.kernel_id,
    job_class: record.job_class,
    tags: record.tags
  };
}

// ------------------------------------------------------------------ export

/**
 * Records as CSV (RFC 4180, CRLF line ends), a header line of EXPORT_FIELDS
 * first: the table's CSV writer (js/src/table/export.js), so both exports quote
 * alike and a text a spreadsheet would run as a formula gets a leading apostrophe.
 */
export function toCSV(records: IHistoryRecord[]): string {
  return writeCSV(records, EXPORT_FIELDS);
}

/** Records as a JSON array, one object per job, fields in EXPORT_FIELDS' order. */
export function toJSON(records: IHistoryRecord[]): string {
  const out = records.map((record) => Object.fromEntries(EXPORT_FIELDS.map((f) => [f, record[f]])));
  return `${JSON.stringify(out, null, 1)}\n`;
}

// ------------------------------------------------------------------ the model

type Listener = (...args: any[]) => void;

export interface IHistoryModelOptions {
  fetch: HistoryFetch;
  pageSize?: number;
  searchDelayMs?: number;
}

/** What the History view shows around the table. */
export type HistoryState = 'idle' | 'loading' | 'loaded' | 'error' | 'disabled';

export class HistoryModel implements ITableModel {
  constructor(options: IHistoryModelOptions) {
    this._fetch = options.fetch;
    this.pageSize = options.pageSize ?? PAGE_SIZE;
    this._searchDelay = options.searchDelayMs ?? SEARCH_DELAY_MS;
  }

  readonly pageSize: number;

  // ------------------------------------------------ what the view reads
  get state(): HistoryState {
    return this._state;
  }
  /** Why the last request failed (state 'error'); plain text. */
  get message(): string {
    return this._message;
  }
  /** Records that match the filters, over every page. */
  get total(): number {
    return this._total;
  }
  /** The position of this page's first record among them. */
  get offset(): number {
    return this._offset;
  }
  /** The records of this page. */
  get records(): readonly IHistoryRecord[] {
    return this._records;
  }
  /** The notebook whose jobs are shown while `allNotebooks` is off (null: none open). */
  get notebook(): string | null {
    return this._notebook;
  }
  get allNotebooks(): boolean {
    return this._allNotebooks || this._notebook === null;
  }
  get filter(): { status: string; text: string } {
    return { ...this._filter };
  }
  get hasPrevious(): boolean {
    return this._offset > 0;
  }
  get hasNext(): boolean {
    return this._offset + this._records.length < this._total;
  }

  /** Call `callback()` after every change of what the view reads; returns the unsubscribe. */
  changed(callback: () => void): () => void {
    this._subscribers.add(callback);
    return () => this._subscribers.delete(callback);
  }

  // ------------------------------------------------ the table view's model
  get(name: string): unknown {
    switch (name) {
      case 'title':
        return '';
      case 'compact':
        return false;
      case 'fill':
      case 'readonly':
      case 'remote_filter':
        return true;
      default:
        return undefined;
    }
  }

  on(event: string, callback: Listener): void {
    let set = this._listeners.get(event);
    if (!set) {
      set = new Set();
      this._listeners.set(event, set);
    }
    set.add(callback);
  }

  off(event: string, callback: Listener): void {
    this._listeners.get(event)?.delete(callback);
  }

  /**
   * A message of the table view: `sync` (a view rendered) gets the current
   * page; `filter` asks the server again (the text after a short pause).
   * Nothing else applies to past jobs.
   */
  send(content: unknown): void {
    const msg = content as { type?: unknown; status?: unknown; text?: unknown } | null;
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'sync') {
      if (this._state === 'idle') void this.load();
      else this._deliver();
    } else if (msg.type === 'filter') {
      const status = typeof msg.status === 'string' ? msg.status : '';
      const text = typeof msg.text === 'string' ? msg.text : '';
      const textChanged = text !== this._filter.text;
      if (!textChanged && status === this._filter.status) return;
      this._filter = { status, text };
      this._offset = 0;
      this._clearTimer();
      if (textChanged && this._searchDelay > 0) {
        this._timer = setTimeout(() => {
          this._timer = null;
          void this.load();
        }, this._searchDelay);
      } else void this.load();
    }
  }

  // ------------------------------------------------ what the view does
  /** Show the jobs of `path` (the active notebook; null: none). */
  setNotebook(path: string | null): void {
    if (path === this._notebook) return;
    this._notebook = path;
    if (!this._allNotebooks && this._state !== 'idle') {
      this._offset = 0;
      void this.load();
    } else this._emit();
  }

  setAllNotebooks(all: boolean): void {
    if (all === this._allNotebooks) return;
    this._allNotebooks = all;
    this._offset = 0;
    void this.load();
  }

  next(): Promise<void> {
    if (!this.hasNext) return Promise.resolve();
    return this._goto(this._offset + this.pageSize);
  }

  previous(): Promise<void> {
    if (!this.hasPrevious) return Promise.resolve();
    return this._goto(Math.max(0, this._offset - this.pageSize));
  }

  first(): Promise<void> {
    return this._goto(0);
  }

  last(): Promise<void> {
    const lastOffset = Math.max(0, Math.floor((this._total - 1) / this.pageSize) * this.pageSize);
    return this._goto(lastOffset);
  }

  /** Ask the server for the current page (again). */
  async load(): Promise<void> {
    this._clearTimer();
    const seq = ++this._seq;
    this._state = 'loading';
    this._emit();
    let page: IHistoryPage;
    try {
      page = parsePage(await this._fetch(this.params(this._offset, this.pageSize)));
    } catch (err) {
      if (seq !== this._seq || this._disposed) return; // a newer request answers
      this._state = 'error';
      this._message = err instanceof Error ? err.message : String(err);
      this._emit();
      return;
    }
    if (seq !== this._seq || this._disposed) return;
    if (page.enabled === false) {
      this._state = 'disabled';
      this._records = [];
      this._total = 0;
    } else {
      this._state = 'loaded';
      this._records = page.records;
      this._total = page.total;
      this._offset = page.offset;
    }
    this._deliver();
    this._emit();
  }

  /** Every record that matches the filters (all pages), in the server's order. */
  async exportRecords(progress?: (done: number, total: number) => void): Promise<IHistoryRecord[]> {
    const out: IHistoryRecord[] = [];
    let total = Infinity;
    while (out.length < total) {
      const page = parsePage(await this._fetch(this.params(out.length, EXPORT_PAGE_SIZE)));
      if (page.enabled === false) break;
      total = page.total;
      out.push(...page.records);
      progress?.(out.length, total);
      if (page.records.length === 0) break;
    }
    return out;
  }

  /** The query of the current filters, for `limit` records from `offset`. */
  params(offset: number, limit: number): URLSearchParams {
    const params = new URLSearchParams();
    if (this._filter.status) params.set('status', this._filter.status);
    const text = this._filter.text.trim();
    if (text) params.set('text', text);
    if (!this.allNotebooks && this._notebook !== null) params.set('notebook', this._notebook);
    params.set('limit', String(limit));
    params.set('offset', String(offset));
    return params;
  }

  dispose(): void {
    this._disposed = true;
    this._clearTimer();
    this._listeners.clear();
    this._subscribers.clear();
  }

  // ------------------------------------------------ internals
  private _goto(offset: number): Promise<void> {
    this._offset = offset;
    return this.load();
  }

  /** The page to the table view, as a `reset` of its rows. */
  private _deliver(): void {
    if (this._disposed) return;
    const rows = this._records.map((record, i) => recordToRow(record, String(this._offset + i)));
    for (const callback of [...(this._listeners.get('msg:custom') ?? [])]) {
      callback({ type: 'reset', rows, model_id: null });
    }
  }

  private _clearTimer(): void {
    if (this._timer !== null) clearTimeout(this._timer);
    this._timer = null;
  }

  private _emit(): void {
    for (const callback of [...this._subscribers]) {
      try {
        callback();
      } catch (err) {
        console.error('jobwidgets: a history listener failed', err);
      }
    }
  }

  private _fetch: HistoryFetch;
  private _searchDelay: number;
  private _state: HistoryState = 'idle';
  private _message = '';
  private _records: IHistoryRecord[] = [];
  private _total = 0;
  private _offset = 0;
  private _notebook: string | null = null;
  private _allNotebooks = false;
  private _filter = { status: '', text: '' };
  private _seq = 0;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _disposed = false;
  private _listeners = new Map<string, Set<Listener>>();
  private _subscribers = new Set<() => void>();
}
