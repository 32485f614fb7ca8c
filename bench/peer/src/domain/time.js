// Times are epoch milliseconds (UTC); calendar dates are 'YYYY-MM-DD' strings (they sort as dates).
// The output format is Python's isoformat(), as the gateway's GraphQL DateTime and Date scalars print it.

export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

export function isoDateTime(ms) {
  if (ms === null || ms === undefined) return null;
  const iso = new Date(ms).toISOString(); // 2026-11-17T12:00:00.000Z
  const millis = iso.slice(20, 23);
  return iso.slice(0, 19) + (millis === '000' ? '' : `.${millis}000`) + '+00:00';
}

export function addDays(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const formatters = new Map();

function formatter(zone) {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall-clock date and time of `ms` in `zone`: { date: 'YYYY-MM-DD', hour, minute }. */
export function local(ms, zone) {
  const parts = {};
  for (const { type, value } of formatter(zone).formatToParts(ms)) parts[type] = value;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour), minute: Number(parts.minute) };
}

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function weekday(date) {
  return WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()];
}

export const maxOf = (values) => values.reduce((a, b) => (b > a ? b : a));
export const minOf = (values) => values.reduce((a, b) => (b < a ? b : a));
