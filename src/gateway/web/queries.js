// Every GraphQL document the reference page sends, in one place.
//
// tests/web/test_queries.py reads this file and validates each document against the gateway's
// schema, so keep to one shape: `export const NAME = /* GraphQL */ `...`;`, where `${OTHER}` may
// only splice in another constant of this file (the order fragment is shared by the order page and
// every mutation, so the page re-renders from the mutation's answer without a second request).
// Dates are formatted in each order's own `locale` and `timeZone`, and every label is the API's.

export const ORDER_FIELDS = /* GraphQL */ `
fragment OrderFields on Order {
  id market locale timeZone currency placedAt displayStatus statusLabel
  seller { name }
  deliveryMethod promisedDeliveryDate freeCancellationUntil
  shippingAddress { name line1 line2 city region postalCode country }
  trackingAvailable afterSalesAvailable
  totals { subtotal { formatted } shipping { formatted } tax { formatted } total { formatted } }
  lineItems { id name variant quantity cancelledQuantity customization total { formatted } }
  tracker { headline totalPackages shippedPackages deliveredPackages }
  alerts { kind severity packageId title cause nextStep suggestedAction revisedDate }
  packages {
    id number status statusLabel trackingAvailable
    items { quantity lineItem { id name variant } }
    carrier { name } trackingNumber trackingUrl shippedAt deliveredAt
    eta { earliest latest revised originalDate }
    signatureRequired signedBy pickupLocation
    authentication { status provider submittedAt approvedAt deadline }
    split { reason explanation }
    tracker { kind label state time description }
  }
  unshippedItems { quantity lineItem { name } }
  cancelledItems { quantity lineItem { name } }
  afterSalesActions {
    kind label available message deadline requiresApproval packageIds returnIds
    items {
      quantity note
      lineItem { id name variant }
      reasons { code label category deadline basis }
    }
  }
  returns {
    id status statusLabel requestedAt
    lines { quantity reasonLabel lineItem { name } }
    refund { amount { formatted } state }
    shipping { document carrier trackingNumber shipBy }
    steps { kind label state time description }
    instructions { step title detail }
  }
  cancellations { id status reason items { quantity lineItem { name } } refund { formatted } }
}`;

export const HISTORY = /* GraphQL */ `
query History($first: Int!, $after: String) {
  orders(first: $first, after: $after) {
    edges {
      node {
        id market locale timeZone placedAt displayStatus statusLabel
        seller { name }
        totals { total { formatted } }
        lineItems { name quantity }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const ORDER = /* GraphQL */ `
query Order($id: ID!) {
  order(id: $id) { ...OrderFields }
  cancelReasons { code label }
}
${ORDER_FIELDS}`;

// What every after-sales mutation answers: refusals as data, the return's next steps, the order anew.
const RETURN_PAYLOAD = `
  userErrors { field code message }
  nextSteps { step title detail }
  return { id }
  order { ...OrderFields }`;

export const REQUEST_RETURN = /* GraphQL */ `
mutation RequestReturn($input: RequestReturnInput!) {
  requestReturn(input: $input) { ${RETURN_PAYLOAD} }
}
${ORDER_FIELDS}`;

export const ADD_ITEMS_TO_RETURN = /* GraphQL */ `
mutation AddItemsToReturn($input: AddItemsToReturnInput!) {
  addItemsToReturn(input: $input) { ${RETURN_PAYLOAD} }
}
${ORDER_FIELDS}`;

export const CANCEL_RETURN = /* GraphQL */ `
mutation CancelReturn($input: ReturnChangeInput!) {
  cancelReturn(input: $input) { ${RETURN_PAYLOAD} }
}
${ORDER_FIELDS}`;

export const REPORT_NOT_RECEIVED = /* GraphQL */ `
mutation ReportNotReceived($input: ReportPackageInput!) {
  reportNotReceived(input: $input) { ${RETURN_PAYLOAD} }
}
${ORDER_FIELDS}`;

export const REPORT_LATE = /* GraphQL */ `
mutation ReportLate($input: ReportPackageInput!) {
  reportLate(input: $input) { ${RETURN_PAYLOAD} }
}
${ORDER_FIELDS}`;

export const CANCEL_ORDER = /* GraphQL */ `
mutation CancelOrder($input: CancelOrderInput!) {
  cancelOrder(input: $input) {
    userErrors { field code message }
    cancellation { status }
    order { ...OrderFields }
  }
}
${ORDER_FIELDS}`;

export const CANCEL_ITEMS = /* GraphQL */ `
mutation CancelItems($input: CancelItemsInput!) {
  cancelItems(input: $input) {
    userErrors { field code message }
    cancellation { status }
    order { ...OrderFields }
  }
}
${ORDER_FIELDS}`;

export const CHANGE_ADDRESS = /* GraphQL */ `
mutation ChangeAddress($input: ChangeShippingAddressInput!) {
  changeShippingAddress(input: $input) {
    userErrors { field code message }
    order { ...OrderFields }
  }
}
${ORDER_FIELDS}`;
