/** Lowercase letters and digits of any script, accents and punctuation dropped, "&" as "and". */
export function normalizeForMatch(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

// Cities venue names carry as a suffix ("Palau Sant Jordi (Barcelona)", "Sala Apolo - Barcelona")
// when the event itself does not say its city: the largest concert cities of Spain and Catalonia,
// Europe and the Americas, in their local and English spellings, as normalizeForMatch gives them.
const KNOWN_CITIES: ReadonlySet<string> = new Set(
  [
    'Barcelona',
    'Madrid',
    'Valencia',
    'València',
    'Sevilla',
    'Seville',
    'Bilbao',
    'Bilbo',
    'Zaragoza',
    'Málaga',
    'Murcia',
    'Palma',
    'Palma de Mallorca',
    'Granada',
    'Córdoba',
    'Alicante',
    'Alacant',
    'Valladolid',
    'Vigo',
    'Gijón',
    'Oviedo',
    'A Coruña',
    'La Coruña',
    'Santiago de Compostela',
    'San Sebastián',
    'Donostia',
    'Pamplona',
    'Iruña',
    'Vitoria',
    'Gasteiz',
    'Santander',
    'Salamanca',
    'Logroño',
    'Cádiz',
    'Almería',
    'Castellón',
    'Las Palmas',
    'Santa Cruz de Tenerife',
    'Girona',
    'Gerona',
    'Lleida',
    'Lérida',
    'Tarragona',
    'Reus',
    'Sabadell',
    'Terrassa',
    'Badalona',
    "L'Hospitalet de Llobregat",
    'Mataró',
    'Andorra la Vella',
    'Lisboa',
    'Lisbon',
    'Porto',
    'Oporto',
    'Paris',
    'Lyon',
    'Marseille',
    'Toulouse',
    'Bordeaux',
    'Nantes',
    'Lille',
    'Montpellier',
    'Nice',
    'Perpignan',
    'Perpinyà',
    'London',
    'Manchester',
    'Birmingham',
    'Glasgow',
    'Edinburgh',
    'Liverpool',
    'Leeds',
    'Bristol',
    'Dublin',
    'Belfast',
    'Berlin',
    'Hamburg',
    'München',
    'Munich',
    'Köln',
    'Cologne',
    'Frankfurt',
    'Stuttgart',
    'Düsseldorf',
    'Leipzig',
    'Dresden',
    'Wien',
    'Vienna',
    'Zürich',
    'Zurich',
    'Genève',
    'Geneva',
    'Basel',
    'Bern',
    'Roma',
    'Rome',
    'Milano',
    'Milan',
    'Torino',
    'Turin',
    'Napoli',
    'Naples',
    'Bologna',
    'Firenze',
    'Florence',
    'Amsterdam',
    'Rotterdam',
    'Utrecht',
    'Den Haag',
    'The Hague',
    'Bruxelles',
    'Brussel',
    'Brussels',
    'Antwerpen',
    'Antwerp',
    'Gent',
    'Luxembourg',
    'København',
    'Copenhagen',
    'Aarhus',
    'Stockholm',
    'Göteborg',
    'Gothenburg',
    'Oslo',
    'Bergen',
    'Helsinki',
    'Reykjavík',
    'Praha',
    'Prague',
    'Warszawa',
    'Warsaw',
    'Kraków',
    'Krakow',
    'Budapest',
    'Bratislava',
    'Ljubljana',
    'Zagreb',
    'Beograd',
    'Belgrade',
    'București',
    'Bucharest',
    'Sofia',
    'Athína',
    'Athens',
    'Thessaloniki',
    'İstanbul',
    'Istanbul',
    'New York',
    'Los Angeles',
    'Chicago',
    'San Francisco',
    'Seattle',
    'Boston',
    'Austin',
    'Nashville',
    'Miami',
    'Toronto',
    'Montréal',
    'Montreal',
    'Vancouver',
    'Ciudad de México',
    'Mexico City',
    'CDMX',
    'Guadalajara',
    'Monterrey',
    'Buenos Aires',
    'Santiago',
    'Bogotá',
    'Medellín',
    'Lima',
    'São Paulo',
    'Rio de Janeiro',
    'Montevideo',
  ].map(normalizeForMatch),
);

// A suffix set off from the name: "Name (City)", "Name - City", "Name – City", "Name, City".
const SET_OFF_SUFFIX = /^(.*\S)\s*(?:\(([^()]+)\)|\s[-–—|]\s+(.+)|,\s*([^,]+))\s*$/u;

/**
 * The venue name as events are matched on: normalized, without a trailing city. A suffix set off
 * by parentheses, a dash or a comma is dropped when it is the event's own city or a known city;
 * a plain trailing word only when it is the event's own city ("Razzmatazz Barcelona"). Anything
 * else stays: "Sala Apolo 2" and "Sala Apolo" are two venues, and so is a name that would be left
 * empty ("Barcelona").
 */
export function venueForMatch(name: string, city: string | null | undefined): string {
  const whole = normalizeForMatch(name);
  const ownCity = city === null || city === undefined ? '' : normalizeForMatch(city);
  const setOff = SET_OFF_SUFFIX.exec(name.trim());
  if (setOff !== null) {
    const base = normalizeForMatch(setOff[1] ?? '');
    const suffix = normalizeForMatch(setOff[2] ?? setOff[3] ?? setOff[4] ?? '');
    if (base !== '' && suffix !== '' && (suffix === ownCity || KNOWN_CITIES.has(suffix))) {
      return base;
    }
  }
  if (ownCity !== '' && whole.endsWith(` ${ownCity}`)) {
    return whole.slice(0, -ownCity.length - 1);
  }
  return whole;
}
