// The browser demo (examples/browser): loaded in Chromium, it trains the character model in a
// Web Worker while the main thread stays free (no long task anywhere near a training step's
// length), draws the loss plot and shows sampled names; cross-origin isolated it uses the
// threads build, and without isolation it falls back with a visible note.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSuite } from './chromium.js';

const suite = browserSuite();

interface Demo { epochs: number; losses: number[]; samples: string[]; flavour: string; threads: number; isolated: boolean; error: string }

async function open(path: string): Promise<Page> {
  const page = await suite.browser().newPage({ viewport: { width: 960, height: 900 } });
  // Long tasks of the main thread (over 50 ms), recorded from before the page's own scripts run.
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${suite.origin()}${path}`);
  return page;
}

const state = (page: Page) => page.evaluate(() => (window as unknown as { demo: Demo }).demo);

describe('the browser demo', () => {
  it('trains in a worker with threads, plots the loss, shows names, and keeps the main thread free', async () => {
    const page = await open('/isolated/examples/browser/index.html?epochs=3&names=1500');
    await page.waitForFunction(() => { const d = (window as unknown as { demo: Demo }).demo; return d.epochs >= 2 || d.error; }, undefined, { timeout: 120_000, polling: 200 });
    const demo = await state(page);
    expect(demo.error).toBe('');
    expect([demo.isolated, demo.flavour, demo.threads]).toEqual([true, 'threads', 2]);
    expect(demo.losses.length).toBeGreaterThan(3);
    expect(demo.losses.at(-1)).toBeLessThan(demo.losses[0]);
    expect(demo.samples).toHaveLength(8);
    expect(demo.samples.some((s) => s.length > 2)).toBe(true);
    // The DOM: the names are on the page and the plot's canvas has a drawn line.
    expect(await page.textContent('#samples')).toContain(demo.samples[0]);
    const drawn = await page.evaluate(() => {
      const canvas = document.querySelector('#plot canvas') as HTMLCanvasElement;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let blue = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 2] > 150 && pixels[i] < 100 && pixels[i + 3] > 0) blue++;
      return blue;
    });
    expect(drawn).toBeGreaterThan(200);
    mkdirSync('test-results', { recursive: true });
    const screenshot = await page.screenshot({ path: 'test-results/browser-demo.png', fullPage: true });
    expect(screenshot.length).toBeGreaterThan(10_000);
    // Training ran for seconds; the main thread never blocked for anything like that long.
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    expect(Math.max(0, ...longTasks)).toBeLessThan(400);
    await page.close();
  });

  it('falls back to the single-threaded build with a visible note when the page is not isolated', async () => {
    const page = await open('/plain/examples/browser/index.html?epochs=1&names=200');
    await page.waitForFunction(() => { const d = (window as unknown as { demo: Demo }).demo; return d.flavour || d.error; }, undefined, { timeout: 60_000 });
    const demo = await state(page);
    expect([demo.error, demo.isolated, demo.flavour]).toEqual(['', false, 'simd']);
    expect(await page.getAttribute('#status', 'class')).toBe('fallback');
    expect(await page.textContent('#status')).toMatch(/single-threaded simd build: .*COOP/);
    await page.close();
  });
});
