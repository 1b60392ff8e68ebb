import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { Router } from 'express';
import { buildOpenApiDocument } from './openapi.document.ts';
import { sendJsonText } from './response.envelope.ts';

// The package's main module loads the whole UI bundle into Node; only its folder is needed.
const SWAGGER_UI_DIR = dirname(
  createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'),
);

// No inline script: helmet's Content-Security-Policy allows scripts from this origin only.
const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Marquee API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null: Swagger UI never hands the document's URL to validator.swagger.io (its
// standalone layout shows that service's badge for any page not on localhost).
const INIT_JS = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });\n`;

/** `/openapi.json` and `/docs`: the document, and Swagger UI served from this process (no CDN). */
export function docsRouter(): Router {
  const router = Router();
  const document = JSON.stringify(buildOpenApiDocument());
  router.get('/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300');
    sendJsonText(res, 200, document);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').set('Cache-Control', 'public, max-age=300').send(DOCS_HTML);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('js').set('Cache-Control', 'public, max-age=300').send(INIT_JS);
  });
  router.use('/docs', express.static(SWAGGER_UI_DIR, { index: false, maxAge: '1d' }));
  return router;
}
