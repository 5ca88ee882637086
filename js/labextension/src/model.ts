// The panel's model: which kernel it follows, its comm to that kernel, and the
// rows (in the JobTable's row store). No DOM and no JupyterLab import at run
// time, so the unit tests run it in Node with a fake kernel.
//
// The kernel side (jobwidgets/panel.py) registers the comm target
// `jobwidgets.panel` when `import jobwidgets` runs in the kernel. The panel
// opens a comm to it; the kernel answers with the JobTable's messages
// ({type: "reset" | "delta" | "cancel_result"}), sent as the comm's data; the
// messages are written out in js/PROTOCOL.md. A kernel that has not imported
// jobwidgets closes the comm at once (no such target): the panel then says so,
// and connects again when the kernel announces the target (a comm the kernel
// opens to `jobwidgets.panel.announce`, see `announced`). A kernel that has
// jobwidgets but can't list its jobs closes the comm with
// `{type: "error", message}`: the panel shows that message instead.

// The JobTable's front end: js/src/index.js, typed by its index.d.ts (the one
// definition of a row). The path holds from src/ and from the compiled lib/ alike.
import { acquireStore } from '../../src/index.js';
import type { IStore, ITableModel, StoreEvent } from '../../src/index.js';
import { DEFAULT_SETTINGS, clip, noticesFor } from './notices.js';
import type { INotice, IPanelSettings } from './notices.js';

export { DEFAULT_SETTINGS, noticesFor };
export type { INotice, IPanelSettings };

/** The kernel's comm target. */
export const TARGET = 'jobwidgets.panel';
/** The front end's comm target the kernel opens when it registers TARGET. */
export const ANNOUNCE_TARGET = 'jobwidgets.panel.announce';

/** The part of a comm (Kernel.IComm) the panel uses. */
export interface ICommLike {
  readonly commId: string;
  readonly isDisposed: boolean;
  open(data?: unknown): unknown;
  send(data: unknown): unknown;
  close(data?: unknown): unknown;
  onMsg: ((msg: { content: { data: unknown } }) => void | PromiseLike<void>) | null;
  onClose: ((msg: unknown) => void | PromiseLike<void>) | null;
}

/** A Lumino-style signal: connect and disconnect a slot. */
export interface ISignalLike<T> {
  connect(slot: (sender: any, args: T) => void, thisArg?: unknown): boolean;
  disconnect(slot: (sender: any, args: T) => void, thisArg?: unknown): boolean;
}

/** The part of a kernel connection (Kernel.IKernelConnection) the panel uses. */
export interface IKernelLike {
  readonly id: string;
  readonly status: string;
  readonly isDisposed?: boolean;
  readonly statusChanged: ISignalLike<string>;
  createComm(targetName: string): ICommLike;
}

/** Where the panel stands. */
export type PanelState =
  | 'no-kernel' // no notebook or console is active
  | 'connecting' // the comm is open, no rows yet (the kernel may be busy)
  | 'connected' // rows arrive
  | 'unavailable' // the kernel has not imported jobwidgets
  | 'failed' // the kernel has jobwidgets but could not list its jobs (see `reason`)
  | 'restarting' // the kernel restarts: the list is cleared
  | 'dead'; // the kernel died

/** The kernel's reason in a comm_close `{type: "error", message}`, else null. */
function closeReason(msg: unknown): string | null {
  const data = (msg as { content?: { data?: unknown } } | null)?.content?.data;
  if (!data || typeof data !== 'object') return null;
  const { type, message } = data as { type?: unknown; message?: unknown };
  return type === 'error' ? clip(message) || 'unknown error' : null;
}

type Listener = (...args: any[]) => void;

/**
 * The table view's model for one comm: what an anywidget model offers the
 * JobTable view (`get`, `on`, `off`, `send`, `widget_manager.kernel`,
 * `model_id`), over the panel's comm. One per connection: a new kernel, or a
 * restarted one, gets a new CommModel (and so a new row store and view).
 */
export class CommModel implements ITableModel {
  constructor(kernel: IKernelLike, comm: ICommLike) {
    this.widget_manager = { kernel };
    this._comm = comm;
  }

  /** The kernel connection, where the table view looks for it (kernel_route.js). */
  readonly widget_manager: { kernel: IKernelLike };

  /** The kernel side's id of this feed: the comm id (used by the subshell route). */
  get model_id(): string {
    return this._comm.commId;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  get(name: string): unknown {
    switch (name) {
      case 'title':
        return '';
      case 'compact':
        return false;
      case 'fill':
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
   * A message of the view to the kernel; dropped once the comm is gone, and
   * before the kernel has answered on it. Until then the kernel may not know
   * the comm yet (JupyterLab can send a comm message on a subshell, ahead of
   * the `comm_open` on the main shell), and nothing needs sending: the kernel
   * answers the open with every row.
   */
  send(content: unknown): void {
    if (this._disposed || this._comm.isDisposed || !this._answered) return;
    try {
      this._comm.send(content as any);
    } catch (err) {
      console.warn('jobwidgets: the panel could not reach the kernel', err);
    }
  }

  /** A message of the kernel: to the store's `msg:custom` listener. */
  deliver(content: unknown): void {
    if (this._disposed) return;
    this._answered = true;
    for (const callback of [...(this._listeners.get('msg:custom') ?? [])]) {
      callback(content);
    }
  }

  dispose(): void {
    this._disposed = true;
    this._listeners.clear();
  }

  private _comm: ICommLike;
  private _disposed = false;
  private _answered = false; // the kernel has sent something on this comm
  private _listeners = new Map<string, Set<Listener>>();
}

export interface IPanelModelOptions {
  /** Shows a notification (Notification of @jupyterlab/apputils in the app). */
  notify?: (notice: INotice) => void;
  settings?: Partial<IPanelSettings>;
}

/**
 * Follows one kernel at a time (the active notebook's or console's) and keeps
 * a comm to its `jobwidgets.panel` target while it can.
 */
export class PanelModel {
  constructor(options: IPanelModelOptions = {}) {
    this._notify = options.notify ?? (() => undefined);
    this.settings = { ...DEFAULT_SETTINGS, ...(options.settings ?? {}) };
  }

  settings: IPanelSettings;

  get state(): PanelState {
    return this._state;
  }

  get kernel(): IKernelLike | null {
    return this._kernel;
  }

  /** Why the kernel could not list its jobs (state 'failed'), as it said; plain text. */
  get reason(): string {
    return this._reason;
  }

  /** What the kernel belongs to (a notebook's or console's name). */
  get label(): string {
    return this._label;
  }

  /** The table view's model for the current connection, or null. */
  get model(): CommModel | null {
    return this._model;
  }

  /** The rows of the current connection, or null. */
  get store(): IStore | null {
    return this._store;
  }

  /** Call `callback()` whenever state, kernel, label or model change; returns the unsubscribe. */
  changed(callback: () => void): () => void {
    this._subscribers.add(callback);
    return () => this._subscribers.delete(callback);
  }

  /**
   * Follow `kernel` (null: none). The same kernel again only updates the
   * label. Another kernel: the old comm closes, its rows go, a new comm opens.
   */
  setKernel(kernel: IKernelLike | null, label = ''): void {
    if (kernel === this._kernel) {
      if (label !== this._label) {
        this._label = label;
        this._emit();
      }
      return;
    }
    this._disconnect(true);
    if (this._kernel) this._kernel.statusChanged.disconnect(this._onStatus, this);
    this._kernel = kernel;
    this._label = label;
    if (!kernel) {
      this._setState('no-kernel');
      return;
    }
    kernel.statusChanged.connect(this._onStatus, this);
    this._connect();
  }

  /** The kernel announced the panel's target (it imported jobwidgets): connect. */
  announced(kernel: IKernelLike): void {
    if (kernel !== this._kernel) return;
    if (this._state === 'unavailable' || this._state === 'failed' || this._state === 'restarting') {
      this._connect();
    }
    else if (this._state === 'connecting') this._retryIfRefused = true;
  }

  dispose(): void {
    this.setKernel(null);
    this._subscribers.clear();
  }

  // ------------------------------------------------------------------ internals

  private _connect(): void {
    const kernel = this._kernel;
    if (!kernel) return;
    this._disconnect(true);
    if (kernel.status === 'dead') {
      this._setState('dead');
      return;
    }
    let comm: ICommLike;
    try {
      comm = kernel.createComm(TARGET);
    } catch (err) {
      console.warn('jobwidgets: cannot open the panel comm', err);
      this._setState('unavailable');
      return;
    }
    const model = new CommModel(kernel, comm);
    const { store, release } = acquireStore(model);
    this._comm = comm;
    this._model = model;
    this._store = store;
    this._releaseStore = release;
    this._unsubscribeStore = store.subscribe((event) => this._onStoreEvent(event));
    this._retryIfRefused = false;
    comm.onMsg = (msg) => {
      if (this._comm !== comm) return; // a message of an old connection
      model.deliver(msg?.content?.data);
      if (this._state === 'connecting') this._setState('connected');
    };
    comm.onClose = (msg) => {
      if (this._comm !== comm) return;
      // The kernel refused (no jobwidgets, or with a reason) or dropped the comm.
      this._disconnect(false);
      if (this._retryIfRefused) {
        this._retryIfRefused = false;
        this._connect();
        return;
      }
      const reason = closeReason(msg);
      if (reason !== null) {
        this._reason = reason;
        this._setState('failed');
      } else this._setState('unavailable');
    };
    this._setState('connecting');
    try {
      comm.open({ type: 'sync' });
    } catch (err) {
      console.warn('jobwidgets: cannot open the panel comm', err);
      this._disconnect(false);
      this._setState('unavailable');
    }
  }

  /** Forget the current comm; `close` also closes it on the kernel side. */
  private _disconnect(close: boolean): void {
    const comm = this._comm;
    this._comm = null;
    if (comm && close && !comm.isDisposed) {
      try {
        comm.close();
      } catch {
        // the kernel is gone already
      }
    }
    this._unsubscribeStore?.();
    this._unsubscribeStore = null;
    this._releaseStore?.();
    this._releaseStore = null;
    this._model?.dispose();
    this._model = null;
    this._store = null;
  }

  private _onStatus(_sender: unknown, status: string): void {
    if (status === 'restarting' || status === 'autorestarting') {
      this._disconnect(false); // the kernel process, and the comm, are gone
      this._setState('restarting');
    } else if (status === 'dead') {
      this._disconnect(false);
      this._setState('dead');
    } else if ((status === 'idle' || status === 'busy') && (this._state === 'restarting' || this._state === 'dead')) {
      this._connect(); // a restarted kernel: jobwidgets is imported again, or not
    }
  }

  private _onStoreEvent(event: StoreEvent): void {
    for (const notice of noticesFor(event, this.settings)) {
      try {
        this._notify(notice);
      } catch (err) {
        console.warn('jobwidgets: a notification failed', err);
      }
    }
  }

  private _setState(state: PanelState): void {
    this._state = state;
    this._emit();
  }

  private _emit(): void {
    for (const callback of [...this._subscribers]) {
      try {
        callback();
      } catch (err) {
        console.error('jobwidgets: a panel listener failed', err);
      }
    }
  }

  private _notify: (notice: INotice) => void;
  private _state: PanelState = 'no-kernel';
  private _kernel: IKernelLike | null = null;
  private _label = '';
  private _reason = '';
  private _comm: ICommLike | null = null;
  private _model: CommModel | null = null;
  private _store: IStore | null = null;
  private _releaseStore: (() => void) | null = null;
  private _unsubscribeStore: (() => void) | null = null;
  private _retryIfRefused = false;
  private _subscribers = new Set<() => void>();
}
