// Orders with and without an Everflow click (#20, point 2): which ones the preset delivers, how a clickless coupon
// conversion is sent when the customer chose it, and what an order with neither click nor coupon gets (nothing, and
// no failure). Through Destination.onEvent, which evaluates the subscription as Segment's runtime does.
import nock from 'nock'
import { createTestIntegration, defaultValues, Destination } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import {
  CLICKLESS_COUPON_SUBSCRIPTION,
  NOT_SUBSCRIBED_BECAUSE,
  ORDER_COMPLETED_SUBSCRIPTION,
  orderKind,
  PRESET_EVENT_NAME
} from '../src/subscriptions'
import {
  definition,
  everflowAnswers,
  ORDER_TIMESTAMP,
  orderCompleted,
  settings,
  thrown,
  TRANSACTION_ID
} from './support/helpers'

afterEach(() => {
  const pending = nock.pendingMocks()
  nock.cleanAll()
  expect(pending).toEqual([])
})

const destination = new Destination(definition)
// The preset exactly as defined, as Segment's runtime hands a subscription made from it to onEvent.
const preset = (definition.presets ?? [])[0] as unknown as JSONObject
const defaults = defaultValues(definition.actions.trackConversion.fields)
/** The mapping the docs tell a customer to add for clickless coupon orders. */
const clicklessSubscription = {
  subscribe: CLICKLESS_COUPON_SUBSCRIPTION,
  partnerAction: 'trackConversion',
  mapping: { ...defaults, clickless_coupons: true }
}

function order(referrer: { type?: string; id?: string } | undefined, properties: Record<string, unknown> = {}) {
  return orderCompleted({
    context: { ...(referrer ? { referrer } : {}), ip: '23.123.123.123' } as SegmentEvent['context'],
    properties: { total: 76, orderId: 'o-1', ...properties }
  })
}

describe('the Order Completed preset', () => {
  it('subscribes to orders whose context.referrer.type is "everflow"', () => {
    expect(preset).toMatchObject({
      name: 'Order Completed',
      type: 'automatic',
      subscribe: ORDER_COMPLETED_SUBSCRIPTION
    })
    expect(ORDER_COMPLETED_SUBSCRIPTION).toBe(
      'type = "track" and event = "Order Completed" and context.referrer.type = "everflow"'
    )
    expect(CLICKLESS_COUPON_SUBSCRIPTION).toBe(
      'type = "track" and event = "Order Completed" and context.referrer.type != "everflow" and properties.coupon != null and properties.coupon != ""'
    )
    expect(PRESET_EVENT_NAME).toBe('Order Completed')
  })

  it('sends an order with an Everflow click as before', async () => {
    const seen = everflowAnswers(200, 'OK')
    const results = await destination.onEvent(order({ type: 'everflow', id: TRANSACTION_ID }, { coupon: 'SAVE10' }), {
      ...settings,
      subscription: preset
    })
    expect(results.map((result) => result.output)).toContain('Action Executed')
    expect(seen[0]).toEqual([
      ['nid', '123'],
      ['transaction_id', TRANSACTION_ID],
      ['amount', '76'],
      ['order_id', 'o-1'],
      ['user_ip', '23.123.123.123'],
      ['coupon_code', 'SAVE10'],
      ['timestamp', ORDER_TIMESTAMP]
    ])
  })

  // Before, the preset delivered every Order Completed and each organic order failed with "transaction_id is missing".
  it.each<[string, SegmentEvent]>([
    ['no referrer', order(undefined)],
    ['a referrer of another type', order({ type: 'google', id: 'gclid-1' })],
    ['no referrer but a coupon', order(undefined, { coupon: 'SAVE10' })],
    ['"Everflow" written with a capital (FQL compares exactly)', order({ type: 'Everflow', id: TRANSACTION_ID })]
  ])('does not deliver an order with %s, and that is no failure', async (_name, event) => {
    const results = await destination.onEvent(event, { ...settings, subscription: preset })
    expect(results).toEqual([{ output: 'not subscribed' }])
  })
})

describe('clickless coupon conversions, in a mapping the customer adds', () => {
  it('sends an order with a coupon and no click with coupon_code and no transaction_id', async () => {
    const seen = everflowAnswers(200, 'OK')
    const results = await destination.onEvent(order(undefined, { coupon: 'SAVE10' }), {
      ...settings,
      subscription: clicklessSubscription
    })
    expect(results.map((result) => result.output)).toContain('Action Executed')
    expect(seen[0]).toEqual([
      ['nid', '123'],
      ['amount', '76'],
      ['order_id', 'o-1'],
      ['user_ip', '23.123.123.123'],
      ['coupon_code', 'SAVE10'],
      ['timestamp', ORDER_TIMESTAMP]
    ])
  })

  it('sends the Offer ID as oid when it is mapped, and never the click ID of another referrer', async () => {
    const seen = everflowAnswers(200, 'OK')
    await destination.onEvent(order({ type: 'google', id: 'gclid-1' }, { coupon: 'SAVE10', offerId: 448 }), {
      ...settings,
      subscription: {
        ...clicklessSubscription,
        mapping: { ...clicklessSubscription.mapping, offer_id: { '@path': '$.properties.offerId' } }
      }
    })
    expect(seen[0]).toEqual([
      ['nid', '123'],
      ['amount', '76'],
      ['order_id', 'o-1'],
      ['user_ip', '23.123.123.123'],
      ['coupon_code', 'SAVE10'],
      ['oid', '448'],
      ['timestamp', ORDER_TIMESTAMP]
    ])
  })

  it.each<[string, SegmentEvent]>([
    ['an Everflow click (the preset sends it)', order({ type: 'everflow', id: TRANSACTION_ID }, { coupon: 'SAVE10' })],
    ['no coupon', order(undefined)],
    ['an empty coupon', order(undefined, { coupon: '' })]
  ])('does not deliver an order with %s', async (_name, event) => {
    const results = await destination.onEvent(event, { ...settings, subscription: clicklessSubscription })
    expect(results).toEqual([{ output: 'not subscribed' }])
  })

  it('says where to look when Everflow does not record a clickless conversion', async () => {
    everflowAnswers(204)
    const error = await thrown(() =>
      destination.onEvent(order(undefined, { coupon: 'SAVE10' }), { ...settings, subscription: clicklessSubscription })
    )
    expect(error.message).toBe(
      'Everflow answered 204 No Content: it did not record the conversion for coupon_code SAVE10 (clickless). ' +
        "Look up the order in Everflow's Advertiser Postback report (Reporting): a coupon code Everflow does not know (Partners > Coupon Codes), or one outside its dates, credits no partner."
    )
  })
})

describe('the action decides by Clickless Coupon Conversions, whatever the subscription', () => {
  const testDestination = createTestIntegration(definition)
  const send = (event: SegmentEvent, mapping: JSONObject = {}) =>
    testDestination.testAction('trackConversion', {
      event,
      settings,
      mapping: { ...defaults, ...mapping },
      useDefaultMappings: true
    })

  it('refuses a coupon order without a click when it is off, saying how to send it clickless', async () => {
    const error = await thrown(() => send(order(undefined, { coupon: 'SAVE10' })))
    expect(error.message).toBe(
      'transaction_id is missing: the event has no Everflow transaction ID in context.referrer.id (the default mapping), so Everflow could not tell which click converted. ' +
        'Send it with the event as context.referrer.id, with context.referrer.type "everflow" (context.referrer = { "type": "everflow", "id": <transaction ID> }), the ID taken on the landing page from the Everflow SDK (EF.getAdvertiserTransactionId()) ' +
        'or from the _ef_transaction_id URL parameter; or map Transaction ID to where your events keep it. ' +
        'The event has a coupon code: an order without an Everflow click can be sent as a clickless coupon conversion, which Everflow credits to the partner the code belongs to. ' +
        'Turn on Clickless Coupon Conversions in a mapping subscribed to such orders (see "Orders without an Everflow click" in the docs).'
    )
  })

  it('refuses an order with neither click nor coupon when it is on', async () => {
    const error = await thrown(() => send(order({ type: 'google', id: 'gclid-1' }), { clickless_coupons: true }))
    expect(error.message).toMatch(
      /^coupon_code is missing: Clickless Coupon Conversions is on, and the event has neither an Everflow click .* nor a coupon code/
    )
  })

  it('sends an order with a click as a click when it is on', async () => {
    const seen = everflowAnswers(200, 'OK')
    await send(order({ type: 'EverFlow', id: TRANSACTION_ID }, { coupon: 'SAVE10' }), { clickless_coupons: true })
    expect(seen[0]).toContainEqual(['transaction_id', TRANSACTION_ID])
    expect(seen[0]).toContainEqual(['coupon_code', 'SAVE10'])
  })

  it('sends an Everflow referrer without an ID clickless when it is on and there is a coupon', async () => {
    const seen = everflowAnswers(200, 'OK')
    await send(order({ type: 'everflow' }, { coupon: 'SAVE10' }), { clickless_coupons: true })
    expect(new Map(seen[0]).has('transaction_id')).toBe(false)
    expect(seen[0]).toContainEqual(['coupon_code', 'SAVE10'])
  })

  it.each([0, -1])('refuses the Offer ID %j', async (offerId) => {
    const error = await thrown(() =>
      send(order(undefined, { coupon: 'SAVE10' }), { clickless_coupons: true, offer_id: offerId })
    )
    expect(error.message).toBe(
      `offer_id ${offerId} is not an Everflow offer ID. Use the offer's ID, a whole number such as 448.`
    )
  })
})

describe('orderKind and the not-subscribed reasons', () => {
  const events: Array<Parameters<typeof orderKind>[0]> = [
    {},
    { context: null, properties: null },
    { context: { referrer: { type: 'everflow' } } },
    { context: { referrer: { type: 'Everflow' } }, properties: { coupon: 'X' } },
    { context: { referrer: { type: 'google' } }, properties: { coupon: '' } },
    { properties: { coupon: 'SAVE10' } },
    { properties: { coupon: 0 } },
    { properties: { coupon: null } }
  ]

  /** Whether Segment's runtime delivers the event to a mapping with this subscription (an FQL that does not parse delivers nothing). */
  async function delivers(subscribe: string, event: Parameters<typeof orderKind>[0]): Promise<boolean> {
    // A Postback URL the action refuses at once: a delivered event fails before any request, one not delivered does not.
    const outcome = await destination
      .onEvent(
        {
          type: 'track',
          event: 'Order Completed',
          messageId: 'kind-1',
          timestamp: '2026-01-31T12:00:00Z',
          ...event
        } as SegmentEvent,
        {
          ...settings,
          postbackUrl: 'http://www.trkexample.com/',
          subscription: { subscribe, partnerAction: 'trackConversion', mapping: defaults }
        }
      )
      .catch(() => undefined)
    return !(outcome?.some((result) => result.output === 'not subscribed') ?? false)
  }

  it.each(events)('agrees with the two subscriptions, as Segment evaluates them, for %j', async (event) => {
    const kind = orderKind(event)
    expect(await delivers(ORDER_COMPLETED_SUBSCRIPTION, event)).toBe(kind === 'everflow-click')
    expect(await delivers(CLICKLESS_COUPON_SUBSCRIPTION, event)).toBe(kind === 'coupon-without-click')
  })

  it('has a reason for each kind the preset does not send', () => {
    expect(NOT_SUBSCRIBED_BECAUSE).toEqual({
      'coupon-without-click':
        'no Everflow click (context.referrer.type is not "everflow"), but a coupon: sent only by a mapping with Clickless Coupon Conversions on',
      'no-click-no-coupon':
        'no Everflow click (context.referrer.type is not "everflow") and no coupon: nothing Everflow could credit, so not subscribed'
    })
  })
})
