// The same matmul cases in headless Chromium: in a module Worker with and without cross-origin
// isolation, and inline on the page's main thread.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSuite } from './chromium.js';

const suite = browserSuite();

async function open(mode: 'isolated' | 'plain'): Promise<Page> {
  const page = await suite.browser().newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${suite.origin()}/${mode}/test/browser/page.html`);
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true, undefined, { timeout: 30_000 }).catch(() => {
    throw new Error(`page did not load: ${problems.join('; ')}`);
  });
  return page;
}

type Result = { info: Record<string, unknown>; referenceInfo: Record<string, unknown>; failures: string[]; identical: boolean; checked: number };

function check(page: Page, options: object): Promise<Result> {
  return page.evaluate((o) => (window as unknown as { checkPlacement(o: object): Promise<Result> }).checkPlacement(o), options);
}

describe('matmul in Chromium', () => {
  it('runs the threads build with 2 threads in a worker of a cross-origin-isolated page, same bits as 1 thread', async () => {
    const page = await open('isolated');
    const result = await check(page, { threads: 2 });
    expect(result.info).toMatchObject({ flavour: 'threads', threads: 2, placement: 'worker', platform: 'browser' });
    expect(result.referenceInfo).toMatchObject({ flavour: 'simd', placement: 'worker' });
    expect(result.checked).toBeGreaterThan(125);
    expect(result.failures).toEqual([]);
    expect(result.identical).toBe(true);
    await page.close();
  });

  it('falls back to the simd build in a worker of a page that is not isolated, and says why', async () => {
    const page = await open('plain');
    const result = await check(page, { threads: 2 });
    expect(result.info).toMatchObject({ flavour: 'simd', threads: 1, placement: 'worker' });
    expect(result.info.reason).toMatch(/not cross-origin isolated/);
    expect(result.failures).toEqual([]);
    await page.close();
  });

  it('runs inline on the main thread with the simd build, since a main thread cannot block', async () => {
    const page = await open('isolated');
    const result = await check(page, { worker: false, threads: 2 });
    expect(result.info).toMatchObject({ flavour: 'simd', placement: 'inline' });
    expect(result.info.reason).toMatch(/main thread cannot block/);
    expect(result.failures).toEqual([]);
    await page.close();
  });

  it('runs the relaxed-SIMD builds on request: within f32 rounding, same bits for 1 and 2 threads, other bits than the default build', async () => {
    const page = await open('isolated');
    const threaded = await check(page, { threads: 2, relaxedSimd: true });
    expect(threaded.info).toMatchObject({ flavour: 'relaxedThreads', threads: 2, placement: 'worker' });
    expect(threaded.referenceInfo).toMatchObject({ flavour: 'relaxed', threads: 1 });
    expect(threaded.failures).toEqual([]);
    expect(threaded.identical).toBe(true);
    const compared = await page.evaluate((o) => (window as unknown as { compareRelaxed(o: object): Promise<{ info: object; failures: string[]; differing: number }> }).compareRelaxed(o), { worker: false, threads: 1 });
    expect(compared.info).toMatchObject({ flavour: 'relaxed', placement: 'inline' });
    expect(compared.failures).toEqual([]);
    expect(compared.differing).toBeGreaterThan(0);
    await page.close();
  });

  it('delivers typed errors from the worker as the same classes', async () => {
    const page = await open('plain');
    const message = await page.evaluate(() => (window as unknown as { errorAcrossWorker(): Promise<string> }).errorAcrossWorker());
    expect(message).toBe('true ShapeError: matmul: a must hold 1×2 = 2 values, got 3');
    await page.close();
  });
});
