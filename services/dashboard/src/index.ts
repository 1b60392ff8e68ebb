export {
  createDashboardApp,
  QUEUES_PATH,
  STATUS_REFRESH_SECONDS,
  type DashboardAppOptions,
} from './dashboard.app.ts';
export { bullBoardRouter, localizeAssets } from './bull-board.router.ts';
export { dashboardAuth, type DashboardCredentials } from './dashboard-auth.middleware.ts';
export { dashboardCredentials } from './dashboard-credentials.ts';
export { DASHBOARD_DB_POOL_MAX, dashboardEnvSchema, type DashboardEnv } from './env.schema.ts';
export { escapeHtml } from './html.escape.ts';
export { redisLoginThrottle, type LoginThrottle } from './login.throttle.ts';
export { renderStatusPage, type StatusPageOptions } from './provider-status.page.ts';
