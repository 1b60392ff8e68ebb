import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './process.runner.ts';

export type { Browser, Page } from 'playwright-core';

// Browser tests import this module as `@marquee/testing/browser`, so the package's index stays
// light for the tests that drive no browser.

/** Debian's Chromium: a tool's own browser download fails on machines without internet. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Where browser tests keep their screenshots (CI keeps the folder as an artefact). It is
 * ignored by git; docs/ holds the few screenshots that are committed.
 */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-artifacts', 'screenshots');

export interface LaunchOptions {
  /**
   * Host names resolved to the given addresses inside the browser only (Chromium's
   * `--host-resolver-rules`), e.g. `{ 'api.test': '127.0.0.1' }`: a page can be opened under a
   * host name that is not localhost, as users reach a deployment, with no DNS or /etc/hosts.
   */
  hosts?: Record<string, string>;
}

/**
 * Headless Chromium as this machine can run it: no sandbox (root in CI), and no background
 * networking, whose connections the closed network refuses at every start.
 */
export function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const hostRules = Object.entries(options.hosts ?? {}).map(
    ([name, address]) => `MAP ${name} ${address}`,
  );
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-quic',
      '--no-first-run',
      '--disable-sync',
      ...(hostRules.length > 0 ? [`--host-resolver-rules=${hostRules.join(', ')}`] : []),
    ],
  });
}

/**
 * Records every request a page makes whose host is not one of `allowedHosts`: a page must not
 * reach the internet (fonts, CDNs, trackers).
 */
export function recordForeignRequests(page: Page, allowedHosts: readonly string[]): string[] {
  const foreign: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:') return;
    if (!allowedHosts.includes(url.host)) foreign.push(request.url());
  });
  return foreign;
}

/** A full-page screenshot under SCREENSHOT_DIR/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
