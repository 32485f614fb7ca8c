// Dates the API leaves raw, formatted the way the API words its own labels ("Sun, Nov 22" /
// "Sun 22 Nov"). `zone` is what the API answers with the order: `{ locale, timeZone }` (Order.locale,
// Order.timeZone), so the page never keeps its own copy of a market's locale or time zone.

// The page's own wording per market (UI copy, not data): what a package is called, address labels.
const WORDS = {
  US: { parcel: 'package', Parcel: 'Package', region: 'State', postalCode: 'ZIP code' },
  UK: { parcel: 'parcel', Parcel: 'Parcel', region: 'County', postalCode: 'Postcode' },
};

export const market = (code) => WORDS[code] ?? WORDS.US;

function fmt(zone, options, utc = false) {
  return new Intl.DateTimeFormat(zone.locale, { ...options, timeZone: utc ? 'UTC' : zone.timeZone });
}

// A Date scalar ("2026-11-22") is a calendar day, not an instant: read and format it in UTC so no
// time zone moves it to the day before.
export function day(zone, iso) {
  return iso ? fmt(zone, { weekday: 'short', month: 'short', day: 'numeric' }, true).format(new Date(`${iso}T00:00:00Z`)) : '';
}

export function dayRange(zone, earliest, latest) {
  return earliest === latest ? day(zone, earliest) : `${day(zone, earliest)} – ${day(zone, latest)}`;
}

// A DateTime scalar is an instant: shown in the order's time zone, whatever the device's is.
export function when(zone, iso) {
  return iso ? fmt(zone, { weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }).format(new Date(iso)) : '';
}

// The calendar day of an instant, in the order's time zone.
export function dayOf(zone, iso) {
  return iso ? fmt(zone, { weekday: 'short', month: 'short', day: 'numeric' }).format(new Date(iso)) : '';
}

export function shortDay(zone, iso) {
  return iso ? fmt(zone, { month: 'short', day: 'numeric' }).format(new Date(iso)) : '';
}

// A country code from the API ("US", "GB") in the order's language: "United States", "United Kingdom".
export function countryName(zone, code) {
  return code ? new Intl.DisplayNames([zone.locale], { type: 'region' }).of(code) : '';
}

export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
