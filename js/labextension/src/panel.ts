// The side panel: a header naming the kernel it follows, then either the
// JobTable's own view (rendered against the panel's CommModel, so looks and
// behaviour are the table's) or a sentence saying why there is nothing to list.
//
// Text reaches the page only through textContent.

import { Widget } from '@lumino/widgets';

import type { CommModel, PanelModel, PanelState } from './model.js';
import { tableView } from '../../src/index.js';

const EMPTY_TEXT: Record<PanelState, string> = {
  'no-kernel': 'No kernel. Open a notebook or a console to list its jobs here.',
  connecting: 'Connecting to the kernel\u2026 (a busy kernel answers when its cell ends)',
  connected: '',
  unavailable:
    'This kernel has not imported jobwidgets. Run "import jobwidgets" in it, and its jobs appear here.',
  failed: 'jobwidgets in this kernel could not list its jobs:',
  restarting: 'The kernel is restarting\u2026',
  dead: 'The kernel is dead. Restart it to list its jobs.'
};

export class JobsPanel extends Widget {
  constructor(model: PanelModel) {
    super();
    this._panelModel = model;
    this.addClass('jw-panel');
    this.addClass('jw-root');

    const header = document.createElement('div');
    header.className = 'jw-panel-header';
    this._kernelLabel = document.createElement('span');
    this._kernelLabel.className = 'jw-panel-kernel';
    this._stateNote = document.createElement('span');
    this._stateNote.className = 'jw-panel-state';
    header.append(this._kernelLabel, this._stateNote);

    this._empty = document.createElement('div');
    this._empty.className = 'jw-panel-empty';
    this._empty.setAttribute('role', 'status');

    this._host = document.createElement('div');
    this._host.className = 'jw-panel-host';

    this.node.append(header, this._empty, this._host);
    this._unsubscribe = model.changed(() => this._update());
    this._update();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this._unsubscribe();
    this._unrender();
    super.dispose();
  }

  private _update(): void {
    const model = this._panelModel;
    const state = model.state;
    this._kernelLabel.textContent = model.label || 'No kernel';
    this._kernelLabel.title = model.label;
    this._stateNote.textContent = state === 'connected' || state === 'no-kernel' ? '' : state;
    this.node.dataset.jwState = state;
    const text = state === 'failed' ? `${EMPTY_TEXT.failed} ${model.reason}` : EMPTY_TEXT[state];
    this._empty.textContent = text;
    this._empty.hidden = text === '';
    // The table view stays while connecting to the same comm; any other
    // connection (new kernel, restart, refused) gets a fresh view.
    const next = state === 'connected' || state === 'connecting' ? model.model : null;
    if (next !== this._rendered) {
      this._unrender();
      if (next) this._renderTable(next);
    }
    this._host.hidden = state !== 'connected';
  }

  private _renderTable(model: CommModel): void {
    const el = document.createElement('div');
    el.className = 'jw-panel-table';
    this._host.appendChild(el);
    this._rendered = model;
    this._cleanup = tableView.render({ model, el });
  }

  private _unrender(): void {
    if (this._cleanup) {
      try {
        this._cleanup();
      } catch (err) {
        console.warn('jobwidgets: the table view failed to clean up', err);
      }
    }
    this._cleanup = null;
    this._rendered = null;
    this._host.replaceChildren();
  }

  private _panelModel: PanelModel;
  private _kernelLabel: HTMLSpanElement;
  private _stateNote: HTMLSpanElement;
  private _empty: HTMLDivElement;
  private _host: HTMLDivElement;
  private _rendered: CommModel | null = null;
  private _cleanup: (() => void) | null = null;
  private _unsubscribe: () => void;
}
