import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './process.runner.ts';

/**
 * The Fever payloads are stored once, where the sample server serves them from
 * (packages/samples/fixtures/fever, provenance in its SOURCES.md).
 */
const FEVER_FIXTURES = join(REPO_ROOT, 'packages', 'samples', 'fixtures', 'fever');

export type FeverFixture = 'response_1.xml' | 'response_2.xml' | 'response_3.xml' | 'plans.xml';

/** One of the stored Fever payloads, byte for byte. */
export function feverFixture(name: FeverFixture): Buffer {
  return readFileSync(join(FEVER_FIXTURES, name));
}
