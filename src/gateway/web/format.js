// Market conventions for what the API leaves raw. The API already words its labels and
// descriptions per market ("Sun, Nov 22" / "Sun 22 Nov"); raw dates are formatted here the same way.
// The time zone is not in the API, so it is kept next to the locale (see the README's reference page).

const MARKETS = {
  US: { locale: 'en-US', timeZone: 'America/New_York', parcel: 'package', Parcel: 'Package',
    region: 'State', postalCode: 'ZIP code', country: 'United States' },
  UK: { locale: 'en-GB', timeZone: 'Europe/London', parcel: 'parcel', Parcel: 'Parcel',
    region: 'County', postalCode: 'Postcode', country: 'United Kingdom' },
};

export const market = (code) => MARKETS[code] ?? MARKETS.US;

function fmt(code, options, utc = false) {
  const m = market(code);
  return new Intl.DateTimeFormat(m.locale, { ...options, timeZone: utc ? 'UTC' : m.timeZone });
}

// A Date scalar ("2026-11-22") is a calendar day, not an instant: read and format it in UTC so no
// time zone moves it to the day before.
export function day(code, iso) {
  return iso ? fmt(code, { weekday: 'short', month: 'short', day: 'numeric' }, true).format(new Date(`${iso}T00:00:00Z`)) : '';
}

export function dayRange(code, earliest, latest) {
  return earliest === latest ? day(code, earliest) : `${day(code, earliest)} – ${day(code, latest)}`;
}

// A DateTime scalar is an instant: shown in the market's own time zone.
export function when(code, iso) {
  return iso ? fmt(code, { weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }).format(new Date(iso)) : '';
}

// The calendar day of an instant, in the market's time zone.
export function dayOf(code, iso) {
  return iso ? fmt(code, { weekday: 'short', month: 'short', day: 'numeric' }).format(new Date(iso)) : '';
}

export function shortDay(code, iso) {
  return iso ? fmt(code, { month: 'short', day: 'numeric' }).format(new Date(iso)) : '';
}

export function longDay(code, iso) {
  return iso ? fmt(code, { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(iso)) : '';
}

export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
