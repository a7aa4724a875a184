// The API key and the verification token never appear in an error, a thrown object's fields, or a batch result,
// on any failing path of the action (HTTP failures are covered in faults.test.ts, the settings check in
// authentication.test.ts).
import nock from 'nock'
import { Destination } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import type { Settings } from '../src/generated-types'
import {
  definition,
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

  // The settings parser takes a token from the Postback URL's query as URLSearchParams decodes it, names included;
  // it must then be masked too, here in Everflow's answer that quotes it.
  it.each(['verification_token', 'verification%5Ftoken', 'verification_%74oken'])(
    'a token written into the Postback URL as %s',
    async (parameter) => {
      const urlToken = 'urltoken-5f2c9a81d3'
      nock(TRACKING_ORIGIN).get('/').query(true).reply(400, `bad token ${urlToken}`)
      const error = await thrown(() =>
        destination.onEvent(orderCompleted(), {
          ...settings,
          verificationToken: '',
          postbackUrl: `${TRACKING_ORIGIN}/?nid=123&${parameter}=${urlToken}`,
          subscription
        })
      )
      expect(error.message).toContain('bad token ***')
      expectNoLeak(error, [urlToken])
    }
  )

  it('a batch of failing events', async () => {
    nock(TRACKING_ORIGIN).get('/').query(true).reply(400, `bad token ${TOKEN}`)
    const events = [...badEvents.map(([, event]) => event), orderCompleted()]
    const results = await destination.onBatch(events, { ...settings, subscription })
    expect(JSON.stringify(results)).toContain('bad token ***')
    expectNoLeak(results, secrets)
  })
})

describe('masking shows what is not a secret as it is', () => {
  const batchSubscription = subscriptionTo(definition, 'type = "track"')

  it('a one-letter API Key does not mangle a settings message', async () => {
    const error = await thrown(() =>
      destination.onEvent(orderCompleted(), {
        ...settings,
        apiKey: 'k',
        postbackUrl: 'http://www.trkexample.com/?nid=123',
        subscription
      })
    )
    expect(error.message).toMatch(
      /^Postback URL "http:\/\/www\.trkexample\.com\/" uses http; Everflow postbacks must use https\./
    )
  })

  it('a settings message never quotes a secret pasted into the wrong setting, however short', async () => {
    const error = await thrown(() =>
      destination.onEvent(orderCompleted(), { ...settings, apiKey: 'k', networkId: 'k', subscription })
    )
    expect(error.message).toMatch(/^Network ID: "\*\*\*" is not an Everflow network ID\./)
  })

  // A 2-character token used to mask every "76" as a word: amount=*** in the shown postback.
  it('a Verification Token too short to tell apart from event data is refused, so amount=76 is shown as it is', async () => {
    const [refused] = (await destination.onBatch([orderCompleted()], {
      ...settings,
      verificationToken: '76',
      subscription: batchSubscription
    })) as unknown as Array<{ multistatus: Array<{ status: number; errormessage: string }> }>
    expect(refused.multistatus[0].status).toBe(400)
    expect(refused.multistatus[0].errormessage).toMatch(/^Verification Token is 2 characters long/)
    nock(TRACKING_ORIGIN).get('/').query(true).reply(200, 'OK')
    const [{ multistatus }] = (await destination.onBatch([orderCompleted()], {
      ...settings,
      verificationToken: '76767676',
      subscription: batchSubscription
    })) as unknown as Array<{ multistatus: Array<{ sent: string }> }>
    expect(multistatus[0].sent).toBe(
      `${TRACKING_ORIGIN}/?nid=123&transaction_id=0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b&amount=76&order_id=123456789` +
        '&user_ip=23.123.123.123&adv1=adv1test&adv3=adv3test&timestamp=1769860800&verification_token=***'
    )
  })

  it('event data that holds a short secret (an API key; a short Verification Token is refused) as a word of its own is masked', async () => {
    const error = await thrown(() =>
      destination.onEvent(
        orderCompleted({ context: { referrer: { type: 'everflow', id: '123 x' } } as SegmentEvent['context'] }),
        { ...settings, apiKey: '123', subscription }
      )
    )
    expect(error.message).toContain('transaction_id "*** x" contains spaces')
    expectNoLeak(error, ['123 x'])
  })
})
