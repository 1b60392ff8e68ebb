// /docs as a person sees it: Swagger UI in Debian's Chromium, under a host name that is not
// localhost over plain HTTP (as a deployment is reached), every operation and every schema
// expanded; no resolver error, no error box, no request leaving for the internet.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  launchBrowser,
  recordForeignRequests,
  screenshot,
  type Browser,
  type Page,
} from '@marquee/testing/browser';
import { buildOpenApiDocument } from '../src/openapi.document.ts';
import { startApi, type ApiFixture } from './api.fixture.ts';

const HOST = 'api.test';

let api: ApiFixture;
let browser: Browser;
let origin: string;

interface Document {
  paths: Record<string, Record<string, { operationId: string }>>;
  components: { schemas: Record<string, unknown> };
}
const document = buildOpenApiDocument() as unknown as Document;
const operationIds = Object.values(document.paths).flatMap((methods) =>
  Object.values(methods).map((operation) => operation.operationId),
);
const schemaNames = Object.keys(document.components.schemas);

beforeAll(async () => {
  api = await startApi('docs-browser');
  origin = `${HOST}:${new URL(api.url).port}`;
  browser = await launchBrowser({ hosts: { [HOST]: '127.0.0.1' } });
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

/** Text that means Swagger UI failed somewhere on the page. */
const ERROR_TEXT =
  /Resolver error|Could not resolve reference|Failed to load API definition|Fetch error|Parser error/;

async function openDocs(page: Page): Promise<void> {
  await page.goto(`http://${origin}/docs`, { waitUntil: 'networkidle' });
  await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
}

/** Expands every operation and waits until each shows its responses. */
async function expandOperations(page: Page): Promise<void> {
  const operations = page.locator('.opblock');
  for (let index = 0; index < (await operations.count()); index += 1) {
    const operation = operations.nth(index);
    await operation.locator('.opblock-summary-control').click();
    await operation.locator('.responses-wrapper').waitFor();
  }
  await page.waitForLoadState('networkidle');
}

// OpenAPI 3.1 documents render their schemas with Swagger UI's JSON Schema 2020-12 components.
const SCHEMAS = 'section.models article[data-json-schema-level="0"]';

/** Expands every schema of the Schemas section, all the way down ("Expand all"). */
async function expandSchemas(page: Page): Promise<void> {
  const schemas = page.locator(SCHEMAS);
  for (let index = 0; index < (await schemas.count()); index += 1) {
    await schemas.nth(index).locator('.json-schema-2020-12-expand-deep-button').first().click();
  }
  await page.waitForLoadState('networkidle');
}

describe('/docs in a browser, over plain HTTP under a host name that is not localhost', () => {
  it('renders every operation and schema without an error, and loads nothing from the internet', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // The console shows what a person opening the developer tools sees (a missing icon included).
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    const foreign = recordForeignRequests(page, [origin]);
    await openDocs(page);
    await screenshot(page, 'api-docs');

    const blocks = await page.locator('.opblock').all();
    const shown = await Promise.all(
      blocks.map(async (block) => (await block.getAttribute('id')) ?? ''),
    );
    // Swagger UI ids each block `operations-<tag>-<operationId>`.
    expect(shown.map((id) => id.replace(/^operations-[^-]+-/, '')).sort()).toEqual(
      [...operationIds].sort(),
    );

    await expandOperations(page);
    await expandSchemas(page);
    await screenshot(page, 'api-docs-expanded');

    const text = await page.locator('#swagger-ui').innerText();
    expect(text.match(ERROR_TEXT)?.[0] ?? null).toBeNull();
    expect(await page.locator('.errors-wrapper').count()).toBe(0);
    // Every response table is there, and every schema is listed and expanded.
    expect(await page.locator('.responses-wrapper .responses-table').count()).toBe(
      operationIds.length,
    );
    const titles = await page
      .locator(`${SCHEMAS} > .json-schema-2020-12-head .json-schema-2020-12__title`)
      .allInnerTexts();
    expect(titles.sort()).toEqual([...schemaNames].sort());
    // Expanded: no top-level schema is left with a collapsed body.
    expect(await page.locator(`${SCHEMAS} > .json-schema-2020-12-body--collapsed`).count()).toBe(0);
    // An expanded schema shows its fields: the event's own and the error envelope's.
    for (const field of ['starts_at', 'performers', 'next_cursor', 'message']) {
      expect({ field, shown: text.includes(field) }).toEqual({ field, shown: true });
    }
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
