import { readFile } from 'node:fs/promises';
import { IANAZone } from 'luxon';
import { parseDuration } from '@marquee/config';
import { AddressRefusedError, assertUrlAllowed } from '@marquee/fetch';
import {
  getProviderKind,
  parseProviderConfig,
  ProviderConfigError,
  type ProviderKind,
} from '@marquee/providers';
import { UsageError } from './cli.errors.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

export function checkName(name: string): string {
  if (!NAME.test(name)) {
    throw new UsageError(`provider name "${name}" must be 1-63 letters, digits, ".", "_" or "-"`);
  }
  return name;
}

export function checkKind(kind: string): string {
  try {
    return getProviderKind(kind).kind;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function checkUrl(text: string, field = '--url'): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${field} "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${field} must be http or https, not ${url.protocol.replace(':', '')}`);
  }
  return url.toString();
}

/** SSRF guard at registration: a URL on a refused address is a usage error (exit 2). */
export async function checkUrlAddress(
  url: string,
  allowPrivate: boolean,
  field = '--url',
): Promise<string> {
  try {
    await assertUrlAllowed(url, { allowPrivate });
  } catch (error) {
    if (error instanceof AddressRefusedError) throw new UsageError(`${field}: ${error.message}`);
    throw error;
  }
  return url;
}

export function checkEvery(text: string, field = '--every'): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`${field}: ${(error as Error).message}`);
  }
}

/** Zones found valid: luxon builds an Intl.DateTimeFormat per check, 10,000 entries add up. */
const validZones = new Set<string>();

export function checkTimezone(zone: string, field = '--timezone'): string {
  if (!validZones.has(zone)) {
    if (!IANAZone.isValidZone(zone))
      throw new UsageError(
        `${field} "${zone}" is not an IANA time zone (examples: UTC, Europe/Madrid)`,
      );
    validZones.add(zone);
  }
  return zone;
}

export async function readConfig(file: string | undefined): Promise<Record<string, unknown>> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--config: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config: ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`--config: ${file} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Validates `--config` against the kind's schema; the message names each bad field. */
export function parseKindConfig(
  kind: ProviderKind,
  config: Record<string, unknown>,
  field = '--config',
): Record<string, unknown> {
  try {
    return parseProviderConfig(kind, config) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ProviderConfigError) throw new UsageError(`${field}: ${error.message}`);
    throw error;
  }
}
