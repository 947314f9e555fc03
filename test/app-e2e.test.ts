// The app as users see it, in a real Chromium against `keizoku serve`, on real photos:
// an empty folder grows three classes, is updated, grows two more, is updated again;
// prediction, rollback, a corrupt file, and a server restart that keeps everything. Every
// screen passes axe-core (no serious or critical violations) in English and in Japanese.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoSeriousAxeViolations, seriousAxeViolations } from './support/axe.js';
import { launchChromium, startServe } from './support/browser.js';
import { drawCaltechLines } from './support/drawings.js';
import { truncated } from './support/fixtures.js';
import { CALTECH_DIR } from './support/paths.js';
import { addCaltechClasses, runCli, tempDir } from './support/project.js';
import { shot } from './support/screenshots.js';

const PER_CLASS = 10;
const WAIT = { timeout: 150_000, interval: 250 };

const photos = (className: string, split: 'train' | 'test', count: number) => {
  const dir = path.join(CALTECH_DIR, split, className);
  return readdirSync(dir).sort().slice(0, count).map((file) => path.join(dir, file));
};

/** The samples table as the engine left it, for a failure message. */
function sampleRows(root: string): string {
  const db = new Database(path.join(root, '.keizoku', 'keizoku.db'), { readonly: true });
  try {
    return JSON.stringify(db.prepare("SELECT rel_path, status, reason, size, mtime_ms FROM samples WHERE rel_path LIKE 'ketch/%'").all(), null, 1);
  } finally {
    db.close();
  }
}

const percentIn = async (page: Page, label: string) => {
  const text = (await page.getByRole('region', { name: `${label} accuracy` }).textContent()) ?? '';
  const match = /(\d+(?:\.\d)?) ?%/.exec(text);
  return match ? Number(match[1]) : null;
};

describe('desktop UI in a browser (keizoku serve)', () => {
  let browser: Browser;
  const root = tempDir('keizoku-e2e-');
  const cspViolations: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('grows a project from an empty folder, updates twice, predicts, rolls back and survives a restart', async () => {
    let server = await startServe(['--root', root]);
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'en-US' });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    try {
      await page.goto(server.url);
      await page.getByText('No classes yet').waitFor();
      // Files a user adds while the watcher is still starting are learned at the next update;
      // to see them embedded in the background, add them once it watches.
      await page.getByText('Watching folder').waitFor(WAIT);

      // Three classes copied in from outside, as from a file manager, plus one corrupt photo.
      addCaltechClasses(root, ['airplanes', 'ketch', 'Motorbikes'], { limit: PER_CLASS });
      const firstKetch = path.join(root, 'ketch', readdirSync(path.join(root, 'ketch')).sort()[0]!);
      writeFileSync(path.join(root, 'ketch', 'broken.jpg'), truncated(readFileSync(firstKetch)));
      for (const name of ['airplanes', 'ketch', 'Motorbikes']) {
        await expect.poll(() => page.locator(`[data-class="${name}"]`).textContent(), WAIT).toContain(`${PER_CLASS} samples`);
      }
      // The watcher decodes it in the background and the reason shows in the list.
      const brokenRow = page.locator('tr.failure', { hasText: 'ketch/broken.jpg' });
      await brokenRow.waitFor(WAIT);
      expect(await brokenRow.textContent()).toMatch(/truncated|corrupt/i);
      await expect.poll(() => page.locator('[data-class="ketch"] img').count(), WAIT).toBeGreaterThan(0);
      await shot(page, 'classes');
      await expectNoSeriousAxeViolations(page, 'Classes');

      // One button updates; the results carry Retained / New / Overall.
      // …and works from the keyboard: Tab reaches it, Enter presses it.
      const update = page.getByRole('button', { name: /Update/ });
      // The first Tab on the page offers to skip the sidebar.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent)).toBe('Skip to content');
      for (let presses = 0; presses < 30 && !(await update.evaluate((button) => button === button.ownerDocument.activeElement)); presses++) {
        await page.keyboard.press('Tab');
      }
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Version 1' }).waitFor(WAIT);
      await expect.poll(() => percentIn(page, 'New'), WAIT).not.toBeNull();
      expect(await percentIn(page, 'Overall')).toBeGreaterThanOrEqual(80);
      expect(await page.getByRole('region', { name: 'Retained accuracy' }).textContent()).toContain('Retained');

      // Two more classes: one copied into the folder, one added through the app (copied by the engine).
      addCaltechClasses(root, ['bonsai'], { limit: PER_CLASS });
      await page.getByRole('button', { name: 'Classes' }).click();
      const dialog = page.getByRole('dialog');
      // Escape closes the dialog without copying anything; the keyboard stays inside it while open.
      await page.locator('input[type="file"]').setInputFiles(photos('chandelier', 'train', PER_CLASS));
      await dialog.waitFor();
      await page.keyboard.press('Shift+Tab');
      expect(await dialog.evaluate((element) => element.contains(element.ownerDocument.activeElement))).toBe(true);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      await page.locator('input[type="file"]').setInputFiles(photos('chandelier', 'train', PER_CLASS));
      await dialog.getByLabel(/Class/).fill('chandelier');
      await dialog.getByRole('button', { name: 'Copy into project' }).click();
      for (const name of ['bonsai', 'chandelier']) {
        await expect.poll(() => page.locator(`[data-class="${name}"]`).textContent(), WAIT).toContain(`${PER_CLASS} samples`);
        expect(await page.locator(`[data-class="${name}"]`).textContent()).toContain('new class');
      }
      expect(readdirSync(path.join(root, 'chandelier'))).toHaveLength(PER_CLASS);

      await update.click();
      await page.getByRole('heading', { name: 'Version 2' }).waitFor(WAIT);
      await expect.poll(() => percentIn(page, 'Retained'), WAIT).not.toBeNull();
      expect(await percentIn(page, 'Retained')).toBeGreaterThanOrEqual(80);
      expect(await percentIn(page, 'New')).toBeGreaterThanOrEqual(50);
      expect(await percentIn(page, 'Overall')).not.toBeNull();
      await shot(page, 'results');
      // The history chart's numbers are also a table, shown on request.
      await page.getByRole('button', { name: 'Show as table' }).click();
      expect(await page.getByRole('table', { name: 'Retained and new accuracy across versions' }).locator('tbody tr').count()).toBe(2);
      await expectNoSeriousAxeViolations(page, 'Results');

      // Try it: an unseen photo of a learned class.
      await page.getByRole('button', { name: 'Try it' }).click();
      await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles(photos('airplanes', 'test', 1));
      const predictions = page.getByRole('list', { name: 'Top predictions' });
      await predictions.waitFor(WAIT);
      expect(await predictions.locator('li').first().textContent()).toContain('airplanes');
      // …and a whole folder the user picks, labeled by its subfolders.
      const holdout = tempDir('keizoku-holdout-');
      addCaltechClasses(holdout, ['airplanes', 'ketch'], { split: 'test', limit: 3 });
      await page.locator('input[webkitdirectory]').setInputFiles(holdout);
      const folderRun = page.getByRole('region', { name: 'Run on a folder' });
      await expect.poll(() => folderRun.textContent(), WAIT).toMatch(/accuracy \d+\.\d ?% on 6 labeled/);
      await shot(page, 'try-it');
      await expectNoSeriousAxeViolations(page, 'Try it');

      // Roll back to version 1.
      await page.getByRole('button', { name: 'Versions' }).click();
      await page.getByRole('checkbox', { name: 'Compare version 1' }).check();
      await page.getByRole('checkbox', { name: 'Compare version 2' }).check();
      await page.getByRole('region', { name: 'Comparison of v1 and v2' }).waitFor(WAIT);
      // Export the current model (v2) and download it as a browser user would.
      await page.getByRole('button', { name: 'Export model' }).click();
      const downloadLink = page.getByRole('link', { name: 'Download model.onnx' });
      await downloadLink.waitFor(WAIT);
      const href = await downloadLink.getAttribute('href');
      const downloaded = await page.evaluate(async (url) => (await fetch(url!)).arrayBuffer().then((b) => b.byteLength), href);
      expect(downloaded).toBe(statSync(path.join(root, '.keizoku', 'exports', 'v2', 'model.onnx')).size);
      await shot(page, 'versions');
      await expectNoSeriousAxeViolations(page, 'Versions');
      await page.getByRole('button', { name: 'Roll back to v1' }).click();
      await expect.poll(() => page.locator('tr[data-version="1"]').textContent(), WAIT).toContain('current');

      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByLabel('Learner').waitFor();
      // Settings → Fleet: this project joined none, and says how to.
      await expect.poll(() => page.getByTestId('fleet-not-joined').textContent(), WAIT).toContain('keizoku fleet join');
      await shot(page, 'settings');
      await expectNoSeriousAxeViolations(page, 'Settings');

      // Japanese from Settings: every screen speaks it and still passes axe; then back to the system's English.
      await page.getByRole('combobox', { name: 'Language' }).selectOption('ja');
      await page.getByRole('heading', { name: '設定', level: 1 }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('ja');
      expect(await page.getByTestId('learner-description').textContent()).toContain('リッジ回帰');
      await expectNoSeriousAxeViolations(page, 'Settings (ja)');
      await page.getByRole('button', { name: 'クラス' }).click();
      await expect.poll(() => page.locator('[data-class="ketch"]').textContent(), WAIT).toContain(`${PER_CLASS} サンプル`);
      await shot(page, 'classes-ja');
      await expectNoSeriousAxeViolations(page, 'Classes (ja)');
      await page.getByRole('button', { name: '結果' }).click();
      await page.getByRole('region', { name: '全体の精度' }).waitFor();
      await expectNoSeriousAxeViolations(page, 'Results (ja)');
      await page.getByRole('button', { name: '試す' }).click();
      await page.getByRole('heading', { name: '現在のモデルを試す' }).waitFor();
      await expectNoSeriousAxeViolations(page, 'Try it (ja)');
      await page.getByRole('button', { name: 'バージョン' }).click();
      await page.getByRole('button', { name: 'v2 にロールバック' }).waitFor();
      await expectNoSeriousAxeViolations(page, 'Versions (ja)');
      await page.getByRole('button', { name: '設定' }).click();
      await page.getByRole('combobox', { name: '言語' }).selectOption('system');
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('en');

      // The dark theme (the OS's choice) passes too, contrast included.
      await page.emulateMedia({ colorScheme: 'dark' });
      await expectNoSeriousAxeViolations(page, 'Settings (dark)');
      await page.getByRole('button', { name: 'Results' }).click();
      await page.getByRole('region', { name: 'Overall accuracy' }).waitFor();
      await expectNoSeriousAxeViolations(page, 'Results (dark)');
      await page.getByRole('button', { name: 'Classes' }).click();
      await page.locator('[data-class="ketch"]').waitFor();
      await expectNoSeriousAxeViolations(page, 'Classes (dark)');
      await page.emulateMedia({ colorScheme: 'light' });

      // Restart the server: everything is as it was.
      expect((await server.stop()).code).toBe(0);
      server = await startServe(['--root', root]);
      await page.goto(server.url);
      for (const name of ['airplanes', 'ketch', 'Motorbikes', 'bonsai', 'chandelier']) {
        await expect.poll(() => page.locator(`[data-class="${name}"]`).textContent(), WAIT).toContain(`${PER_CLASS} samples`);
      }
      await page.locator('tr.failure', { hasText: 'ketch/broken.jpg' }).waitFor(WAIT);
      await page.getByRole('button', { name: 'Versions' }).click();
      await expect.poll(() => page.locator('tr[data-version="1"]').textContent(), WAIT).toContain('current');
      expect(await page.locator('tr[data-version="2"]').count()).toBe(1);
      expect(cspViolations).toEqual([]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- keizoku serve stderr ---\n${server.output().stderr}\n--- samples ---\n${sampleRows(root)}`, { cause: error });
    } finally {
      await context.close();
      await server.stop();
    }
  });

  it('has an axe check that reports serious violations (the helper every screen uses)', async () => {
    const page = await browser.newPage();
    try {
      await page.setContent('<html lang="en"><head><title>axe check</title></head><body><main><h1>Test</h1><button type="button"></button><p style="color:#bbb;background:#fff">faint</p></main></body></html>');
      const found = (await seriousAxeViolations(page)).map((violation) => violation.id).sort();
      expect(found).toEqual(['button-name', 'color-contrast']);
    } finally {
      await page.close();
    }
  });

  it('shows a class\'s subfolders on its card and their accuracy on the Results screen', async () => {
    const project = tempDir('keizoku-e2e-groups-');
    addCaltechClasses(project, ['airplanes', 'ketch'], { limit: 8 });
    await drawCaltechLines('ketch', 'train', [8, 16], path.join(project, 'ketch', 'drawings'));
    const learned = runCli(['update', '--root', project]);
    expect(learned.status, learned.stderr).toBe(0);
    const server = await startServe(['--root', project]);
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'en-US' });
    const page = await context.newPage();
    try {
      await page.goto(server.url);
      await expect.poll(() => page.locator('[data-class="ketch"]').textContent(), WAIT).toContain('drawings 8');
      expect(await page.locator('[data-class="airplanes"]').textContent()).not.toContain('drawings');
      await page.getByRole('button', { name: 'Results' }).click();
      const table = page.getByRole('region', { name: 'Per-sub-group accuracy' });
      await table.waitFor(WAIT);
      expect(await table.locator('tr[data-sub-group="ketch/drawings"]').textContent()).toMatch(/ketch · drawings\s*\d+ ?%\s*\d+\/\d+/);
      expect(await table.locator('tr[data-sub-group="ketch/"]').textContent()).toContain('top level');
      expect(await table.locator('tr[data-sub-group^="airplanes/"]').count()).toBe(0);

      // A browser whose language is Japanese gets the Japanese UI without asking.
      const japanese = await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'ja-JP' });
      try {
        const pageJa = await japanese.newPage();
        await pageJa.goto(server.url);
        await pageJa.getByRole('heading', { name: 'クラス', level: 1 }).waitFor(WAIT);
        await pageJa.getByRole('button', { name: '結果' }).click();
        const groups = pageJa.getByRole('region', { name: 'サブグループごとの精度' });
        await groups.waitFor(WAIT);
        expect(await groups.locator('tr[data-sub-group="ketch/"]').textContent()).toContain('直下');
        await expectNoSeriousAxeViolations(pageJa, 'Results with sub-groups (ja)');
      } finally {
        await japanese.close();
      }
    } finally {
      await context.close();
      await server.stop();
    }
  });
});
