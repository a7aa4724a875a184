import nock from 'nock'
import {
  createTestIntegration,
  defaultValues,
  Destination,
  IntegrationError,
  PayloadValidationError,
  RetryableError
} from '@segment/actions-core'
import { createDestination } from '../src'
import { isRetryable } from '../src/errors'
import {
  definition,
  everflowAnswers,
  ORDER_TIMESTAMP,
  neverAnswers,
  orderCompleted,
  queryOf,
  settings,
  subscriptionTo,
  thrown,
  TRACKING_ORIGIN,
  TRANSACTION_ID
} from './support/helpers'

const testDestination = createTestIntegration(definition)

afterEach(() => {
  const pending = nock.pendingMocks()
  nock.cleanAll()
  expect(pending).toEqual([])
})

function send(event = orderCompleted(), extraSettings = {}) {
  return testDestination.testAction('trackConversion', {
    event,
    settings: { ...settings, ...extraSettings },
    useDefaultMappings: true
  })
}

describe('trackConversion', () => {
  it('turns the seed Order Completed event into exactly one postback with exactly these parameters', async () => {
    everflowAnswers(200, 'OK')
    const responses = await send()
    expect(responses).toHaveLength(1)
    expect(responses[0].status).toBe(200)
    expect(responses[0].options.method).toBe('GET')
    expect(queryOf(responses[0].url)).toEqual([
      ['nid', '123'],
      ['transaction_id', TRANSACTION_ID],
      ['amount', '76'],
      ['order_id', '123456789'],
      ['user_ip', '23.123.123.123'],
      ['adv1', 'adv1test'],
      ['adv3', 'adv3test'],
      ['timestamp', ORDER_TIMESTAMP]
    ])
    expect(responses[0].url.startsWith(`${TRACKING_ORIGIN}/?`)).toBe(true)
  })

  it('maps every default field from a full event', async () => {
    const seen = everflowAnswers(200)
    await send(
      orderCompleted({
        event: 'Signed Up',
        context: {
          referrer: { type: 'everflow', id: TRANSACTION_ID },
          ip: '23.123.123.123',
          traits: { email: 'Traits@Example.com' }
        } as never,
        properties: {
          revenue: 10.25,
          order_id: 'o-1',
          adv1: 1,
          adv2: 'b',
          adv3: 'c',
          adv4: 'd',
          adv5: 'e',
          coupon: 'SAVE10',
          email: 'props@example.com',
          currency: 'usd'
        }
      }),
      { verificationToken: 'tok-12345678' }
    )
    expect(seen[0]).toEqual([
      ['nid', '123'],
      ['transaction_id', TRANSACTION_ID],
      ['adv_event_id', '12'],
      ['amount', '10.25'],
      ['order_id', 'o-1'],
      ['user_ip', '23.123.123.123'],
      ['adv1', '1'],
      ['adv2', 'b'],
      ['adv3', 'c'],
      ['adv4', 'd'],
      ['adv5', 'e'],
      ['coupon_code', 'SAVE10'],
      ['email', 'traits@example.com'],
      ['currency', 'USD'],
      ['timestamp', ORDER_TIMESTAMP],
      ['verification_token', 'tok-12345678']
    ])
  })

  it('falls back to properties.email, and prefers total over revenue', async () => {
    const seen = everflowAnswers(200)
    await send(orderCompleted({ properties: { total: 5, revenue: 9, email: 'P@Example.com' } }))
    expect(seen[0]).toContainEqual(['amount', '5'])
    expect(seen[0]).toContainEqual(['email', 'p@example.com'])
  })

  it('sends custom parameters and the adv_event_id override from the mapping', async () => {
    const seen = everflowAnswers(200)
    await testDestination.testAction('trackConversion', {
      event: orderCompleted(),
      settings,
      useDefaultMappings: true,
      mapping: { adv_event_id: 31, custom_parameters: { sub1: { '@path': '$.userId' }, plan: 'gold' } }
    })
    expect(seen[0]).toContainEqual(['adv_event_id', '31'])
    expect(seen[0].slice(-2)).toEqual([
      ['sub1', 'a1b2c3d4'],
      ['plan', 'gold']
    ])
  })

  it('never sends the API key', async () => {
    everflowAnswers(200)
    const [response] = await send()
    expect(response.url).not.toContain(settings.apiKey)
    expect(JSON.stringify(response.options.headers ?? {})).not.toContain(settings.apiKey)
  })

  it('reports bad event data as a PayloadValidationError without sending anything', async () => {
    const error = await thrown(() => send(orderCompleted({ properties: { total: '$76' } })))
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.message).toContain('amount "$76" is not a sale amount.')
    expect(isRetryable(error)).toBe(false)
  })

  it('reports an unmapped event by name', async () => {
    const error = await thrown(() => send(orderCompleted({ event: 'Checkout Started' })))
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.message).toContain('Event "Checkout Started" is not in the Event Mapping setting')
  })

  it('reports a bad setting as a settings error before sending anything', async () => {
    const error = await thrown(() => send(orderCompleted(), { postbackUrl: 'http://www.trkexample.com/?nid=1' }))
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error.code).toBe('INVALID_SETTINGS')
    expect(error.message).toContain('Everflow postbacks must use https')
    expect(isRetryable(error)).toBe(false)
  })

  describe("Everflow's answer", () => {
    it.each([200, 201, 202])('%i is a success', async (status) => {
      everflowAnswers(status, 'OK')
      const [response] = await send()
      expect(response.status).toBe(status)
    })

    it('204 is a rejection that points to the Conversion Report, not retried', async () => {
      everflowAnswers(204)
      const error = await thrown(() => send())
      expect(error).toBeInstanceOf(IntegrationError)
      expect(error.code).toBe('EVERFLOW_CONVERSION_REJECTED')
      expect(error.message).toBe(
        `Everflow answered 204 No Content: it did not record the conversion for transaction_id ${TRANSACTION_ID}. ` +
          "Look up the transaction ID in Everflow's Advertiser Postback report or Conversion Report (Reporting); they show why a conversion was rejected."
      )
      expect(isRetryable(error)).toBe(false)
    })

    it('200 with a JSON error body is a rejection, not a success', async () => {
      everflowAnswers(200, { error: 'invalid transaction id' }, { 'content-type': 'application/json' })
      const error = await thrown(() => send())
      expect(error.code).toBe('EVERFLOW_CONVERSION_REJECTED')
      expect(error.message).toContain('Everflow refused the conversion for transaction_id')
      expect(error.message).toContain(': invalid transaction id.')
      expect(isRetryable(error)).toBe(false)
    })

    it.each([408, 429, 500, 502, 503, 504])('%i is retried', async (status) => {
      everflowAnswers(status, 'busy')
      const error = await thrown(() => send())
      expect(error).toBeInstanceOf(RetryableError)
      expect(error.status).toBe(status)
      expect(error.message).toContain(`Everflow answered ${status}`)
      expect(error.message).toContain(': busy. Segment will retry.')
      expect(isRetryable(error)).toBe(true)
    })

    it.each([400, 401, 403, 404, 422])('%i is not retried and carries the status and Everflow text', async (status) => {
      everflowAnswers(status, { error: `no (${status})` }, { 'content-type': 'application/json' })
      const error = await thrown(() => send())
      expect(error).toBeInstanceOf(IntegrationError)
      expect(error).not.toBeInstanceOf(RetryableError)
      expect(error.code).toBe('EVERFLOW_POSTBACK_FAILED')
      expect(error.status).toBe(status)
      expect(error.message).toContain(`Everflow answered ${status} `)
      expect(error.message).toContain(`: no (${status}). Check the Postback URL and Verification Token settings.`)
      expect(isRetryable(error)).toBe(false)
    })

    it('a redirect is not followed and not retried', async () => {
      everflowAnswers(302, '', { location: 'http://elsewhere.example/' })
      const error = await thrown(() => send())
      expect(error.code).toBe('EVERFLOW_POSTBACK_FAILED')
      expect(error.message).toContain('Everflow answered 302 with a redirect to http://elsewhere.example/')
      expect(isRetryable(error)).toBe(false)
    })

    it('a connection error is retried and does not echo the URL or token', async () => {
      nock(TRACKING_ORIGIN)
        .get('/')
        .query(true)
        .replyWithError({
          code: 'ECONNRESET',
          message: `socket hang up at ${TRACKING_ORIGIN}/?verification_token=tok-12345678`
        })
      const error = await thrown(() => send(orderCompleted(), { verificationToken: 'tok-12345678' }))
      expect(error).toBeInstanceOf(RetryableError)
      expect(error.message).toBe(
        `Got no complete answer from Everflow at www.trkexample.com (ECONNRESET) for the conversion with transaction_id ${TRANSACTION_ID}. Segment will retry.`
      )
      expect(isRetryable(error)).toBe(true)
    })

    it('a timeout is retried', async () => {
      // Everflow takes the request and never answers; a 50 ms timeout instead of the framework's 10 s.
      nock(TRACKING_ORIGIN).get('/').query(true).reply(neverAnswers)
      const impatient = createTestIntegration(createDestination({ timeout: 50 }))
      const error = await thrown(() =>
        impatient.testAction('trackConversion', { event: orderCompleted(), settings, useDefaultMappings: true })
      )
      expect(error).toBeInstanceOf(RetryableError)
      expect(error.message).toContain('Got no complete answer from Everflow at www.trkexample.com')
      expect(isRetryable(error)).toBe(true)
    })

    it('redacts the verification token from an error body that echoes it', async () => {
      everflowAnswers(400, 'bad token tok-1234567')
      const error = await thrown(() => send(orderCompleted(), { verificationToken: 'tok-1234567' }))
      expect(error.message).toContain('bad token ***')
      expect(error.message).not.toContain('tok-1234567')
    })
  })
})

describe('as Segment runs it: Destination.onEvent with a subscription', () => {
  const destination = new Destination(definition)
  const subscription = subscriptionTo(definition)

  it('sends a subscribed event through the preset mapping', async () => {
    const seen = everflowAnswers(200)
    const results = await destination.onEvent(orderCompleted(), { ...settings, subscription })
    expect(results.some((result) => result.output === 'Action Executed')).toBe(true)
    expect(seen[0]).toContainEqual(['transaction_id', TRANSACTION_ID])
    expect(seen[0]).toContainEqual(['amount', '76'])
  })

  it('does not send an event the subscription does not match', async () => {
    const results = await destination.onEvent(orderCompleted({ event: 'Product Viewed' }), {
      ...settings,
      subscription
    })
    expect(results.map((result) => result.output)).toContain('not subscribed')
  })

  it('refuses settings that fail the settings schema', async () => {
    const error = await thrown(() =>
      destination.onEvent(orderCompleted(), { ...settings, apiRegion: 'mars', subscription })
    )
    expect(error.message).toBe('API Region must be one of: "us" or "eu".')
  })

  // fast-uri >= 3.1.6 makes ajv throw "URI scheme is malformed." for a destination name with spaces or
  // parentheses; package.json pins it, and this proves the pin still holds.
  it('validates payloads under the name "Everflow (Actions)"', async () => {
    expect(definition.name).toBe('Everflow (Actions)')
    everflowAnswers(200)
    await expect(destination.onEvent(orderCompleted(), { ...settings, subscription })).resolves.toBeDefined()
  })
})

describe('inputs as sources and settings files write them', () => {
  const destination = new Destination(definition)
  const everyTrack = subscriptionTo(definition, 'type = "track"')
  const CLICK_ID_HELP = [
    'context.referrer.id',
    'context.referrer.type',
    'EF.getAdvertiserTransactionId()',
    '_ef_transaction_id URL parameter'
  ]

  it('takes Event Mapping as an object, ids as digit strings or numbers, in the action', async () => {
    const seen = everflowAnswers(200)
    const objectMapping = { 'Order Completed': '0', 'Signed Up': 12 } as unknown as string
    await send(orderCompleted({ event: 'Signed Up' }), { eventMapping: objectMapping })
    expect(seen[0]).toEqual([
      ['nid', '123'],
      ['transaction_id', TRANSACTION_ID],
      ['adv_event_id', '12'],
      ['amount', '76'],
      ['order_id', '123456789'],
      ['user_ip', '23.123.123.123'],
      ['adv1', 'adv1test'],
      ['adv3', 'adv3test'],
      ['timestamp', ORDER_TIMESTAMP]
    ])
  })

  it('names the event whose id in an Event Mapping object is not an id', async () => {
    const error = await thrown(() =>
      send(orderCompleted(), { eventMapping: { 'Order Completed': 'zero' } as unknown as string })
    )
    expect(error).toBeInstanceOf(IntegrationError)
    expect([error.code, error.status]).toEqual(['INVALID_SETTINGS', 400])
    expect(error.message).toContain('Event Mapping gives the event "Order Completed" the ID "zero", which is not')
  })

  it('meets the framework settings check first when Segment hands it an Event Mapping object', async () => {
    // Global settings can only be text, numbers or booleans, so core's schema check refuses an object before
    // the destination sees it; the same object written as JSON text works.
    const error = await thrown(() =>
      destination.onEvent(orderCompleted(), {
        ...settings,
        eventMapping: { 'Order Completed': 0 },
        subscription: everyTrack
      })
    )
    expect([error.name, error.status, error.message]).toEqual([
      'AggregateAjvError',
      400,
      'Event Mapping must be a string but it was an object.'
    ])
    const seen = everflowAnswers(200)
    await destination.onEvent(orderCompleted({ event: 'Signed Up' }), {
      ...settings,
      eventMapping: '{"Order Completed": "0", "Signed Up": 12}',
      subscription: everyTrack
    })
    expect(seen[0]).toContainEqual(['adv_event_id', '12'])
  })

  it.each([
    ['76,50', '76.5'],
    ['0,99', '0.99'],
    ['1.299,00', '1299'],
    ['1,299.00', '1299']
  ])('sends the store-written amount %j as %s', async (total, amount) => {
    const seen = everflowAnswers(200)
    await destination.onEvent(orderCompleted({ properties: { total, orderId: 'o-1' } }), {
      ...settings,
      subscription: everyTrack
    })
    expect(seen[0]).toEqual([
      ['nid', '123'],
      ['transaction_id', TRANSACTION_ID],
      ['amount', amount],
      ['order_id', 'o-1'],
      ['user_ip', '23.123.123.123'],
      ['timestamp', ORDER_TIMESTAMP]
    ])
  })

  it('refuses an amount that could mean two amounts, naming both, without sending', async () => {
    const error = await thrown(() =>
      destination.onEvent(orderCompleted({ properties: { total: '1,299' } }), { ...settings, subscription: everyTrack })
    )
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.status).toBe(400)
    expect(error.message).toBe(
      'amount "1,299" could mean 1299 (with "," separating thousands) or 1.299 (with "," before the decimals). Send it with a decimal point (1299.00 or 1.299) or as a number.'
    )
  })

  it('says where the click ID comes from when an event has no context.referrer', async () => {
    const error = await thrown(() =>
      destination.onEvent(orderCompleted({ context: { ip: '23.123.123.123' } }), {
        ...settings,
        subscription: everyTrack
      })
    )
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.status).toBe(400)
    expect(isRetryable(error)).toBe(false)
    for (const hint of CLICK_ID_HELP) expect(error.message).toContain(hint)
  })

  it('says what is missing when context.referrer has an id but no type', async () => {
    const error = await thrown(() =>
      destination.onEvent(orderCompleted({ context: { referrer: { id: TRANSACTION_ID } } as never }), {
        ...settings,
        subscription: everyTrack
      })
    )
    expect(error).toBeInstanceOf(PayloadValidationError)
    for (const hint of CLICK_ID_HELP) expect(error.message).toContain(hint)
  })

  it('says an event has no name', async () => {
    const error = await thrown(() =>
      destination.onEvent(orderCompleted({ event: undefined }), { ...settings, subscription: everyTrack })
    )
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.status).toBe(400)
    expect(error.message).toMatch(/^event_name is missing: the event has no name/)
  })

  it('gives each event of a batch the same specific message', async () => {
    const [{ multistatus }] = (await destination.onBatch(
      [orderCompleted({ context: {} }), orderCompleted({ event: undefined })],
      { ...settings, subscription: everyTrack }
    )) as unknown as Array<{ multistatus: Array<{ status: number; errortype: string; errormessage: string }> }>
    expect(multistatus.map(({ status, errortype }) => [status, errortype])).toEqual([
      [400, 'PAYLOAD_VALIDATION_FAILED'],
      [400, 'PAYLOAD_VALIDATION_FAILED']
    ])
    for (const hint of CLICK_ID_HELP) expect(multistatus[0].errormessage).toContain(hint)
    expect(multistatus[1].errormessage).toMatch(/^event_name is missing: the event has no name/)
  })
})

describe('definition', () => {
  it('is registered as Segment expects', () => {
    expect(definition).toMatchObject({ name: 'Everflow (Actions)', slug: 'actions-everflow', mode: 'cloud' })
    expect(Object.keys(definition.actions)).toEqual(['trackConversion', 'refundConversion'])
    expect(definition.actions.trackConversion.defaultSubscription).toBe(
      'type = "track" and event = "Order Completed" and context.referrer.type = "everflow"'
    )
    expect(definition.actions.refundConversion.defaultSubscription).toBe('type = "track" and event = "Order Refunded"')
    expect(Object.keys(definition.authentication?.fields ?? {})).toEqual([
      'apiKey',
      'eventMapping',
      'postbackUrl',
      'networkId',
      'verificationToken',
      'apiRegion'
    ])
  })

  it("has an Order Completed and an Order Refunded preset, each with its action's default mapping", () => {
    expect(definition.presets).toEqual([
      {
        name: 'Order Completed',
        subscribe: 'type = "track" and event = "Order Completed" and context.referrer.type = "everflow"',
        partnerAction: 'trackConversion',
        mapping: defaultValues(definition.actions.trackConversion.fields),
        type: 'automatic'
      },
      {
        name: 'Order Refunded',
        subscribe: 'type = "track" and event = "Order Refunded"',
        partnerAction: 'refundConversion',
        mapping: defaultValues(definition.actions.refundConversion.fields),
        type: 'automatic'
      }
    ])
  })
})
