// Returns as the shopper sees them (a port of the part of gateway/domain/returns.py the order page needs):
// upstream returns sharing a combined id are one group, with a reason per line.
import { REASON_BY_UPSTREAM_CODE } from './policy.js';

export const OPEN_STATUSES = new Set(['REQUESTED', 'APPROVED_AWAITING_SHIPMENT']);
export const LIVE_STATUSES = new Set(['REQUESTED', 'APPROVED_AWAITING_SHIPMENT', 'IN_RETURN_TRANSIT', 'RECEIVED',
  'REFUND_PENDING', 'REFUNDED', 'REPLACED', 'AWAITING_BUYER_RESPONSE', 'IN_ARBITRATION']);
export const FINISHED_STATUSES = new Set(['REFUNDED', 'REPLACED', 'REJECTED', 'CANCELLED']);
const PROGRESS = ['REQUESTED', 'AWAITING_BUYER_RESPONSE', 'IN_ARBITRATION', 'APPROVED_AWAITING_SHIPMENT',
  'IN_RETURN_TRANSIT', 'RECEIVED', 'REFUND_PENDING', 'REFUNDED', 'REPLACED'];

const byTimeThenId = (a, b) => (a.createdAt - b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function groupStatus(records) {
  const live = records.map((r) => r.status).filter((s) => LIVE_STATUSES.has(s));
  if (!live.length) return records.some((r) => r.status === 'CANCELLED') ? 'CANCELLED' : 'REJECTED';
  return live.reduce((a, b) => (PROGRESS.indexOf(b) < PROGRESS.indexOf(a) ? b : a));
}

export function returnGroups(snapshot, items) {
  if (!snapshot.afterSales) return [];
  const itemOfUnit = new Map(items.flatMap((item) => item.units.map((u) => [u.id, item])));
  const grouped = new Map();
  for (const record of snapshot.afterSales.returns) {
    if (!grouped.has(record.groupId)) grouped.set(record.groupId, []);
    grouped.get(record.groupId).push(record);
  }
  const groups = [];
  for (const [id, records] of grouped) {
    records.sort(byTimeThenId);
    const lines = [];
    for (const record of records) {
      const reason = REASON_BY_UPSTREAM_CODE.get(record.reasonCode) ?? 'OTHER';
      const perItem = new Map();
      for (const unitId of record.unitIds) {
        const item = itemOfUnit.get(unitId);
        if (!item) continue;
        const line = perItem.get(item.id) ?? { item, quantity: 0, reason, status: record.status };
        line.quantity += 1;
        perItem.set(item.id, line);
      }
      lines.push(...perItem.values());
    }
    const status = groupStatus(records);
    const live = records.filter((r) => LIVE_STATUSES.has(r.status));
    const kinds = new Set(records.map((r) => r.kind));
    groups.push({
      id, status, records, lines, createdAt: records[0].createdAt,
      kind: kinds.size === 1 ? (live[0] ?? records[0]).kind : 'RETURN_AND_REFUND',
      open: OPEN_STATUSES.has(status), live: LIVE_STATUSES.has(status),
      unitIds: new Set(live.flatMap((r) => r.unitIds)),
      reasons: new Set(lines.map((l) => l.reason)),
    });
  }
  return groups.sort(byTimeThenId);
}
