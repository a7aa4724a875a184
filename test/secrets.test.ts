// The API key and the verification token never appear in an error, a thrown object's fields, or a batch result,
// on any failing path of the action (HTTP failures are covered in faults.test.ts, the settings check in
// authentication.test.ts).
import nock from 'nock'
import { Destination } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import definition from '../src'
import type { Settings } from '../src/generated-types'
import {
  orderCompleted,
  SECRET_API_KEY,
  SECRET_TOKEN,
  settingsWithSecrets,
  subscriptionTo,
  thrown,
  TRACKING_ORIGIN
} from './support/helpers'
import { expectNoLeak } from './support/hardening'

const API_KEY = SECRET_API_KEY
const TOKEN = SECRET_TOKEN
const secrets = [API_KEY, TOKEN]
const settings = settingsWithSecrets
const destination = new Destination(definition)
const subscription = subscriptionTo(definition, 'type = "track"')

afterEach(() => nock.cleanAll())

const badEvents: Array<[string, SegmentEvent]> = [
  ['no transaction id', orderCompleted({ context: { ip: '1.2.3.4' } })],
  [
    'transaction id holding the token',
    orderCompleted({ context: { referrer: { type: 'everflow', id: `${TOKEN} x` } } as SegmentEvent['context'] })
  ],
  [
    'other referrer type',
    orderCompleted({ context: { referrer: { type: 'google', id: 'abc' } } as SegmentEvent['context'] })
  ],
  ['unmapped event', orderCompleted({ event: 'Product Viewed' })],
  ['bad amount', orderCompleted({ properties: { total: '$76' } })],
  ['bad currency', orderCompleted({ properties: { currency: 'dollars' } })],
  ['bad email', orderCompleted({ properties: { email: 'nobody' } })],
  ['bad timestamp', orderCompleted({ timestamp: 'not a date' })],
  ['object where text belongs', orderCompleted({ properties: { adv1: { nested: true } } })],
  ['postback URL too long', orderCompleted({ properties: { adv1: 'x'.repeat(9000) } })]
]

const badSettings: Array<[string, Partial<Settings>]> = [
  [
    'token in the Postback URL query',
    { postbackUrl: `http://www.trkexample.com/?nid=123&verification_token=${TOKEN}` }
  ],
  ['token as a URL password', { postbackUrl: `https://user:${TOKEN}@www.trkexample.com/?nid=123` }],
  ['API key pasted as the Postback URL', { postbackUrl: API_KEY }],
  ['API key pasted into Event Mapping', { eventMapping: API_KEY }],
  ['API key pasted into Network ID', { networkId: API_KEY }],
  ['token pasted into Event Mapping as JSON', { eventMapping: `{"${TOKEN}": -1}` }],
  ['token with a space', { verificationToken: `${TOKEN} ${TOKEN}` }]
]

describe('no secret in what a failing event reports', () => {
  it.each(badEvents)('%s', async (_name, event) => {
    const error = await thrown(() => destination.onEvent(event, { ...settings, subscription }))
    expectNoLeak(error, secrets)
  })

  it.each(badSettings)('%s', async (_name, overrides) => {
    const error = await thrown(() => destination.onEvent(orderCompleted(), { ...settings, ...overrides, subscription }))
    expect(error.message).toMatch(/Postback URL|Event Mapping|Network ID|Verification Token/)
    expectNoLeak(error, [API_KEY, TOKEN, ...(overrides.verificationToken ? [overrides.verificationToken] : [])])
  })

  it('a batch of failing events', async () => {
    nock(TRACKING_ORIGIN).get('/').query(true).reply(400, `bad token ${TOKEN}`)
    const events = [...badEvents.map(([, event]) => event), orderCompleted()]
    const results = await destination.onBatch(events, { ...settings, subscription })
    expect(JSON.stringify(results)).toContain('bad token ***')
    expectNoLeak(results, secrets)
  })
})
