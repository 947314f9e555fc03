// The Review screen as users see it, in a real Chromium against `keizoku serve`: a photo of an
// airplane filed under ketch shows up as a possible label error; it is moved to airplanes from
// the keyboard, and the move is undone from the same screen. The files on disk are checked each time.
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startServe } from './support/browser.js';
import { photoOnSide } from './support/mislabeled.js';
import { addCaltechClasses, runCli, tempDir } from './support/project.js';

const WAIT = { timeout: 150_000, interval: 250 };
const MISLABELED = 'ketch/plane-in-ketch.jpg';
const MOVED = 'airplanes/plane-in-ketch.jpg';

describe('Review screen in a browser (keizoku serve)', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists a wrongly placed file, moves it to its right class and undoes the move', async () => {
    const root = tempDir('keizoku-review-e2e-');
    addCaltechClasses(root, ['airplanes', 'ketch', 'Motorbikes'], { limit: 12 });
    const planeBytes = readFileSync(photoOnSide('airplanes', 'train'));
    copyFileSync(photoOnSide('airplanes', 'train'), path.join(root, MISLABELED));
    const learned = runCli(['update', '--root', root]);
    expect(learned.status, learned.stderr).toBe(0);
    const filesIn = (className: string) => readdirSync(path.join(root, className)).sort();
    const ketchBefore = filesIn('ketch');
    const airplanesBefore = filesIn('airplanes');

    const server = await startServe(['--root', root]);
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    try {
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Review' }).click();
      const issues = page.getByRole('region', { name: 'Possible label errors' });
      const row = issues.locator(`tr[data-path="${MISLABELED}"]`);
      await row.waitFor(WAIT);
      expect(await row.textContent()).toContain('airplanes');
      await expect.poll(() => row.locator('img').count(), WAIT).toBe(1); // its thumbnail

      // The suggested class is preselected; the move is made from the keyboard.
      const target = page.getByLabel(`Move ${MISLABELED} to class`);
      expect(await target.inputValue()).toBe('airplanes');
      await page.getByRole('button', { name: `Move ${MISLABELED} to the chosen class` }).focus();
      await page.keyboard.press('Enter');
      const lastAction = page.locator('.last-action');
      await expect.poll(() => lastAction.textContent(), WAIT).toContain(`Moved ${MISLABELED} to ${MOVED}.`);
      expect(existsSync(path.join(root, MISLABELED))).toBe(false);
      expect(readFileSync(path.join(root, MOVED))).toEqual(planeBytes);
      expect(filesIn('ketch')).toEqual(ketchBefore.filter((name) => name !== 'plane-in-ketch.jpg'));
      expect(filesIn('airplanes')).toEqual([...airplanesBefore, 'plane-in-ketch.jpg'].sort());
      // The model has not judged it in its new place yet: it left the list, and the move is listed for undo.
      await expect.poll(() => issues.locator(`tr[data-path="${MISLABELED}"]`).count(), WAIT).toBe(0);
      const history = page.getByRole('region', { name: 'Moves and exclusions' });
      expect(await history.textContent()).toContain(`${MISLABELED} → ${MOVED}`);

      // Undo, from the same screen.
      await lastAction.getByRole('button', { name: 'Undo' }).click();
      await expect.poll(() => lastAction.textContent(), WAIT).toContain(`Moved back to ${MISLABELED}.`);
      expect(readFileSync(path.join(root, MISLABELED))).toEqual(planeBytes);
      expect(existsSync(path.join(root, MOVED))).toBe(false);
      expect(filesIn('ketch')).toEqual(ketchBefore);
      expect(filesIn('airplanes')).toEqual(airplanesBefore);
      await issues.locator(`tr[data-path="${MISLABELED}"]`).waitFor(WAIT);
      expect(await history.textContent()).toContain('undone');

      // Open shows the photo in a dialog (a browser has no system viewer), and Escape closes it.
      await row.getByRole('button', { name: `Open ${MISLABELED}` }).click();
      const dialog = page.getByRole('dialog', { name: `Preview of ${MISLABELED}` });
      await dialog.locator('img').waitFor(WAIT);
      expect(await dialog.locator('img').getAttribute('src')).toMatch(/^data:image\/webp;base64,/);
      await page.keyboard.press('Escape');
      await expect.poll(() => dialog.count(), WAIT).toBe(0);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- keizoku serve stderr ---\n${server.output().stderr}`, { cause: error });
    } finally {
      await context.close();
      await server.stop();
    }
  });
});
