import { Gauge, type Registry } from 'prom-client';

/** A label-less gauge whose value is read afresh on each scrape (a backlog, a lag). */
export function registerScrapedGauge(
  registry: Registry,
  metric: { name: string; help: string },
  read: () => Promise<number>,
): void {
  new Gauge({
    ...metric,
    registers: [registry],
    async collect() {
      this.set(await read());
    },
  });
}
