// The PEER: an idiomatic Apollo Server BFF over the same three mock upstreams as the gateway.
// Settings come from the gateway's environment variables (PORT, HOST, ORDERS_URL, CARRIER_URL,
// AFTERSALES_URL, JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, GATEWAY_NOW).
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import jwt from 'jsonwebtoken';
import { AfterSalesAPI, CarrierAPI, OrdersAPI } from './datasources.js';
import { Orders } from './model.js';
import { resolvers } from './resolvers.js';

const env = process.env;
const slash = (url) => (url.endsWith('/') ? url : `${url}/`);
const config = {
  host: env.HOST || '127.0.0.1',
  port: Number(env.PORT || 4000),
  ordersUrl: slash(env.ORDERS_URL || 'http://127.0.0.1:8101/'),
  carrierUrl: slash(env.CARRIER_URL || 'http://127.0.0.1:8102/'),
  afterSalesUrl: slash(env.AFTERSALES_URL || 'http://127.0.0.1:8103/'),
  secret: env.JWT_SECRET,
  issuer: env.JWT_ISSUER || 'order-tracker-dev',
  audience: env.JWT_AUDIENCE || 'order-tracker-gateway',
  now: env.GATEWAY_NOW ? Date.parse(env.GATEWAY_NOW) : null,
};
if (!config.secret) throw new Error('JWT_SECRET is required');

function authenticate(header) {
  if (!header) return { viewer: null, authError: null };
  const [scheme, token] = header.split(' ');
  if (scheme.toLowerCase() !== 'bearer' || !token) return { viewer: null, authError: "Authorization header must be 'Bearer <token>'" };
  try {
    const claims = jwt.verify(token, config.secret, {
      algorithms: ['HS256'], issuer: config.issuer, audience: config.audience, clockTolerance: 30,
    });
    if (claims.role !== 'buyer' || typeof claims.sub !== 'string' || !claims.sub) {
      return { viewer: null, authError: 'this peer serves buyers only' };
    }
    return { viewer: { subject: claims.sub, role: claims.role }, authError: null };
  } catch (error) {
    return { viewer: null, authError: `invalid token (${error.name})` };
  }
}

const server = new ApolloServer({
  typeDefs: readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'),
  resolvers,
  introspection: false,
});

const { url } = await startStandaloneServer(server, {
  listen: { port: config.port, host: config.host },
  context: async ({ req }) => {
    const { cache } = server;
    const dataSources = {
      orders: new OrdersAPI(config.ordersUrl, { cache }),
      carrier: new CarrierAPI(config.carrierUrl, { cache }),
      afterSales: new AfterSalesAPI(config.afterSalesUrl, { cache }),
    };
    const { viewer, authError } = authenticate(req.headers.authorization);
    return { dataSources, viewer, authError, orders: new Orders(dataSources, viewer, config.now ?? Date.now()) };
  },
});
console.log(`peer (Apollo Server) at ${url}`);
