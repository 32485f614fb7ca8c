// One RESTDataSource per upstream, built per request (Apollo's pattern). GETs are de-duplicated by
// RESTDataSource itself; every entity load goes through a per-request DataLoader, so loads issued in the
// same tick become one batched call per service and each entity is fetched once per request.
import { RESTDataSource } from '@apollo/datasource-rest';
import DataLoader from 'dataloader';
import { parseAfterSales, parseOrder, parseTracking } from './domain/records.js';

const byKey = (keys, found, empty = null) => keys.map((k) => found.get(k) ?? empty);

export class OrdersAPI extends RESTDataSource {
  constructor(baseURL, options) {
    super(options);
    this.baseURL = baseURL;
    this.loader = new DataLoader(async (ids) => {
      const body = await this.get('orders', { params: { ids: ids.join(',') } });
      return byKey(ids, new Map(body.orders.map((o) => [o.id, parseOrder(o)])));
    }, { maxBatchSize: 50 });
  }

  order(id) {
    return this.loader.load(id);
  }

  async search({ buyer, size }) {
    const body = await this.post('orders/search', { body: { page_size: size, buyer_user_id: buyer } });
    const orders = body.orders.map(parseOrder);
    for (const order of orders) this.loader.prime(order.id, order);
    return { orders, nextToken: body.next_page_token || null };
  }
}

export class CarrierAPI extends RESTDataSource {
  constructor(baseURL, options) {
    super(options);
    this.baseURL = baseURL;
    this.loader = new DataLoader(async (keys) => {
      const trackings = keys.map((k) => {
        const [slug, number] = k.split('\u0000');
        return { slug, tracking_number: number };
      });
      const body = await this.post('trackings/batch_get', { body: { trackings } });
      return byKey(keys, new Map(body.trackings.map((t) => { const p = parseTracking(t); return [p.key, p]; })));
    }, { maxBatchSize: 100 });
  }

  trackings(keys) {
    return this.loader.loadMany(keys);
  }
}

export class AfterSalesAPI extends RESTDataSource {
  constructor(baseURL, options) {
    super(options);
    this.baseURL = baseURL;
    this.loader = new DataLoader(async (orderIds) => {
      const body = await this.post('aftersales/batch_get', { body: { order_ids: orderIds } });
      const found = new Map(body.orders.map((a) => [a.order_id, parseAfterSales(a)]));
      return orderIds.map((id) => found.get(id) ?? { orderId: id, returns: [], cancellations: [] });
    }, { maxBatchSize: 50 });
  }

  forOrder(orderId) {
    return this.loader.load(orderId);
  }
}
