// The renderer's state, fed by API calls and the engine's event stream.
import type { EngineEvent, Overview, SettingsResult, VersionDetail } from '../../../main/engine/api/app-api.js';
import type { UpdateResult, VersionsResult } from '../../../main/engine/api/contract.js';
import { ApiCallError, call, onEngineEvent } from './bridge.js';
import { EtaTracker } from './eta.js';
import { t } from './i18n/locale.svelte.js';

export type View = 'classes' | 'results' | 'review' | 'try' | 'versions' | 'settings';

export interface TaskProgress {
  phase: string;
  done: number;
  total: number;
  message?: string | undefined;
}

export interface Notice {
  id: number;
  kind: 'info' | 'error' | 'success';
  text: string;
}

class AppState {
  view = $state<View>('classes');
  overview = $state<Overview | null>(null);
  versions = $state<VersionsResult | null>(null);
  headDetail = $state<VersionDetail | null>(null);
  parentDetail = $state<VersionDetail | null>(null);
  settings = $state<SettingsResult | null>(null);
  lastUpdate = $state<UpdateResult | null>(null);
  updating = $state(false);
  cancelling = $state(false);
  updateProgress = $state<TaskProgress | null>(null);
  /** seconds left in the update's current phase, from its rate so far; null until that says something */
  updateSecondsLeft = $state<number | null>(null);
  watchProgress = $state<TaskProgress | null>(null);
  backboneProgress = $state<TaskProgress | null>(null);
  watchProblem = $state<string | null>(null);
  /** set when the engine has no project (desktop first launch) */
  noProject = $state(false);
  loadError = $state<string | null>(null);
  notices = $state<Notice[]>([]);
  thumbnails = $state<Record<string, string | null>>({});
  private nextNotice = 1;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly updateEta = new EtaTracker();

  start(): void {
    // The first load may run before the event stream is open (a watcher that became ready in
    // between would be missed), and a dropped stream misses events: read everything again on open.
    onEngineEvent(
      (event) => this.onEvent(event),
      () => void this.refreshAll(),
    );
    void this.refreshAll();
  }

  notify(kind: Notice['kind'], text: string): void {
    const id = this.nextNotice++;
    this.notices = [...this.notices, { id, kind, text }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 12_000 : 6_000);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((notice) => notice.id !== id);
  }

  async refreshAll(): Promise<void> {
    try {
      await Promise.all([this.refreshOverview(), this.refreshVersions(), this.refreshSettings()]);
      this.noProject = false;
      this.loadError = null;
    } catch (error) {
      if (error instanceof ApiCallError && error.code === 'no-project') this.noProject = true;
      else this.loadError = error instanceof Error ? error.message : String(error);
    }
  }

  async refreshOverview(): Promise<void> {
    this.overview = await call('overview', {});
  }

  async refreshSettings(): Promise<void> {
    this.settings = await call('settings', {});
  }

  async refreshVersions(): Promise<void> {
    const versions = await call('versions', {});
    this.versions = versions;
    const head = versions.versions.find((version) => version.isHead);
    this.headDetail = head ? await call('versionDetail', { id: head.id }) : null;
    this.parentDetail = head?.parentId ? await call('versionDetail', { id: head.parentId }) : null;
  }

  /** Folder changes come in bursts (a copy of 40 files): refresh once they settle. */
  private scheduleOverview(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refreshOverview().catch(() => undefined), 250);
  }

  private onEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'progress': {
        const progress = { phase: event.phase, done: event.done, total: event.total, message: event.message };
        if (event.task === 'update') {
          this.updateProgress = progress;
          this.updateSecondsLeft = this.updateEta.update({ phase: event.phase, done: event.done, total: event.total, at: performance.now() });
        } else if (event.task === 'watch') this.watchProgress = event.phase === 'embed' && event.done < event.total ? progress : null;
        else if (event.task === 'backbone') this.backboneProgress = event.done >= event.total ? null : progress;
        break;
      }
      case 'task':
        if (event.task === 'watch') this.watchProblem = event.state === 'failed' ? (event.message ?? t('shell.watcherStoppedDefault')) : null;
        if (event.task === 'watch' && event.state !== 'started') this.watchProgress = null;
        break;
      case 'changed':
        if (event.what === 'files') this.scheduleOverview();
        else if (event.what === 'versions') void this.refreshVersions().catch(() => undefined);
        else void this.refreshSettings().catch(() => undefined);
        break;
    }
  }

  async runUpdate(): Promise<void> {
    if (this.updating) return;
    this.updating = true;
    this.cancelling = false;
    this.updateProgress = { phase: 'scan', done: 0, total: 1 };
    this.updateEta.reset();
    this.updateSecondsLeft = null;
    try {
      const result = await call('update', {});
      this.lastUpdate = result;
      await Promise.all([this.refreshVersions(), this.refreshOverview(), this.refreshSettings()]);
      if (result.status === 'unchanged') this.notify('info', t('notice.upToDate'));
      else {
        this.notify('success', t('notice.versionReady', { id: String(result.version.id) }));
        this.view = 'results';
      }
    } catch (error) {
      const cancelled = error instanceof ApiCallError && error.code === 'cancelled';
      this.notify(cancelled ? 'info' : 'error', cancelled ? t('notice.updateCancelled') : t('notice.updateFailed', { reason: (error as Error).message }));
    } finally {
      this.updating = false;
      this.cancelling = false;
      this.updateProgress = null;
      this.updateEta.reset();
      this.updateSecondsLeft = null;
    }
  }

  async cancelUpdate(): Promise<void> {
    this.cancelling = true;
    await call('cancelUpdate', {}).catch(() => undefined);
  }

  async thumbnail(relPath: string): Promise<void> {
    if (relPath in this.thumbnails) return;
    this.thumbnails[relPath] = null;
    try {
      const { dataUrl } = await call('thumbnail', { path: relPath });
      this.thumbnails[relPath] = dataUrl;
    } catch {
      // no thumbnail (e.g. a BMP): the card shows a placeholder tile
    }
  }
}

export const app = new AppState();
