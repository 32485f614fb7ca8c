// The upstreams' JSON turned into canonical records (a port of gateway/upstream/{orders,carrier,aftersales}.py).
// Times become epoch milliseconds, money { minor, currency }, enums the gateway's names.

const text = (v) => v || null; // the gateway's opt_text: "" and null both mean absent
const unix = (v) => (v === null || v === undefined ? null : v * 1000);
const iso = (v) => (v ? Date.parse(v) : null);
const isoDate = (v) => (v ? v.slice(0, 10) : null);

export function money(amount, currency) {
  return { minor: Math.round(Number(amount) * 100), currency };
}

const MARKETS = { US: 'US', GB: 'UK' };
const SIGNATURES = { NONE: 'NONE', SIGNATURE_REQUIRED: 'SIGNATURE', ADULT_SIGNATURE_REQUIRED: 'ADULT_SIGNATURE' };
const DELIVERY = { HOME_DELIVERY: 'HOME', COLLECTION_POINT: 'PICKUP_POINT' };
const PRODUCT_TAGS = new Set(['FINAL_SALE', 'PERSONALISED', 'PERISHABLE', 'HYGIENE_SEALED', 'PRE_OWNED',
  'REQUIRES_AUTHENTICATION', 'OVERSIZE', 'HIGH_VALUE']);

function unit(u, currency) {
  return {
    id: u.id, skuId: u.sku_id, productId: u.product_id, productName: u.product_name, skuName: text(u.sku_name) ?? '',
    imageUrl: text(u.sku_image) ?? '', price: money(u.sale_price, currency), packageId: text(u.package_id),
    skuType: u.sku_type, handlingDays: u.handling_duration_days ?? null, customization: text(u.customization),
    tags: new Set((u.product_tags ?? []).filter((t) => PRODUCT_TAGS.has(t))), warehouseId: text(u.warehouse_id) ?? '',
    cancelledBy: text(u.cancel_user),
  };
}

function pkg(p) {
  const auth = p.authentication;
  const carrierSlug = text(p.shipping_provider_id);
  const trackingNumber = text(p.tracking_number);
  return {
    id: p.id, fulfilment: p.status, carrierSlug, carrierName: text(p.shipping_provider_name), trackingNumber,
    unitIds: p.order_line_item_ids, warehouseId: text(p.warehouse_id) ?? '', weightG: p.weight_g ?? 0,
    signature: SIGNATURES[text(p.signature_type) ?? 'NONE'],
    mustSplit: (p.must_split_reasons ?? []).map((m) => m.type),
    authentication: auth ? {
      status: auth.status, provider: auth.provider, submittedAt: unix(auth.submit_time),
      deadline: unix(auth.deadline_time), approvedAt: unix(auth.approve_time),
    } : null,
    createdAt: unix(p.create_time), estimatedShipAt: unix(p.estimated_ship_time),
    trackingKey: carrierSlug && trackingNumber ? trackingKey(carrierSlug, trackingNumber) : null,
  };
}

export const trackingKey = (slug, number) => `${slug}\u0000${number}`;

export function parseOrder(o) {
  const currency = o.payment.currency;
  const ext = o.delivery_sla_extension;
  return {
    id: o.id, market: MARKETS[o.region], currency, buyerId: o.buyer_user_id, shopId: o.shop_id,
    shopName: text(o.shop_name) ?? o.shop_id, sourceStatus: o.status, orderType: text(o.order_type) ?? 'NORMAL',
    onHoldOrder: o.is_on_hold_order ?? false, placedAt: unix(o.create_time), paidAt: unix(o.paid_time),
    updatedAt: unix(o.update_time), shipBy: unix(o.rts_sla_time), promisedBy: unix(o.delivery_sla_time),
    slaExtension: ext ? {
      reason: ext.reason, original: unix(ext.original_delivery_sla_time), extended: unix(ext.extended_delivery_sla_time),
    } : null,
    deliveredAt: unix(o.delivery_time), cancelledAt: unix(o.cancel_time),
    cancelledBy: text(o.cancellation_initiator), cancelReason: text(o.cancel_reason),
    deliveryMethod: DELIVERY[o.delivery_type], addressUpdated: o.has_updated_recipient_address ?? false,
    subtotal: money(o.payment.sub_total, currency), shippingFee: money(o.payment.shipping_fee, currency),
    tax: money(o.payment.tax, currency), total: money(o.payment.total_amount, currency),
    units: o.line_items.map((u) => unit(u, currency)), packages: o.packages.map(pkg),
  };
}

const TRACKING_SIGNATURES = { none: 'NONE', signature: 'SIGNATURE', adult_signature: 'ADULT_SIGNATURE' };

export function parseTracking(t) {
  const events = t.checkpoints.map((c) => ({
    time: iso(c.checkpoint_time), tag: c.tag, subtag: c.subtag,
    message: text(c.message) ?? text(c.subtag_message) ?? '', location: text(c.location) ?? '',
  }));
  let deliveredAt = iso(t.shipment_delivery_date);
  if (t.tag === 'Delivered' && deliveredAt === null) {
    deliveredAt = [...events].reverse().find((e) => e.tag === 'Delivered')?.time ?? null;
  }
  return {
    key: trackingKey(t.slug, t.tracking_number), tag: t.tag, subtag: t.subtag, events,
    promisedDate: isoDate(t.order_promised_delivery_date),
    firstEstimate: t.first_estimated_delivery ? isoDate(t.first_estimated_delivery.datetime) : null,
    latestEstimate: t.latest_estimated_delivery ? isoDate(t.latest_estimated_delivery.datetime) : null,
    signature: TRACKING_SIGNATURES[text(t.signature_requirement) ?? 'none'], signedBy: text(t.signed_by),
    failedAttempts: t.failed_delivery_attempts ?? 0, returnToSender: t.return_to_sender ?? false,
    deliveredAt, pickupLocation: text(t.pickup_location), link: text(t.courier_tracking_link),
  };
}

const RETURN_KINDS = { RETURN_AND_REFUND: 'RETURN_AND_REFUND', REFUND: 'REFUND_ONLY', REPLACEMENT: 'REPLACEMENT' };
const RETURN_STATUSES = {
  RETURN_OR_REFUND_REQUEST_PENDING: 'REQUESTED',
  REFUND_OR_RETURN_REQUEST_REJECT: 'REJECTED',
  RETURN_OR_REFUND_REQUEST_REJECT: 'REJECTED',
  AWAITING_BUYER_SHIP: 'APPROVED_AWAITING_SHIPMENT',
  BUYER_SHIPPED_ITEM: 'IN_RETURN_TRANSIT',
  REJECT_RECEIVE_PACKAGE: 'REJECTED',
  RETURN_OR_REFUND_REQUEST_SUCCESS: 'REFUND_PENDING',
  RETURN_OR_REFUND_REQUEST_CANCEL: 'CANCELLED',
  RETURN_OR_REFUND_REQUEST_COMPLETE: 'REFUNDED',
  AWAITING_BUYER_RESPONSE: 'AWAITING_BUYER_RESPONSE',
  REPLACEMENT_REQUEST_PENDING: 'REQUESTED',
  REPLACEMENT_REQUEST_REJECT: 'REJECTED',
  REPLACEMENT_REQUEST_REFUND_SUCCESS: 'REFUNDED',
  REPLACEMENT_REQUEST_CANCEL: 'CANCELLED',
  REPLACEMENT_REQUEST_COMPLETE: 'REPLACED',
};
const CANCEL_STATUSES = {
  CANCELLATION_REQUEST_PENDING: 'REQUESTED',
  CANCELLATION_REQUEST_SUCCESS: 'CANCELLED',
  CANCELLATION_REQUEST_COMPLETE: 'CANCELLED',
  CANCELLATION_REQUEST_CANCEL: 'DECLINED',
  CANCELLATION_REQUEST_CANCELLED: 'DECLINED',
};

const refundOf = (amount) => money(amount.refund_total, amount.currency);
const firstDeadline = (r) => unix(r.seller_next_action_response?.[0]?.deadline ?? null);

function parseReturn(r) {
  const lines = r.return_line_items;
  return {
    id: r.return_id, orderId: r.order_id, groupId: text(r.combined_return_id) ?? r.return_id,
    kind: RETURN_KINDS[r.return_type],
    status: text(r.arbitration_status) === 'IN_PROGRESS' ? 'IN_ARBITRATION' : RETURN_STATUSES[r.return_status],
    sourceStatus: r.return_status, reasonCode: r.return_reason, reasonText: text(r.return_reason_text) ?? '',
    note: text(r.buyer_note), unitIds: lines.map((l) => l.order_line_item_id),
    unitRefunds: lines.map((l) => refundOf(l.refund_amount)), refund: refundOf(r.refund_amount),
    handover: text(r.handover_method) ?? 'DROP_OFF', documentType: text(r.return_shipping_document_type),
    carrierName: text(r.return_provider_name), trackingNumber: text(r.return_tracking_number),
    shipBy: unix(r.ship_due_time), sellerDeadline: firstDeadline(r), createdAt: unix(r.create_time),
    approvedAt: unix(r.approve_time), shippedBackAt: unix(r.buyer_ship_time), receivedAt: unix(r.receive_time),
    refundedAt: unix(r.refund_time), rejectedReason: text(r.reject_reason),
  };
}

function parseCancellation(c) {
  return {
    id: c.cancel_id, orderId: c.order_id, initiator: c.role, status: CANCEL_STATUSES[c.cancel_status],
    reasonCode: c.cancel_reason, reasonText: text(c.cancel_reason_text) ?? '',
    unitIds: c.cancel_line_items.map((l) => l.order_line_item_id), refund: refundOf(c.refund_amount),
    createdAt: unix(c.create_time), sellerDeadline: firstDeadline(c),
  };
}

export function parseAfterSales(a) {
  return {
    orderId: a.order_id, returns: a.returns.map(parseReturn), cancellations: a.cancellations.map(parseCancellation),
  };
}
