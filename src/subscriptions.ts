// Which orders reach the action, in Segment's subscription language (FQL), and why an order is not sent, for the
// preset and for anything that explains a subscription.

/** The event the preset (and the clickless mapping) subscribe to, which Event Mapping must map. */
export const PRESET_EVENT_NAME = 'Order Completed'

/**
 * The Order Completed preset: orders with an Everflow click. FQL's = is case-sensitive, so the referrer type must be
 * "everflow" in lower case, as Segment's docs and Everflow's recipes write it (the action itself accepts any case).
 * Orders without it are not delivered to the action, which Segment does not count as a failure.
 */
export const ORDER_COMPLETED_SUBSCRIPTION = `type = "track" and event = "${PRESET_EVENT_NAME}" and context.referrer.type = "everflow"`

/**
 * The subscription of a mapping for clickless coupon orders, with Clickless Coupon Conversions on: orders with a
 * coupon and no Everflow click. Not a preset: a preset becomes a subscription as soon as the destination is
 * connected, and sending store discount codes to Everflow is the customer's choice. (`!= null` is how FQL says
 * "exists".)
 */
export const CLICKLESS_COUPON_SUBSCRIPTION = `type = "track" and event = "${PRESET_EVENT_NAME}" and context.referrer.type != "everflow" and properties.coupon != null and properties.coupon != ""`

/** What an Order Completed event is to Everflow, read from where the default mapping reads it. */
export type OrderKind = 'everflow-click' | 'coupon-without-click' | 'no-click-no-coupon'

/** Reads the event as the two subscriptions above read it (the referrer type in lower case only). */
export function orderKind(event: {
  context?: { referrer?: { type?: unknown } } | null
  properties?: { coupon?: unknown } | null
}): OrderKind {
  if (event.context?.referrer?.type === 'everflow') return 'everflow-click'
  const coupon = event.properties?.coupon
  return coupon !== undefined && coupon !== null && coupon !== '' ? 'coupon-without-click' : 'no-click-no-coupon'
}

/** Why the Order Completed preset does not send an order of each kind, for a "not subscribed" line. */
export const NOT_SUBSCRIBED_BECAUSE: Readonly<Record<Exclude<OrderKind, 'everflow-click'>, string>> = {
  'coupon-without-click':
    'no Everflow click (context.referrer.type is not "everflow"), but a coupon: sent only by a mapping with Clickless Coupon Conversions on',
  'no-click-no-coupon':
    'no Everflow click (context.referrer.type is not "everflow") and no coupon: nothing Everflow could credit, so not subscribed'
}
