// Debian's Chromium driven by playwright-core: never a browser download. Playwright gives each
// launch a fresh, empty profile.
import { chromium, type Browser } from 'playwright-core';

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
