// Resolvers per type. Query resolvers load OrderViews; every Order field reads the same assessed view.
import { createHash } from 'node:crypto';
import { GraphQLError, GraphQLScalarType } from 'graphql';
import { countByItem } from './domain/view.js';
import { isoDateTime } from './domain/time.js';

const PACKAGE_LABELS = {
  PENDING: 'Preparing to ship', AWAITING_AUTHENTICATION: 'Being authenticated', LABEL_CREATED: 'Label created',
  IN_TRANSIT: 'In transit', OUT_FOR_DELIVERY: 'Out for delivery', AVAILABLE_FOR_PICKUP: 'Ready to collect',
  DELIVERY_ATTEMPTED: 'Delivery attempted', DELIVERED: 'Delivered', RETURNING_TO_SENDER: 'Returning to seller',
  RETURNED_TO_SENDER: 'Returned to seller', LOST: 'Lost', DAMAGED: 'Damaged', CANCELLED: 'Cancelled',
};

function requireViewer(viewer, authError) {
  if (authError) throw new GraphQLError(authError, { extensions: { code: 'UNAUTHENTICATED' } });
  if (!viewer) throw new GraphQLError('a bearer token is required', { extensions: { code: 'UNAUTHENTICATED' } });
  return viewer;
}

const money = (m, market) => ({
  amount: (m.minor / 100).toFixed(2), currency: m.currency, formatted: market.money(m), minorUnits: m.minor,
});
const lineItem = (item, view) => ({ item, view });

// The gateway's history cursor (gateway/history.py), so both answer the same bytes.
const fingerprint = (...parts) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
const cursor = (token, size, offset, key) => Buffer.from(JSON.stringify([token, size, offset, key])).toString('base64url');

export const resolvers = {
  DateTime: new GraphQLScalarType({ name: 'DateTime', serialize: (ms) => isoDateTime(ms) }),
  Date: new GraphQLScalarType({ name: 'Date', serialize: (date) => date }),

  Query: {
    async order(_, { id }, { orders, viewer, authError }) {
      requireViewer(viewer, authError);
      const view = await orders.view(id);
      if (!view) throw new GraphQLError(`order ${id} not found`, { extensions: { code: 'NOT_FOUND' } });
      return view;
    },
    async orders(_, { first }, { orders, viewer, authError }) {
      requireViewer(viewer, authError);
      if (first < 1 || first > 50) {
        throw new GraphQLError('first must be between 1 and 50', { extensions: { code: 'BAD_USER_INPUT' } });
      }
      const page = await orders.page(first);
      const key = fingerprint('buyer', viewer.subject, [], null, null);
      const edges = [];
      page.views.forEach((view, i) => {
        if (view) edges.push({ cursor: cursor(null, page.size, i, key), node: view });
      });
      return {
        edges, totalCount: null,
        pageInfo: { hasNextPage: edges.length === first && page.more, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
      };
    },
  },

  OrderConnection: {
    nodes: (connection) => connection.edges.map((e) => e.node),
  },

  Order: {
    id: (view) => view.id,
    currency: (view) => view.snapshot.order.currency,
    placedAt: (view) => view.snapshot.order.placedAt,
    paidAt: (view) => view.snapshot.order.paidAt,
    seller: (view) => ({ id: view.snapshot.order.shopId, name: view.snapshot.order.shopName }),
    status: (view) => view.status,
    displayStatus: (view) => view.display[0],
    statusLabel: (view) => view.display[1],
    lineItems: (view) => view.items.map((item) => lineItem(item, view)),
    totals: (view) => {
      const { order } = view.snapshot;
      return {
        subtotal: money(order.subtotal, view.market), shipping: money(order.shippingFee, view.market),
        tax: money(order.tax, view.market), total: money(order.total, view.market),
      };
    },
    packages: (view) => view.packages.map((p) => ({ p, view })),
    tracker: (view) => view.summary,
    alerts: (view) => view.alerts,
    trackingAvailable: (view) => view.snapshot.trackingFailure === null,
    afterSalesAvailable: (view) => view.snapshot.afterSalesFailure === null,
    afterSalesActions: (view) => {
      if (view.snapshot.afterSalesFailure) {
        throw new GraphQLError('aftersales service unavailable', { extensions: { code: 'UPSTREAM_UNAVAILABLE', service: 'aftersales' } });
      }
      return view.actions.map((action) => ({ action, view }));
    },
  },

  OrderTracker: {
    totalPackages: (s) => s.total,
    shippedPackages: (s) => s.shipped,
    deliveredPackages: (s) => s.delivered,
  },

  LineItem: {
    id: ({ item }) => item.id,
    productId: ({ item }) => item.first.productId,
    skuId: ({ item }) => item.first.skuId,
    name: ({ item }) => item.first.productName,
    variant: ({ item }) => item.first.skuName,
    imageUrl: ({ item }) => item.first.imageUrl,
    customization: ({ item }) => item.first.customization,
    quantity: ({ item }) => item.quantity,
    unitPrice: ({ item, view }) => money(item.unitPrice, view.market),
    total: ({ item, view }) => money({ minor: item.unitPrice.minor * item.quantity, currency: item.unitPrice.currency }, view.market),
  },

  ItemQuantity: {
    lineItem: ({ item, view }) => lineItem(item, view),
  },

  Package: {
    id: ({ p }) => p.id,
    number: ({ p }) => p.number,
    status: ({ p }) => p.status,
    statusLabel: ({ p, view }) => view.market.word(PACKAGE_LABELS[p.status]),
    statusSource: ({ p }) => p.statusSource,
    items: ({ p, view }) => countByItem(view.items, p.units.map((u) => u.id)).map((c) => ({ ...c, view })),
    carrier: ({ p }) => (p.record.carrierSlug ? { slug: p.record.carrierSlug, name: p.record.carrierName || p.record.carrierSlug } : null),
    trackingNumber: ({ p }) => p.record.trackingNumber,
    trackingUrl: ({ p }) => (p.tracking ? p.tracking.link : null),
    shippedAt: ({ p }) => p.shippedAt,
    deliveredAt: ({ p }) => p.deliveredAt,
    eta: ({ p }) => p.eta,
    split: ({ p }) => p.split,
    tracker: ({ p, view }) => view.tracker(p),
    alerts: ({ p, view }) => view.packageAlerts(p.id),
  },

  Eta: {
    originalDate: (eta) => eta.original,
  },

  Alert: {
    suggestedAction: (alert) => alert.suggestion,
  },

  AfterSalesAction: {
    kind: ({ action }) => action.kind,
    label: ({ action, view }) => view.market.word(action.label),
    available: ({ action }) => action.available,
    message: ({ action }) => action.message,
    unavailableReason: ({ action }) => action.unavailable,
    deadline: ({ action }) => action.deadline,
    items: ({ action, view }) => action.items.map((i) => ({ i, view })),
    packageIds: ({ action }) => action.packageIds,
    returnIds: ({ action }) => action.returnIds,
    requiresApproval: ({ action }) => action.requiresApproval,
    alternative: ({ action }) => action.alternative,
  },

  ActionItem: {
    lineItem: ({ i, view }) => lineItem(i.item, view),
    quantity: ({ i }) => i.unitIds.length,
    deadline: ({ i }) => i.deadline,
    reasons: ({ i }) => i.reasons,
    note: ({ i }) => i.note,
  },

  ReturnReasonOption: {
    code: (option) => option.rule.reason,
    label: (option) => option.rule.label,
    category: (option) => option.rule.category,
  },
};
