// Camera capture and the live preview, in Debian's Chromium with its fake camera (a moving
// test pattern) against `keizoku serve`: a new class recorded by holding the button (mouse,
// then keyboard) lands as distinct JPEG files in its folder, is learned by the next update,
// shows in Results, and Try it's live camera names it. Over plain HTTP at a non-loopback
// address the dialog explains why there is no camera instead of failing.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startServe } from './support/browser.js';
import { addCaltechClasses, runCli, tempDir } from './support/project.js';

const WAIT = { timeout: 150_000, interval: 250 };
const CAPTURE_NAME = /^capture-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-\d{4,}\.jpg$/;

/** Rows in the project's embedding cache. */
function cachedEmbeddings(root: string): number {
  const db = new Database(path.join(root, '.keizoku', 'keizoku.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const nonLoopbackAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((entry) => entry !== undefined && !entry.internal && entry.family === 'IPv4')?.address;

describe('camera capture and live preview (fake camera)', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium({ fakeCamera: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('records a new class from the camera, learns it at the next update, and recognises it live', async () => {
    const root = tempDir('keizoku-camera-');
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 8 });
    const first = runCli(['update', '--root', root]);
    expect(first.status, first.stderr).toBe(0);
    const server = await startServe(['--root', root]);
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content.Security.Policy|Permissions.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    try {
      expect((await fetch(server.url)).headers.get('permissions-policy')).toContain('camera=(self)');
      await page.goto(server.url);
      await page.locator('[data-class="ketch"]').waitFor(WAIT);

      await page.getByRole('button', { name: 'Capture from camera…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Capture samples from a camera' });
      const record = dialog.getByRole('button', { name: 'Hold to record' });
      expect(await record.isDisabled()).toBe(true); // no class named yet
      await dialog.getByLabel(/^Class/).fill('webcam');
      await expect.poll(() => record.isEnabled(), WAIT).toBe(true); // the camera is live

      // Hold with the mouse for about 1.5 s at the default 8 frames/s.
      const box = (await record.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const pressed = performance.now();
      await page.mouse.down();
      await page.waitForTimeout(1500);
      await page.mouse.up();
      const heldMs = performance.now() - pressed;
      const captured = () => dialog.locator('[data-captured]').getAttribute('data-captured').then(Number);
      const saved = () => dialog.locator('[data-saved]').getAttribute('data-saved').then(Number);
      await expect.poll(async () => (await saved()) > 0 && (await saved()) === (await captured()), WAIT).toBe(true);
      const byMouse = await captured();
      expect(byMouse).toBeGreaterThanOrEqual(2);
      // Never faster than asked: one frame on press, then one per 125 ms.
      expect(byMouse).toBeLessThanOrEqual(Math.ceil(heldMs / 125) + 1);

      // …and by holding Space on the focused button.
      await record.focus();
      await page.keyboard.down(' ');
      await page.waitForTimeout(700);
      await page.keyboard.up(' ');
      await expect.poll(async () => (await saved()) > byMouse && (await saved()) === (await captured()), WAIT).toBe(true);
      const total = await saved();

      // Every frame is its own JPEG file in the new class folder, named by time and sequence.
      const files = readdirSync(path.join(root, 'webcam')).sort();
      expect(files).toHaveLength(total);
      expect(new Set(files).size).toBe(total);
      for (const file of files) {
        expect(file).toMatch(CAPTURE_NAME);
        const bytes = readFileSync(path.join(root, 'webcam', file));
        expect([bytes[0], bytes[1], bytes.at(-2), bytes.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
        const meta = await sharp(bytes).metadata();
        expect(meta.format).toBe('jpeg');
        expect(meta.width).toBeGreaterThan(0);
      }

      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });
      const card = page.locator('[data-class="webcam"]');
      await expect.poll(() => card.textContent(), WAIT).toContain(`${total} samples`);
      expect(await card.textContent()).toContain('new class');
      // The dialog stopped the camera when it closed.
      expect(await page.locator('video').count()).toBe(0);

      // A card's own capture button starts on its class; Escape closes the dialog.
      await page.getByRole('button', { name: 'Capture samples of ketch from a camera' }).click();
      expect(await dialog.getByLabel(/^Class/).inputValue()).toBe('ketch');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      expect(readdirSync(path.join(root, 'ketch')).filter((file) => file.startsWith('capture-'))).toEqual([]);

      await page.getByRole('button', { name: /Update/ }).click();
      await page.getByRole('heading', { name: 'Version 2' }).waitFor(WAIT);
      const perClass = page.locator('table.per-class');
      await expect.poll(() => perClass.locator('tr', { hasText: 'webcam' }).textContent(), WAIT).toContain('new');

      // Try it: the live camera sees the fake camera's pattern, which is what "webcam" learned.
      await page.getByRole('button', { name: 'Try it' }).click();
      const embeddingsBefore = cachedEmbeddings(root);
      await page.getByRole('button', { name: 'Start camera' }).click();
      const live = page.getByRole('list', { name: 'Live predictions' });
      await live.waitFor(WAIT);
      await expect.poll(() => live.locator('li').first().textContent(), WAIT).toContain('webcam');
      expect(await live.locator('li').count()).toBe(3);
      expect(await live.locator('li').first().textContent()).toMatch(/\d+\s?%/);
      // It keeps predicting (several answers), one at a time.
      const answered = () => page.locator('[data-answered]').getAttribute('data-answered').then(Number);
      await expect.poll(answered, WAIT).toBeGreaterThanOrEqual(5);
      await page.getByRole('button', { name: 'Stop camera' }).click();
      expect(await page.locator('video').count()).toBe(0);
      // Live frames are not added to the project's embedding cache.
      expect(cachedEmbeddings(root)).toBe(embeddingsBefore);
      expect(cspViolations).toEqual([]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- keizoku serve stderr ---\n${server.output().stderr}`, { cause: error });
    } finally {
      await context.close();
      await server.stop();
    }
  });

  it.skipIf(nonLoopbackAddress === undefined)('explains that a non-loopback address over HTTP needs HTTPS for the camera', async () => {
    const root = tempDir('keizoku-camera-host-');
    addCaltechClasses(root, ['ketch'], { limit: 2 });
    const token = 'camera-test-token-0123456789';
    const server = await startServe(['--root', root, '--host', nonLoopbackAddress!], { KEIZOKU_TOKEN: token });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      expect(server.url).toContain(`token=${token}`); // serve prints its address with the token
      await page.goto(server.url);
      await page.locator('[data-class="ketch"]').waitFor(WAIT);
      expect(await page.evaluate(() => (globalThis as unknown as { isSecureContext: boolean }).isSecureContext)).toBe(false);
      await page.getByRole('button', { name: 'Capture from camera…' }).click();
      const alert = page.getByRole('dialog').getByRole('alert');
      await alert.waitFor(WAIT);
      expect(await alert.textContent()).toMatch(/HTTPS/);
      expect(await alert.textContent()).toMatch(/localhost/);
    } finally {
      await context.close();
      await server.stop();
    }
  });
});
