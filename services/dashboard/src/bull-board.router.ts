import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type RequestHandler } from 'express';

export interface BullBoardRouterOptions {
  queues: readonly Queue[];
  readOnly: boolean;
  /** Bull Board's mount path; its `basePath` must be the same or its links and API calls break. */
  basePath: string;
  /** The provider status page, linked from Bull Board's menu. */
  statusPath: string;
}

/**
 * Bull Board's page asks Google for its fonts (IBM Plex Sans and Mono). The dashboard makes no
 * request to the internet: the same fonts are served from the @fontsource packages, under the
 * board's own path, and every other stylesheet link to another host is dropped.
 */
const FONTS = [
  ['ibm-plex-sans', ['400', '500', '600']],
  ['ibm-plex-mono', ['400', '500']],
] as const;
const FONTS_PATH = 'fonts';
const LOCAL_FONT_LINKS = FONTS.flatMap(([family, weights]) =>
  weights.map((weight) => `<link href="${FONTS_PATH}/${family}/${weight}.css" rel="stylesheet">`),
).join('');
const FOREIGN_LINK = /<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>/g;

export function localizeAssets(html: string): string {
  return html.replace(FOREIGN_LINK, (tag) =>
    tag.includes('fonts.googleapis.com') ? LOCAL_FONT_LINKS : '',
  );
}

// Anchored at this file: in the bundle that is services/dashboard/dist, beside node_modules.
const require = createRequire(import.meta.url);
const fontDir = (family: string) => dirname(require.resolve(`@fontsource/${family}/package.json`));

/** Rewrites the board's HTML page (the only string body it sends) as it goes out. */
const localAssetsOnly: RequestHandler = (_req, res, next) => {
  const send = res.send.bind(res);
  res.send = (body?: unknown) =>
    send(typeof body === 'string' && body.startsWith('<!DOCTYPE') ? localizeAssets(body) : body);
  next();
};

/** Refuses every change before Bull Board sees it (some bulk actions skip read-only queues). */
const readOnlyGuard: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD') {
    next();
    return;
  }
  res.status(405).set('Allow', 'GET, HEAD').json({ error: 'the dashboard is read-only' });
};

/**
 * Bull Board for the given queues: jobs shown with the provider they sync (their data carries
 * its name), a menu link back to the status page, fonts served locally, read-only when asked.
 */
export function bullBoardRouter(options: BullBoardRouterOptions): express.Router {
  const router = express.Router();
  if (options.readOnly) router.use(readOnlyGuard);
  for (const [family] of FONTS)
    router.use(`/${FONTS_PATH}/${family}`, express.static(fontDir(family), { index: false }));
  router.use(localAssetsOnly);

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(options.basePath);
  createBullBoard({
    queues: options.queues.map((queue) => {
      const adapter = new BullMQAdapter(queue, { readOnlyMode: options.readOnly });
      adapter.setFormatter('name', jobTitle);
      return adapter;
    }),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Marquee queues',
        miscLinks: [{ text: 'Provider status', url: options.statusPath }],
        hideDocsLink: true,
      },
    },
  });
  router.use(serverAdapter.getRouter() as express.Router);
  return router;
}

/** "provider.sync · acme": the job's name and, when its data names one, the provider. */
function jobTitle(job: { name?: unknown; data?: unknown }): string {
  const name = typeof job.name === 'string' ? job.name : '';
  const provider = (job.data as { provider?: unknown } | null | undefined)?.provider;
  return typeof provider === 'string' ? `${name} · ${provider}` : name;
}
