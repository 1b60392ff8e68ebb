import { Info } from 'luxon';

// Zones found valid. Luxon checks a zone by building an Intl.DateTimeFormat (about 0.1-0.4 ms),
// which every parse and every date-time of a feed repeated; valid IANA names are a few hundred.
const validZones = new Set<string>();

/** Luxon's `Info.isValidIANAZone`, remembered for valid zones (an invalid one is checked again). */
export function isValidZone(zone: string): boolean {
  if (validZones.has(zone)) return true;
  if (!Info.isValidIANAZone(zone)) return false;
  validZones.add(zone);
  return true;
}
