import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { launchBrowser, recordForeignRequests, screenshot } from '@marquee/testing/browser';

let browser: Browser;
const server = createServer((request, response) => {
  response.setHeader('content-type', 'text/html');
  response.end(
    request.url === '/foreign'
      ? '<link rel="stylesheet" href="http://fonts.example.invalid/x.css"><p>hi</p>'
      : '<title>ok</title><button onclick="this.textContent=\'clicked\'">click</button>',
  );
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  server.close();
});

const origin = () => `127.0.0.1:${(server.address() as AddressInfo).port}`;

test('Debian Chromium renders a local page, runs its script and takes a screenshot', async () => {
  const page = await browser.newPage();
  const foreign = recordForeignRequests(page, [origin()]);
  await page.goto(`http://${origin()}/`);
  await page.click('button');
  expect(await page.textContent('button')).toBe('clicked');
  expect(await screenshot(page, 'testing-browser-smoke')).toMatch(/\.png$/);
  expect(foreign).toEqual([]);
});

test('a request to another host is recorded as foreign', async () => {
  const page = await browser.newPage();
  const foreign = recordForeignRequests(page, [origin()]);
  await page.goto(`http://${origin()}/foreign`, { waitUntil: 'load' }).catch(() => undefined);
  expect(foreign).toEqual(['http://fonts.example.invalid/x.css']);
});
