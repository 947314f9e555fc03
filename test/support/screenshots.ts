// Screenshots for docs/screenshots: taken when KEIZOKU_SCREENSHOT_DIR is set (npm run
// screenshots), else into a temporary folder so the same code path always runs.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { tempDir } from './project.js';

const screenshotDir = process.env.KEIZOKU_SCREENSHOT_DIR ? path.resolve(process.env.KEIZOKU_SCREENSHOT_DIR) : tempDir('keizoku-shots-');

/** The viewport as a user sees it, without the toasts or a hover. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  // Clear the toasts (they also time out by themselves, so no locator may wait for one).
  await page.locator('.notices button').evaluateAll((buttons) => buttons.forEach((button) => (button as unknown as { click(): void }).click()));
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: false });
}
