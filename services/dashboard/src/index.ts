export { createDashboardApp, QUEUES_PATH, type DashboardAppOptions } from './dashboard.app.ts';
export { dashboardAuth, type DashboardCredentials } from './dashboard-auth.middleware.ts';
export { dashboardCredentials } from './dashboard-credentials.ts';
export { dashboardEnvSchema, type DashboardEnv } from './env.schema.ts';
export { escapeHtml } from './html.escape.ts';
export { renderStatusPage, type StatusPageOptions } from './provider-status.page.ts';
export {
  providerStatusSource,
  type ProviderStatusRow,
  type ProviderStatusSourceOptions,
} from './provider-status.source.ts';
