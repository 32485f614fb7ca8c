// The per-request model: one OrderView per order, assembled once from the three data sources. The order and
// its after-sales records are fetched in parallel, then the carrier's trackings for its packages, so an
// order costs the slowest chain (orders -> carrier), as it does in the gateway.
import { OrderView } from './domain/view.js';

export class Orders {
  constructor(dataSources, viewer, now) {
    this.dataSources = dataSources;
    this.viewer = viewer;
    this.now = now;
    this.views = new Map();
  }

  view(orderId) {
    let view = this.views.get(orderId);
    if (!view) {
      view = this.assemble(orderId);
      this.views.set(orderId, view);
    }
    return view;
  }

  async assemble(orderId) {
    const { orders, carrier, afterSales } = this.dataSources;
    const afterSalesRecord = afterSales.forOrder(orderId).then((record) => [record, null], (error) => [null, error]);
    const order = await orders.order(orderId);
    if (!order || order.buyerId !== this.viewer.subject) return null;
    const keyed = order.packages.filter((p) => p.trackingKey !== null);
    const trackings = new Map();
    let trackingFailure = null;
    if (keyed.length) {
      const found = await carrier.trackings(keyed.map((p) => p.trackingKey));
      keyed.forEach((p, i) => {
        if (found[i] instanceof Error) trackingFailure = found[i];
        else if (found[i]) trackings.set(p.id, found[i]);
      });
    }
    const [record, afterSalesFailure] = await afterSalesRecord;
    return new OrderView({ order, now: this.now, trackings, afterSales: record, trackingFailure, afterSalesFailure });
  }

  /** A page of the buyer's history, newest first: one search, then one batched call per other service. */
  async page(first) {
    const size = Math.min(first + 1, 100);
    const { orders, nextToken } = await this.dataSources.orders.search({ buyer: this.viewer.subject, size });
    const examined = orders.slice(0, first);
    const views = await Promise.all(examined.map((o) => this.view(o.id)));
    return { views, size, more: orders.length > examined.length || nextToken !== null };
  }
}
