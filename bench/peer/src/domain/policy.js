// US and UK policy as data (a port of gateway/domain/policy.py): windows, reasons, wording, formats.
import { local, weekday, MONTHS, HOUR, DAY } from './time.js';

const COM = 'CHANGE_OF_MIND';
const FAULT = 'FAULTY';
const DELIV = 'DELIVERY';
const D = 'ecom_order_delivered_refund_and_return_reason_';
const BOTH = ['US', 'UK'];

// In ReturnReason order: this order is the order reasons are offered in.
export const REASONS = [
  ['NO_LONGER_NEEDED', 'No longer needed', COM, D + 'no_need', BOTH],
  ['DOES_NOT_FIT', "Item doesn't fit", COM, D + 'not_fit', ['US']],
  ['TOO_SMALL', 'Too small or too short', COM, D + 'too_small', ['UK']],
  ['TOO_LARGE', 'Too big or too long', COM, D + 'too_big', ['UK']],
  ['WRONG_SIZE_ORDERED', 'Ordered the wrong size', COM, D + 'wrong_size', ['UK']],
  ['MULTIPLE_SIZES_ORDERED', 'Ordered more than one size', COM, D + 'multiple_sizes', ['UK']],
  ['DOES_NOT_SUIT', "Doesn't suit me", COM, D + 'not_suit', ['UK']],
  ['QUALITY_NOT_AS_EXPECTED', 'Quality or style not as expected', COM, D + 'quality', ['UK']],
  ['UNAUTHORISED_PURCHASE', 'Unauthorised purchase', COM, D + 'unauthorised', ['UK']],
  ['OTHER', 'Other', COM, D + 'other', ['UK']],
  ['NOT_AS_DESCRIBED', "Doesn't match the description", FAULT, D + 'not_as_described', BOTH],
  ['WRONG_ITEM', 'Wrong item sent', FAULT, D + 'wrong_item', BOTH],
  ['DAMAGED', 'Damaged item or packaging', FAULT, D + 'damaged', BOTH],
  ['DEFECTIVE', "Defective or doesn't work", FAULT, D + 'defective', BOTH],
  ['MISSING_PARTS', 'Missing or broken parts', FAULT, D + 'missing_parts', BOTH],
  ['MISSING_ITEM', 'Item missing from the package', FAULT, D + 'missing_item', BOTH],
  ['EXPIRED_OR_SPOILED', 'Expired or spoiled', FAULT, D + 'expired', ['UK']],
  ['NOT_FROZEN', 'Not frozen on arrival', FAULT, D + 'not_frozen', ['UK']],
  ['SUSPECTED_COUNTERFEIT', 'Suspected counterfeit', FAULT, D + 'counterfeit', ['UK']],
  ['MISSED_DELIVERY_DATE', 'Arrived after the estimated date', DELIV, D + 'missed_edd', ['UK']],
  ['NOT_RECEIVED', "Package wasn't received", DELIV, 'ecom_order_delivered_refund_reason_not_received', BOTH, false],
  ['LATE', "Package won't arrive on time", DELIV, 'ecom_order_shipped_refund_reason_late', BOTH, false],
].map(([reason, label, category, upstreamCode, markets, pickable = true], index) => (
  { reason, label, category, upstreamCode, markets: new Set(markets), pickable, index }));

export const REASON_RULES = new Map(REASONS.map((r) => [r.reason, r]));
export const REASON_BY_UPSTREAM_CODE = new Map(REASONS.map((r) => [r.upstreamCode, r.reason]));

export const offeredReasons = (market) => REASONS.filter((r) => r.markets.has(market) && r.pickable);

const window = (basis, categories, days, options = {}) => ({
  basis, categories: new Set(categories), days, start: options.start ?? 'EACH_PACKAGE',
  reasons: options.reasons ? new Set(options.reasons) : null, excluded: new Set(options.excluded ?? []),
});

export function covers(window, rule, tags) {
  if (!window.categories.has(rule.category)) return false;
  if (window.reasons !== null && !window.reasons.has(rule.reason)) return false;
  for (const tag of tags) if (window.excluded.has(tag)) return false;
  return true;
}

const UK_REG_28 = ['PERSONALISED', 'PERISHABLE', 'HYGIENE_SEALED'];
const GRAMS_PER_POUND = 453.59237;

/** Return shipping is free only for an item under both limits (policy.py FreeReturnLimit). */
export const freeReturnCovers = (limit, price, weightG) => price.minor < limit.maxMinor
  && weightG / GRAMS_PER_POUND < limit.maxPounds;

class MarketPolicy {
  constructor(fields) {
    Object.assign(this, {
      freeCancel: HOUR, customsHoldAfter: 48 * HOUR, stalledAfter: 5 * DAY, adultAge: 18, spelling: {},
      notReceivedFollowsReturns: false, freeReturnLimit: null,
    }, fields);
  }

  /** Until when a package delivered at deliveredAt can be reported not received (lastDeliveredAt: null while
   * a package is still on its way). */
  notReceivedUntil(deliveredAt, lastDeliveredAt) {
    let until = deliveredAt + this.notReceivedDays * DAY;
    if (!this.notReceivedFollowsReturns) return until;
    for (const w of this.returnWindows) {
      const anchor = w.start === 'EACH_PACKAGE' ? deliveredAt : lastDeliveredAt;
      if (anchor !== null) until = Math.max(until, anchor + w.days * DAY);
    }
    return until;
  }

  word(key) {
    return this.spelling[key] ?? key;
  }

  money(money) {
    const negative = money.minor < 0;
    const minor = Math.abs(money.minor);
    const units = Math.floor(minor / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const cents = String(minor % 100).padStart(2, '0');
    return `${this.symbol}${negative ? '-' : ''}${units}.${cents}`;
  }

  localDate(ms) {
    return local(ms, this.zone).date;
  }

  /** A short date in the market's style: "Tue, Nov 24" (US) or "Tue 24 Nov" (UK). */
  day(date, today = null) {
    const [y, m, d] = date.split('-');
    const day = Number(d);
    const month = MONTHS[Number(m) - 1];
    const year = today === null || y === today.slice(0, 4) ? '' : ` ${y}`;
    if (this.market === 'US') return `${weekday(date)}, ${month} ${day}` + (year ? `,${year}` : '');
    return `${weekday(date)} ${day} ${month}${year}`;
  }

  moment(ms, today = null) {
    const t = local(ms, this.zone);
    const mm = String(t.minute).padStart(2, '0');
    if (this.market === 'UK') return `${this.day(t.date, today)}, ${String(t.hour).padStart(2, '0')}:${mm}`;
    const hour12 = t.hour % 12 === 0 ? 12 : t.hour % 12;
    return `${this.day(t.date, today)} at ${hour12}:${mm} ${t.hour < 12 ? 'AM' : 'PM'}`;
  }
}

export const POLICIES = {
  US: new MarketPolicy({
    market: 'US', currency: 'USD', symbol: '$', zone: 'America/New_York',
    returnWindows: [
      window('30-day return policy', [COM], 30, { excluded: ['FINAL_SALE', 'PERSONALISED', 'HYGIENE_SEALED', 'PERISHABLE'] }),
      window('30-day return policy', [FAULT, DELIV], 30),
      window('Money-back guarantee (damaged or defective, 90 days)', [FAULT], 90,
        { reasons: ['DAMAGED', 'DEFECTIVE'], excluded: ['PRE_OWNED', 'FINAL_SALE'] }),
    ],
    notReceivedDays: 30,
    adultAge: 21,
    freeReturnLimit: { maxPounds: 70, maxMinor: 170000, described: 'under 70 lb and under $1,700' },
    transitDays: [3, 5],
    refundTiming: 'Refunds land 3-10 business days after the seller receives the return.',
    returnDropOff: 'a UPS Store or USPS location',
    spelling: {
      Cancelled: 'Canceled', cancelled: 'canceled', 'Ready to collect': 'Ready for pickup',
      'pickup point': 'pickup location', parcel: 'package',
    },
  }),
  UK: new MarketPolicy({
    market: 'UK', currency: 'GBP', symbol: '£', zone: 'Europe/London',
    returnWindows: [
      window('30-day extended returns', [COM], 30, { excluded: UK_REG_28 }),
      window('Consumer Contracts Regulations 2013 (14 days after the last item arrives)', [COM], 14,
        { start: 'LAST_PACKAGE', excluded: UK_REG_28 }),
      window('Consumer Rights Act 2015 (30-day right to reject faulty goods)', [FAULT, DELIV], 30),
    ],
    notReceivedDays: 30,
    notReceivedFollowsReturns: true,
    transitDays: [1, 3],
    refundTiming: 'Refunds are made within 14 days of the seller receiving the return.',
    returnDropOff: 'a Post Office or InPost locker',
  }),
};
