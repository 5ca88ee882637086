// The jobwidgets JupyterLab extension: a side panel listing every job of the
// active notebook's or console's kernel, live, with cancel buttons.

import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, ISessionContext, Notification } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import type { Kernel } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';
import type { Widget } from '@lumino/widgets';

import { ANNOUNCE_TARGET, DEFAULT_SETTINGS, IKernelLike, INotice, PanelModel } from './model.js';
import { HISTORY_PATH, HistoryModel } from './history.js';
import type { HistoryFetch } from './history.js';
import { HistoryView } from './historyView.js';
import { JobsPanel } from './panel.js';

const PLUGIN_ID = 'jobwidgets:plugin';
const PANEL_ID = 'jobwidgets-panel';
const COMMAND = 'jobwidgets:show-panel';
const HISTORY_COMMAND = 'jobwidgets:show-history';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 4h2v2H3zm4 0h14v2H7zM3 11h2v2H3zm4 0h14v2H7zM3 18h2v2H3zm4 0h9v2H7z"/>
    <path d="M19.5 15.5l1.4 1.4-3.4 3.4-2-2 1.4-1.4.6.6z"/>
  </g>
</svg>`;

export const jobsIcon = new LabIcon({ name: 'jobwidgets:jobs', svgstr: ICON_SVG });

interface ITrackedWidget extends Widget {
  sessionContext: ISessionContext;
}

/**
 * The server's job history (jobwidgets' server extension), through
 * ServerConnection so the token and the XSRF cookie go with each request.
 */
function historyFetch(settings: ServerConnection.ISettings): HistoryFetch {
  return async (params, method = 'GET') => {
    // URLExt.join(baseUrl, HISTORY_PATH), without one more dependency
    const url = `${settings.baseUrl.replace(/\/*$/, '/')}${HISTORY_PATH}?${params.toString()}`;
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, { method }, settings);
    } catch (err) {
      throw new Error(`the server did not answer (${err instanceof Error ? err.message : String(err)})`);
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: said below
    }
    if (!response.ok) {
      const message = (body as { message?: unknown } | null)?.message;
      if (response.status === 404 && typeof message !== 'string') {
        throw new Error(
          "this server has no job history (jobwidgets' server extension is not enabled: " +
            'jupyter server extension enable jobwidgets)'
        );
      }
      throw new Error(typeof message === 'string' ? message : `HTTP ${response.status} ${response.statusText}`);
    }
    if (body === null) throw new Error('the server answered something that is not JSON');
    return body;
  };
}

function showNotice(notice: INotice): void {
  const options = { autoClose: notice.kind === 'error' ? 10000 : 6000 };
  if (notice.kind === 'error') Notification.error(notice.message, options);
  else Notification.success(notice.message, options);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A side panel listing the jobs of the active kernel, live, with cancel buttons.',
  autoStart: true,
  optional: [ILabShell, ILayoutRestorer, ICommandPalette, INotebookTracker, IConsoleTracker, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    const model = new PanelModel({ notify: showNotice });
    const history = new HistoryView({
      model: new HistoryModel({ fetch: historyFetch(app.serviceManager.serverSettings) })
    });
    const panel = new JobsPanel(model, history);
    panel.id = PANEL_ID;
    panel.title.icon = jobsIcon;
    panel.title.caption = 'Jobs';
    app.shell.add(panel, 'right', { rank: 600 });
    restorer?.add(panel, PANEL_ID);

    app.commands.addCommand(COMMAND, {
      label: 'Show Jobs',
      caption: 'Show the jobs of the active kernel',
      icon: jobsIcon,
      execute: () => app.shell.activateById(PANEL_ID)
    });
    palette?.addItem({ command: COMMAND, category: 'Jobs' });
    app.commands.addCommand(HISTORY_COMMAND, {
      label: 'Show Job History',
      caption: 'Show past jobs, also of ended kernels',
      icon: jobsIcon,
      execute: () => {
        app.shell.activateById(PANEL_ID);
        panel.showTab('history');
      }
    });
    palette?.addItem({ command: HISTORY_COMMAND, category: 'Jobs' });

    // ---------------------------------------------------------- settings
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then((settings) => {
          const read = () => {
            const notifications = settings.get('notifications').composite;
            const seconds = settings.get('longJobSeconds').composite;
            model.settings = {
              notifications: typeof notifications === 'boolean' ? notifications : DEFAULT_SETTINGS.notifications,
              longJobSeconds:
                typeof seconds === 'number' && seconds >= 0 ? seconds : DEFAULT_SETTINGS.longJobSeconds
            };
          };
          read();
          settings.changed.connect(read);
        })
        .catch((reason) => console.warn('jobwidgets: cannot load the panel settings', reason));
    }

    // ---------------------------------------------------------- which kernel
    const trackers = [notebooks, consoles].filter((t) => t !== null);
    const isTracked = (widget: Widget | null): widget is ITrackedWidget =>
      !!widget && trackers.some((tracker) => tracker!.has(widget));
    let followed: ITrackedWidget | null = null;

    const labelOf = (widget: ITrackedWidget): string => {
      const kernel = widget.sessionContext.session?.kernel;
      const name = widget.title.label || widget.sessionContext.name || '';
      const spec = widget.sessionContext.kernelDisplayName;
      return kernel ? `${name} \u00b7 ${spec}` : name;
    };
    const sync = () => {
      const kernel = followed?.sessionContext.session?.kernel ?? null;
      model.setKernel(kernel as unknown as IKernelLike | null, followed ? labelOf(followed) : '');
      history.model.setNotebook(followed ? followed.sessionContext.path || null : null);
    };
    const follow = (widget: Widget | null) => {
      if (!isTracked(widget) || widget === followed) return;
      if (followed) followed.sessionContext.kernelChanged.disconnect(sync);
      followed = widget;
      followed.sessionContext.kernelChanged.connect(sync);
      followed.disposed.connect(() => {
        if (followed === widget) {
          followed = null;
          sync();
        }
      });
      sync();
    };

    // Every kernel connection of a notebook or console hears the kernel's
    // announcement (so no connection logs an unknown comm target).
    const announced = (kernel: Kernel.IKernelConnection) => () => {
      model.announced(kernel as unknown as IKernelLike);
    };
    const watchKernel = (kernel: Kernel.IKernelConnection | null | undefined) => {
      if (!kernel || kernel.isDisposed) return;
      kernel.registerCommTarget(ANNOUNCE_TARGET, announced(kernel));
    };
    const watchWidget = (widget: ITrackedWidget) => {
      const context = widget.sessionContext;
      watchKernel(context.session?.kernel);
      context.kernelChanged.connect((_, change) => watchKernel(change.newValue));
    };
    for (const tracker of trackers) {
      tracker!.forEach((widget) => watchWidget(widget as ITrackedWidget));
      tracker!.widgetAdded.connect((_, widget) => watchWidget(widget as ITrackedWidget));
    }

    if (labShell) {
      labShell.currentChanged.connect((_, change) => follow(change.newValue));
      follow(labShell.currentWidget);
    } else {
      for (const tracker of trackers) {
        tracker!.currentChanged.connect((_, widget) => follow(widget as Widget | null));
        follow(tracker!.currentWidget as Widget | null);
      }
    }
    // A notebook's title (its name) shows in the header.
    app.restored.then(() => {
      if (!followed) follow(notebooks?.currentWidget ?? consoles?.currentWidget ?? null);
    });
  }
};

export default plugin;
