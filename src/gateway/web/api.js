// The gateway's development token flow and GraphQL transport.
// The token lives in sessionStorage: it survives a reload of this tab and dies with it.

const TOKEN = 'order-tracker.token';
const SHOPPER = 'order-tracker.shopper';

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  get shopper() { return JSON.parse(sessionStorage.getItem(SHOPPER) ?? 'null'); },
  signIn(token, shopper) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(SHOPPER, JSON.stringify(shopper));
  },
  signOut() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(SHOPPER);
  },
};

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function json(response) {
  const body = await response.json().catch(() => null);
  if (!response.ok && !body?.data) throw new ApiError(body?.error ?? `HTTP ${response.status}`, 'HTTP');
  return body;
}

// Development mode only: the demo shoppers, and a development token for one of them.
export const demoShoppers = async () => json(await fetch('/dev/shoppers'));

export async function devToken(shopperId) {
  return json(await fetch('/dev/token', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ shopper: shopperId }),
  }));
}

// Answers { data, errors }. Throws only when there is no data at all: the gateway answers partial
// data with errors when one upstream is down, and the page still shows what it has.
export async function graphql(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("We couldn't reach the order service. Check your connection and try again.", 'NETWORK');
  }
  const body = await json(response);
  const errors = body?.errors ?? [];
  const root = body?.data && Object.values(body.data)[0];
  if (root === null || root === undefined) {
    const first = errors[0];
    throw new ApiError(first?.message ?? 'Something went wrong.', first?.extensions?.code ?? 'UNKNOWN');
  }
  return { data: body.data, errors };
}

// One key per attempt: a retry of the same attempt reuses it, so the gateway never creates twice.
export function idempotencyKey() {
  if (crypto.randomUUID) return `web-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
