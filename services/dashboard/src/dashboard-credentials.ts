import type { DashboardCredentials } from './dashboard-auth.middleware.ts';
import type { DashboardEnv } from './env.schema.ts';

/** The credentials the environment configures; the env schema guarantees at least one kind. */
export function dashboardCredentials(env: DashboardEnv): DashboardCredentials {
  return {
    ...(env.DASHBOARD_USER !== undefined &&
      env.DASHBOARD_PASSWORD !== undefined && {
        basic: { user: env.DASHBOARD_USER, password: env.DASHBOARD_PASSWORD },
      }),
    ...(env.DASHBOARD_TOKEN !== undefined && { token: env.DASHBOARD_TOKEN }),
  };
}
