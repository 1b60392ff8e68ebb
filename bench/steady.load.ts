import { Agent, request } from 'node:http';

// An open-loop load generator: request i is due at start + i / rate, whatever happened to the
// ones before it, and its latency is measured from that due time (so a stalled server or a late
// generator shows up in the percentiles instead of silently lowering the rate: no coordinated
// omission). autocannon's `overallRate` is not this: each connection sends back to back until it
// has made its share of the current second, then waits for the next one, so every second starts
// with a burst at full speed and its percentiles are those of saturation.

export interface SteadyLoadOptions {
  url: string;
  /** Requests per second. */
  rate: number;
  durationS: number;
  /** Keep-alive connections available (more are never opened). */
  connections: number;
  headers?: Record<string, string>;
}

export interface SteadyLoadResult {
  /** Completed requests per second over the run. */
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** Non-2xx answers and errors. */
  bad: number;
  /** Requests still waiting for a connection or an answer when the run ended (counted as bad). */
  unfinished: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export async function steadyLoad(options: SteadyLoadOptions): Promise<SteadyLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const total = Math.round(options.rate * options.durationS);
  /** By completion order. */
  const latencies = new Float64Array(total);
  const intervalMs = 1000 / options.rate;
  let sent = 0;
  let done = 0;
  let bad = 0;
  const start = performance.now();

  const finished = new Promise<void>((resolve) => {
    const settle = (index: number, ok: boolean) => {
      latencies[done] = performance.now() - (start + index * intervalMs);
      if (!ok) bad += 1;
      done += 1;
      if (done === total) resolve();
    };
    const fire = (index: number) => {
      const req = request(options.url, { agent, headers: options.headers }, (res) => {
        const ok = res.statusCode !== undefined && res.statusCode < 300;
        res.on('end', () => settle(index, ok));
        res.on('error', () => settle(index, false));
        res.resume();
      });
      req.on('error', () => settle(index, false));
      req.end();
    };
    // Timers fire at best every millisecond: each tick sends every request due by then.
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) fire(sent++);
      if (sent === total) clearInterval(tick);
    }, 1);
  });
  // Answers still outstanding long after the last was due count as failures, not as waits.
  const deadline = new Promise<void>((resolve) =>
    setTimeout(resolve, options.durationS * 1000 + 10_000).unref(),
  );
  await Promise.race([finished, deadline]);
  const elapsedS = (performance.now() - start) / 1000;
  agent.destroy();
  const measured = latencies.slice(0, done).sort();
  return {
    rps: Math.round(done / elapsedS),
    p50: Math.round(percentile(measured, 50) * 10) / 10,
    p99: Math.round(percentile(measured, 99) * 10) / 10,
    max: Math.round((measured[measured.length - 1] ?? NaN) * 10) / 10,
    bad: bad + (total - done),
    unfinished: total - done,
  };
}
