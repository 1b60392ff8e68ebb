// Keeps a copy of the catalog in a JSON file from /v1/changes (docs/changes.md); with
// WEBHOOK_SECRET it also serves webhooks (docs/webhooks.md): verified, each one reads the feed.
/* global fetch -- Node 20's */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const { MARQUEE_URL, MARQUEE_KEY, COPY_FILE, WEBHOOK_SECRET, PORT } = process.env;
const copy = existsSync(COPY_FILE) ? JSON.parse(readFileSync(COPY_FILE)) : { events: {} };

async function mirror() {
  for (let more = true; more;) {
    const query = copy.cursor ? `after=${copy.cursor}&limit=500` : 'limit=500';
    const res = await fetch(`${MARQUEE_URL}/v1/changes?${query}`, {
      headers: { 'X-API-Key': MARQUEE_KEY },
    });
    if (!res.ok) throw new Error(`/v1/changes: ${res.status} (410: too old, start over)`);
    const { data } = await res.json();
    for (const { event_id, event } of data.changes) copy.events[event_id] = event ?? undefined;
    [copy.cursor, more] = [data.next_cursor, data.has_more]; // saved with its events: exact resume
    writeFileSync(COPY_FILE, JSON.stringify(copy));
  }
}

await mirror();
if (WEBHOOK_SECRET) {
  const hook = new Webhook(WEBHOOK_SECRET);
  let reading = Promise.resolve();
  createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        hook.verify(body, req.headers);
      } catch {
        return res.writeHead(401).end();
      }
      res.writeHead(204).end();
      reading = reading.then(mirror).catch((error) => console.error(error.message));
    });
  }).listen(Number(PORT), () => console.log(`listening on ${PORT}`));
}
