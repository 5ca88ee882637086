// The panel's notifications: which row changes raise one, and their text (plain
// text, never markup). Pure functions over the JobTable's store events.

import { formatDuration, isFinal } from '../../src/index.js';
import type { IRow, StoreEvent } from '../../src/index.js';

/** The extension's settings (schema/plugin.json). */
export interface IPanelSettings {
  notifications: boolean;
  longJobSeconds: number;
}

export const DEFAULT_SETTINGS: IPanelSettings = { notifications: true, longJobSeconds: 60 };

/** A notification to show. `message` is plain text (never markup). */
export interface INotice {
  kind: 'error' | 'success';
  message: string;
}

const MAX_NOTICES = 3; // more finish in one update: one summary instead
const MAX_TEXT = 200;

/** `text` as plain text of at most MAX_TEXT characters. */
export function clip(text: unknown): string {
  const s = text == null ? '' : String(text);
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}\u2026` : s;
}

/** The job's id for a notification, or "(no id yet)" while it has none. */
function jobName(row: IRow): string {
  return row.job_id == null ? '(no id yet)' : clip(row.job_id);
}

/** Seconds the job ran (or waited and ran), or null when the times are unknown. */
function duration(row: IRow): number | null {
  const start = row.started_at ?? row.submitted_at ?? row.created_at;
  if (start == null || row.finished_at == null) return null;
  return Math.max(0, row.finished_at - start);
}

/**
 * The notifications for one store event: a job that failed, and a job that
 * finished (DONE) after running at least `longJobSeconds`. Only deltas count:
 * a reset (a reload, a new connection) lists jobs as they are, quietly. When
 * more than three jobs qualify at once, one summary per kind.
 */
export function noticesFor(event: StoreEvent, settings: IPanelSettings): INotice[] {
  if (!settings.notifications || event.kind !== 'delta') return [];
  const failed: IRow[] = [];
  const long: IRow[] = [];
  for (const { old, row } of event.changes) {
    if (old && isFinal(old.status)) continue; // not a new ending
    if (row.status === 'ERROR') failed.push(row);
    else if (row.status === 'DONE') {
      const t = duration(row);
      if (t !== null && t >= settings.longJobSeconds) long.push(row);
    }
  }
  const notices: INotice[] = [];
  if (failed.length > MAX_NOTICES) {
    notices.push({ kind: 'error', message: `${failed.length} jobs failed` });
  } else {
    for (const row of failed) {
      const why = row.error ? `: ${clip(row.error)}` : '';
      notices.push({ kind: 'error', message: `Job ${jobName(row)} failed${why}` });
    }
  }
  if (long.length > MAX_NOTICES) {
    notices.push({ kind: 'success', message: `${long.length} long jobs finished` });
  } else {
    for (const row of long) {
      notices.push({
        kind: 'success',
        message: `Job ${jobName(row)} finished after ${formatDuration(duration(row))}`
      });
    }
  }
  return notices;
}

