// The side panel: a header naming the kernel it follows, two tabs, and under
// them either the live list (the JobTable's own view rendered against the
// panel's CommModel, so looks and behaviour are the table's, or a sentence
// saying why there is nothing to list) or the History view (historyView.ts:
// past jobs from the server, rendered by the same table view).
//
// Text reaches the page only through textContent.

import { Widget } from '@lumino/widgets';

import type { CommModel, PanelModel, PanelState } from './model.js';
import type { HistoryView } from './historyView.js';
import { tableView } from '../../src/index.js';

/** The panel's two views. */
export type PanelTab = 'live' | 'history';

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
  constructor(model: PanelModel, history: HistoryView | null = null) {
    super();
    this._panelModel = model;
    this._history = history;
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

    if (!history) {
      this.node.append(header, this._empty, this._host);
    } else {
      // Tabs (WAI-ARIA tabs: arrow keys move between them, Tab enters the view).
      const tabs = document.createElement('div');
      tabs.className = 'jw-panel-tabs';
      tabs.setAttribute('role', 'tablist');
      tabs.setAttribute('aria-label', 'Jobs views');
      const live = document.createElement('div');
      live.className = 'jw-panel-live';
      live.append(this._empty, this._host);
      history.node.classList.add('jw-panel-history');
      for (const [tab, text, panel] of [
        ['live', 'Live', live],
        ['history', 'History', history.node]
      ] as const) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'jw-panel-tab';
        button.textContent = text;
        button.id = `jw-panel-tab-${tab}`;
        button.dataset.jwTab = tab;
        button.setAttribute('role', 'tab');
        panel.id = `jw-panel-view-${tab}`;
        panel.setAttribute('role', 'tabpanel');
        panel.setAttribute('aria-labelledby', button.id);
        button.setAttribute('aria-controls', panel.id);
        button.addEventListener('click', () => this.showTab(tab));
        tabs.appendChild(button);
        this._tabs.set(tab, { button, panel });
      }
      tabs.addEventListener('keydown', (event) => {
        if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
        event.preventDefault();
        const next = event.key === 'ArrowLeft' || event.key === 'Home' ? 'live' : 'history';
        this.showTab(next);
        this._tabs.get(next)?.button.focus();
      });
      this.node.append(header, tabs, live, history.node);
    }
    this._unsubscribe = model.changed(() => this._update());
    this._update();
    this._showTab('live');
  }

  /** The view shown: the live list or the History. */
  get tab(): PanelTab {
    return this._tab;
  }

  /** Show the live list or the History view (which then asks the server for its page). */
  showTab(tab: PanelTab): void {
    if (!this._history) return;
    this._showTab(tab);
    if (tab === 'history') this._history.show();
  }

  private _showTab(tab: PanelTab): void {
    this._tab = tab;
    this.node.dataset.jwTab = tab;
    for (const [name, { button, panel }] of this._tabs) {
      const on = name === tab;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      panel.hidden = !on;
    }
  }

  dispose(): void {
    if (this.isDisposed) return;
    this._unsubscribe();
    this._unrender();
    this._history?.dispose();
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
  private _history: HistoryView | null;
  private _tab: PanelTab = 'live';
  private _tabs = new Map<PanelTab, { button: HTMLButtonElement; panel: HTMLElement }>();
  private _kernelLabel: HTMLSpanElement;
  private _stateNote: HTMLSpanElement;
  private _empty: HTMLDivElement;
  private _host: HTMLDivElement;
  private _rendered: CommModel | null = null;
  private _cleanup: (() => void) | null = null;
  private _unsubscribe: () => void;
}
