import nock from 'nock'
import { createTestEvent, defaultValues } from '@segment/actions-core'
import type { DestinationDefinition, SegmentEvent } from '@segment/actions-core'
import type { Settings } from '../../src/generated-types'
import productionDefinition, { createDestination } from '../../src'
import type { HostLookup } from '../../src/addresses'

export const TRANSACTION_ID = '0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b'
export const TRACKING_ORIGIN = 'https://www.trkexample.com'

export const settings: Settings = {
  apiKey: 'test-api-key-SECRET',
  eventMapping: 'Order Completed=0\nSigned Up=12',
  postbackUrl: `${TRACKING_ORIGIN}/?nid=123&transaction_id={transaction_id}`
}

/** A public address, what the tests' resolver answers for every host, so that no test touches real DNS. */
export const PUBLIC_ADDRESS = '93.184.215.14'
export const publicLookup: HostLookup = () => Promise.resolve([PUBLIC_ADDRESS])

/** A nock reply for a server that takes the request and never answers: only a timeout ends it. */
export const neverAnswers = () => new Promise<[number]>(() => undefined)

/**
 * The destination as Segment loads it: the package's default export. nock answers its postbacks before any
 * connection is made, so action and batch tests need no DNS.
 */
export const definition = productionDefinition

/** The same destination for settings-check tests: the check looks the Postback URL host up, publicLookup answers. */
export const checkedDefinition = createDestination({ lookup: publicLookup })

/** Settings with both secrets set, for tests that prove neither leaks. */
export const SECRET_API_KEY = 'key-SECRET-7f3a'
export const SECRET_TOKEN = 'tok-SECRET-91c2'
export const settingsWithSecrets: Settings = {
  apiKey: SECRET_API_KEY,
  eventMapping: 'Order Completed=0',
  postbackUrl: `${TRACKING_ORIGIN}/?nid=123`,
  verificationToken: SECRET_TOKEN
}

/** A subscription to trackConversion with its default mapping, as Segment's runtime passes it to onEvent/onBatch. */
export function subscriptionTo(
  definition: DestinationDefinition<Settings>,
  subscribe = 'type = "track" and event = "Order Completed"'
) {
  return {
    subscribe,
    partnerAction: 'trackConversion',
    mapping: defaultValues(definition.actions.trackConversion.fields)
  }
}

/** The seed example from the issue, with timestamp and messageId pinned. */
export function orderCompleted(overrides: Partial<SegmentEvent> = {}): SegmentEvent {
  return createTestEvent({
    type: 'track',
    event: 'Order Completed',
    userId: 'a1b2c3d4',
    messageId: 'message-1',
    timestamp: '2026-01-31T12:00:00.000Z',
    context: { referrer: { type: 'everflow', id: TRANSACTION_ID }, ip: '23.123.123.123' } as SegmentEvent['context'],
    properties: { adv1: 'adv1test', adv3: 'adv3test', total: 76.0, orderId: '123456789' },
    ...overrides
  })
}

/** Unix seconds of orderCompleted()'s timestamp. */
export const ORDER_TIMESTAMP = String(Date.parse('2026-01-31T12:00:00.000Z') / 1000)

/** Runs fn and returns what it threw; fails the test when it did not throw. */
export async function thrown(fn: () => unknown): Promise<Error & { status?: number; code?: string }> {
  try {
    await fn()
  } catch (error) {
    return error as Error & { status?: number; code?: string }
  }
  throw new Error('expected a thrown error, but the call succeeded')
}

/** Query parameters of a URL as ordered [name, value] pairs. */
export function queryOf(url: string): Array<[string, string]> {
  return [...new URL(url).searchParams.entries()]
}

/**
 * Every parameter the destination sets itself, plus event_id (never sent next to adv_event_id): written out here,
 * not imported, so a name dropped from the code's table is still tested, and must still be refused.
 */
export const RESERVED_PARAMETER_NAMES = [
  'nid',
  'transaction_id',
  'adv_event_id',
  'event_id',
  'amount',
  'order_id',
  'user_ip',
  'adv1',
  'adv2',
  'adv3',
  'adv4',
  'adv5',
  'coupon_code',
  'email',
  'currency',
  'timestamp',
  'verification_token'
]

/** Intercepts the next postback and answers it; the returned list receives the query it carried. */
export function everflowAnswers(status: number, body: string | object = '', headers: Record<string, string> = {}) {
  const seen: Array<Array<[string, string]>> = []
  nock(TRACKING_ORIGIN)
    .get('/')
    .query((query) => {
      seen.push(Object.entries(query) as Array<[string, string]>)
      return true
    })
    .reply(status, body, headers)
  return seen
}
