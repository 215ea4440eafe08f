// Debian's Chromium driven by playwright-core: never a browser download. Playwright gives each
// launch a fresh, empty profile.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { serve } from './server.js';

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Without the networking flags Chromium tries Google's hosts, which this network refuses.
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
}

/**
 * A browser and the repository's static server for the suite that calls this: started before
 * its tests, closed after them.
 */
export function browserSuite(): { browser(): Browser; origin(): string } {
  let browser: Browser | undefined;
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  beforeAll(async () => {
    server = await serve();
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return { browser: () => browser!, origin: () => server!.origin };
}
