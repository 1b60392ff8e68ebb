import { describe, expect, it } from '@jest/globals';
import { thrownBy } from '@marquee/testing';
import { InvalidJobError, isJobName, jobCatalog, parsePayload, QUEUE_NAMES } from '../src/index.ts';

const PROVIDER_ID = '3f1d2c4b-5a69-4788-9a0b-1c2d3e4f5a6b';

/** The InvalidJobError parsePayload throws for `data`. */
const refusal = (data: unknown): InvalidJobError =>
  thrownBy(() => parsePayload('provider.sync', data), InvalidJobError);

describe('the job catalog', () => {
  it('puts every job on a queue it names', () => {
    for (const job of Object.values(jobCatalog)) {
      expect(Object.values(QUEUE_NAMES)).toContain(job.queue);
    }
  });

  it('knows its job names and nothing an object inherits', () => {
    expect(isJobName('provider.sync')).toBe(true);
    for (const name of ['provider.delete', 'toString', 'constructor', '__proto__', '']) {
      expect(isJobName(name)).toBe(false);
    }
  });

  it('returns a valid payload, without keys it does not know', () => {
    expect(
      parsePayload('provider.sync', {
        providerId: PROVIDER_ID,
        trigger: 'manual',
        addedByANewerRelease: true,
      }),
    ).toEqual({ providerId: PROVIDER_ID, trigger: 'manual' });
  });

  it('refuses a bad payload with every problem by field', () => {
    const error = refusal({ providerId: 'not-a-uuid', trigger: 'cron' });
    expect(error.message).toMatch(/^invalid provider\.sync payload: providerId: .+; trigger: .+/);
    expect(refusal({ trigger: 'manual' }).message).toMatch(/providerId: /);
  });

  it.each([null, 'provider', 42, []])('refuses %j as a whole', (data) => {
    expect(refusal(data).message).toMatch(/^invalid provider\.sync payload: payload: /);
  });
});
