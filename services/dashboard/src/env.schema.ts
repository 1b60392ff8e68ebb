import { baseEnvSchema, envBool, port, queueDueWindowSeconds } from '@marquee/config';
import { z } from 'zod';

/** PostgreSQL connections of one dashboard process. */
export const DASHBOARD_DB_POOL_MAX = 4;

// Long enough that guessing is hopeless; no upper bound beyond what a header can carry.
const secret = z.string().min(12, 'must be at least 12 characters').max(1024);

/**
 * The dashboard shows and (unless read-only) changes the queues, so it never runs open: either
 * DASHBOARD_USER + DASHBOARD_PASSWORD (basic auth) or DASHBOARD_TOKEN (bearer) must be set, and
 * neither has a default.
 */
export const dashboardEnvSchema = baseEnvSchema
  .extend({
    DASHBOARD_PORT: port.default(3001),
    DASHBOARD_HOST: z.string().min(1).default('0.0.0.0'),
    DASHBOARD_USER: z.string().min(1).max(256).optional(),
    DASHBOARD_PASSWORD: secret.optional(),
    DASHBOARD_TOKEN: secret.optional(),
    /** Bull Board shows queues and jobs but refuses every change (retry, clean, pause…). */
    DASHBOARD_READ_ONLY: envBool.default(false),
    /** Wrong logins one client address may make in a minute; the next attempts answer 429. */
    DASHBOARD_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
    /** Proxies in front (Express `trust proxy`), so the login throttle sees client addresses. */
    TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
    QUEUE_DUE_WINDOW_SECONDS: queueDueWindowSeconds,
  })
  .superRefine((env, context) => {
    const basic = env.DASHBOARD_USER !== undefined || env.DASHBOARD_PASSWORD !== undefined;
    if (env.DASHBOARD_USER !== undefined && env.DASHBOARD_PASSWORD === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['DASHBOARD_PASSWORD'],
        message: 'is required with DASHBOARD_USER',
      });
    } else if (env.DASHBOARD_PASSWORD !== undefined && env.DASHBOARD_USER === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['DASHBOARD_USER'],
        message: 'is required with DASHBOARD_PASSWORD',
      });
    } else if (!basic && env.DASHBOARD_TOKEN === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['DASHBOARD_PASSWORD'],
        message:
          'is required (with DASHBOARD_USER), or set DASHBOARD_TOKEN: the dashboard never runs without authentication',
      });
    }
  });

export type DashboardEnv = z.output<typeof dashboardEnvSchema>;
