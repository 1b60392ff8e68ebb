import { baseEnvSchema } from '@marquee/config';

export const cliEnvSchema = baseEnvSchema;
