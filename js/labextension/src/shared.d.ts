// Types of the JobTable's front end (plain JavaScript in js/src/), for what the
// panel uses of it; see shared.js.

/** The small part of an anywidget model that the table view uses. */
export interface ITableModel {
  get(name: string): unknown;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event: string, callback: (...args: any[]) => void): void;
  send(content: unknown): void;
}

export declare const tableView: {
  initialize(options: { model: ITableModel }): () => void;
  render(options: { model: ITableModel; el: HTMLElement }): () => void;
};

/** A row as the kernel sends it. */
export interface IRow {
  key: string;
  job_id: string;
  backend: string;
  status: string;
  created_at: number | null;
  submitted_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  progress: number | null;
  error: string | null;
  traceback: string | null;
  cancel_state: string | null;
  cancel_message: string | null;
}

export type StoreEvent =
  | { kind: 'reset' }
  | {
      kind: 'delta';
      changes: { key: string; old: IRow | undefined; row: IRow }[];
      removed: string[];
    }
  | { kind: 'local'; keys: string[] };

export interface IStore {
  rows: Map<string, IRow>;
  modelId: string | null;
  subscribe(callback: (event: StoreEvent) => void): () => void;
  apply(content: unknown): void;
}

export declare function storeOf(model: unknown): IStore;
export declare function acquireStore(model: unknown): { store: IStore; release(): void };
export declare function formatDuration(seconds: number | null): string;
export declare function isFinal(status: string): boolean;
