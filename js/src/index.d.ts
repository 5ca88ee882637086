// Types of index.js, the front end's surface for other packages (the JupyterLab
// panel), and the one definition of a row as the kernel sends it. The modules
// of src/ are plain JavaScript; their JSDoc refers to these types.

/** A row as the kernel sends it (`reset` and `delta` messages). */
export interface IRow {
  key: string;
  /** null while the job has no id yet */
  job_id: string | null;
  backend: string;
  status: string;
  created_at: number | null;
  submitted_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  /** 0..1, or null when the job reports none */
  progress: number | null;
  /** a short note on the progress ("340/1000 files"), or null */
  progress_text: string | null;
  /** how many lines the job printed or logged so far, cut ones included */
  log_lines: number;
  error: string | null;
  traceback: string | null;
  cancel_state: string | null;
  cancel_message: string | null;
  /** the job's id this one re-runs (Retry, `job.resubmit()`), or null */
  resubmitted_from?: string | null;
  /** a failed or cancelled job whose backend can run it again: the row shows Retry */
  can_retry?: boolean;
  /** the job's tags (live rows and past jobs) */
  tags?: string[];
  // A past job (the panel's History view) also has these:
  /** the last lines the job printed or logged */
  log_tail?: string | null;
  /** its kernel ended before the job was final: `status` is the last one seen */
  kernel_ended?: boolean;
  /** the last time its record changed (epoch seconds) */
  updated_at?: number | null;
  notebook?: string | null;
  kernel_id?: string | null;
  job_class?: string;
}

/** The small part of an anywidget model that the table view uses. */
export interface ITableModel {
  get(name: string): unknown;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event: string, callback: (...args: any[]) => void): void;
  send(content: unknown): void;
}

/** What the row store tells its subscribers. */
export type StoreEvent =
  | { kind: 'reset' }
  | {
      kind: 'delta';
      changes: { key: string; old: IRow | undefined; row: IRow }[];
      removed: string[];
    }
  | { kind: 'local'; keys: string[] }
  | { kind: 'logs'; keys: string[] }
  | {
      kind: 'log_text';
      key: string;
      job_id: string | null;
      ok: boolean;
      text: string;
      message: string;
    };

/** One line of a job's log: [epoch seconds, "stdout" | "stderr" | a level name, text]. */
export type LogLine = [number, string, string];

/** The log of a followed row, as the store keeps it. */
export interface IRowLog {
  /** the last lines (at most 200) */
  lines: LogLine[];
  /** lines written so far, cut ones included */
  total: number;
  /** counts restarts: a view redraws the lines when it changes */
  epoch: number;
}

/** A model's row store (store.js): the part other packages use. */
export interface IStore {
  rows: Map<string, IRow>;
  modelId: string | null;
  /** the logs of the rows some view follows (null until the first lines arrive) */
  logs: Map<string, IRowLog | null>;
  follow(key: string): boolean;
  unfollow(key: string): boolean;
  subscribe(callback: (event: StoreEvent) => void): () => void;
  apply(content: unknown): void;
}

/** The JobTable view, as anywidget calls it. */
export declare const tableView: {
  initialize(options: { model: ITableModel }): () => void;
  render(options: { model: ITableModel; el: HTMLElement }): () => void;
};

export declare function storeOf(model: unknown): IStore;
export declare function acquireStore(model: unknown): { store: IStore; release(): void };
export declare function formatDuration(seconds: number | null): string;
export declare function isFinal(status: string): boolean;
/**
 * Records as CSV (RFC 4180, CRLF line ends): a header line of `fields`, then a
 * line per record of its values of `fields`. `fields` defaults to the
 * table's export columns (the kernel's `JobTable.to_records()` keys).
 */
export declare function toCSV<T extends object>(records: readonly T[], fields?: readonly (keyof T & string)[]): string;
/** Save `body` as a download named `name` (a Blob behind a temporary link). */
export declare function saveFile(name: string, body: string, mime: string): void;
