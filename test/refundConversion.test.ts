// Refund Conversion through the real framework, with Everflow's Network API answered by nock. Every answer is shaped
// as Everflow's OpenAPI files say (developers.everflow.io): the click's events as openapi/reporting-events.yaml
// (GET /networks/reporting/events/{transactionId}: { events: [...] }), the conversion report as
// openapi/reporting-conversions.yaml (POST /networks/reporting/conversions: { conversions: [...] }), and the changes
// as the same file (PATCH /networks/reporting/conversions and PUT .../{conversionId}/saleamount: { result: true }).
import nock from 'nock'
import { createTestEvent, createTestIntegration, Destination } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import { isRetryable } from '../src/errors'
import { definition, SECRET_API_KEY, settings, settingsWithSecrets, thrown, TRANSACTION_ID } from './support/helpers'

const API = 'https://api.eflow.team'
/** Now, for every test: refunds are dated relative to it. */
const NOW = Date.parse('2026-02-10T12:00:00.000Z')
/** A refund an hour old (its conversion may not be in Everflow's reports yet) and one a day old. */
const RECENT = '2026-02-10T11:00:00.000Z'
const DAY_OLD = '2026-02-09T12:00:00.000Z'
const ORDER = 'o-1001'
const CONVERSION = '9c0534c99eb34b57bda16f92b6d5d3d4'
const OTHER_CONVERSION = '307971a211b74db98c3c11d5e83c082a'
const CONVERTED_AT = Date.parse('2026-01-31T12:00:00.000Z') / 1000

let clock: jest.SpyInstance
beforeEach(() => {
  clock = jest.spyOn(Date, 'now').mockReturnValue(NOW)
})
afterEach(() => {
  clock.mockRestore()
  nock.cleanAll()
})

function orderRefunded(properties: SegmentEvent['properties'] = {}, withClick = true): SegmentEvent {
  return createTestEvent({
    type: 'track',
    event: 'Order Refunded',
    messageId: 'refund-1',
    timestamp: DAY_OLD,
    context: (withClick ? { referrer: { type: 'everflow', id: TRANSACTION_ID } } : {}) as SegmentEvent['context'],
    properties: { order_id: ORDER, ...properties }
  })
}

/** One row as openapi/reporting-events.yaml and reporting-conversions.yaml describe a conversion (fields trimmed). */
function row(overrides: Record<string, unknown> = {}) {
  return {
    conversion_id: CONVERSION,
    conversion_unix_timestamp: CONVERTED_AT,
    click_unix_timestamp: CONVERTED_AT - 600,
    status: 'approved',
    payout_type: 'cpa',
    revenue_type: 'rpa',
    payout: 5,
    revenue: 7.6,
    sale_amount: 76,
    is_event: false,
    event: '',
    transaction_id: TRANSACTION_ID,
    currency_id: 'USD',
    order_id: ORDER,
    error_code: 0,
    error_message: '',
    ...overrides
  }
}

/** GET the click's events (openapi/reporting-events.yaml), with the key in its header only. */
const eventsOf = (events: object[]) =>
  nock(API, { reqheaders: { 'x-eflow-api-key': settings.apiKey } })
    .get(`/v1/networks/reporting/events/${TRANSACTION_ID}`)
    .reply(200, { events })

/** The request body the conversion report gets for a refund of ORDER at DAY_OLD with 90 days to look back. */
const REPORT_QUERY = {
  from: '2025-11-10',
  to: '2026-02-10',
  timezone_id: 67,
  show_conversions: true,
  show_events: false,
  query: { filters: [], search_terms: [{ search_type: 'order_id', value: ORDER }] }
}

/** POST the conversion report (openapi/reporting-conversions.yaml); records the body it got. */
function reportOf(conversions: object[], bodies: unknown[] = []) {
  return nock(API, { reqheaders: { 'x-eflow-api-key': settings.apiKey } })
    .post('/v1/networks/reporting/conversions', (body) => {
      bodies.push(body)
      return true
    })
    .query({ page: '1', page_size: '100' })
    .reply(200, { conversions })
}

/** PATCH the status (openapi/reporting-conversions.yaml), recording the body. */
function rejection(bodies: unknown[], status = 200, reply: object = { result: true }) {
  return nock(API, { reqheaders: { 'x-eflow-api-key': settings.apiKey } })
    .patch('/v1/networks/reporting/conversions', (body) => {
      bodies.push(body)
      return true
    })
    .reply(status, reply)
}

/** PUT the sale amount (openapi/reporting-conversions.yaml), recording the body. */
function saleAmount(bodies: unknown[], conversionId = CONVERSION) {
  return nock(API, { reqheaders: { 'x-eflow-api-key': settings.apiKey } })
    .put(`/v1/networks/reporting/conversions/${conversionId}/saleamount`, (body) => {
      bodies.push(body)
      return true
    })
    .reply(200, { result: true })
}

const testDestination = createTestIntegration(definition)

/** One refund through the action with its default mapping, as the preset maps it; returns what perform returned. */
async function refund(event: SegmentEvent, extraSettings = {}) {
  await testDestination.testAction('refundConversion', {
    event,
    settings: { ...settings, ...extraSettings },
    useDefaultMappings: true
  })
  const results = testDestination.results
  return results[results.length - 1]?.data as Record<string, unknown>
}

describe('refundConversion: a full refund', () => {
  it("runs from the Order Refunded preset and rejects the click's base conversion with that exact order id", async () => {
    const patched: unknown[] = []
    eventsOf([
      row(),
      // A post-conversion event of the same order, another order on the same click: both left alone.
      row({ conversion_id: 'e'.repeat(32), is_event: true, event: 'upsell' }),
      row({ conversion_id: 'f'.repeat(32), order_id: 'o-10010' })
    ])
    rejection(patched)
    const preset = definition.presets?.find((p) => p.name === 'Order Refunded')
    expect(preset).toMatchObject({
      subscribe: 'type = "track" and event = "Order Refunded"',
      partnerAction: 'refundConversion'
    })
    const output = await new Destination(definition).onEvent(orderRefunded(), {
      ...settings,
      subscription: {
        subscribe: (preset as { subscribe: string }).subscribe,
        partnerAction: 'refundConversion',
        mapping: (preset as { mapping: JSONObject }).mapping
      }
    })
    expect(patched).toEqual([{ conversion_ids: [CONVERSION], conversion_status: 'rejected' }])
    expect(output[output.length - 1].output).toContain('Action Executed')
    expect(nock.pendingMocks()).toEqual([])
  })

  it('says what it did: the conversion rejected, for the order', async () => {
    const patched: unknown[] = []
    eventsOf([row()])
    rejection(patched)
    expect(await refund(orderRefunded())).toEqual({
      order_id: ORDER,
      outcome: 'rejected',
      conversion_ids: [CONVERSION],
      message: `Rejected conversion ${CONVERSION} of order "${ORDER}" (full refund).`
    })
  })

  it('is full when the refunded amount reaches the recorded sale amount (no Order Total)', async () => {
    const patched: unknown[] = []
    eventsOf([row({ sale_amount: 76 })])
    rejection(patched)
    expect(await refund(orderRefunded({ total: '76.00' }))).toMatchObject({ outcome: 'rejected' })
    expect(patched).toEqual([{ conversion_ids: [CONVERSION], conversion_status: 'rejected' }])
  })

  it('is full when the refunded amount reaches Order Total', async () => {
    const patched: unknown[] = []
    eventsOf([row({ sale_amount: 56 })])
    rejection(patched)
    expect(await refund(orderRefunded({ total: 76, order_total: 76 }))).toMatchObject({ outcome: 'rejected' })
    expect(patched).toHaveLength(1)
  })

  it("finds the conversion by order id when the click's events hold only post-conversion events", async () => {
    const bodies: unknown[] = []
    const patched: unknown[] = []
    eventsOf([row({ conversion_id: 'e'.repeat(32), is_event: true, event: 'upsell' })])
    reportOf([row()], bodies)
    rejection(patched)
    expect(await refund(orderRefunded())).toMatchObject({ outcome: 'rejected', conversion_ids: [CONVERSION] })
    expect(bodies).toEqual([REPORT_QUERY])
    expect(patched).toEqual([{ conversion_ids: [CONVERSION], conversion_status: 'rejected' }])
  })

  it('without the click, searches the conversion report by order id in the 90 days before the refund', async () => {
    const bodies: unknown[] = []
    const patched: unknown[] = []
    reportOf(
      [
        row({ transaction_id: 'a'.repeat(32) }),
        // The search may match loosely; only the exact order id counts. One older than the window does not either.
        row({ conversion_id: 'f'.repeat(32), order_id: `${ORDER}0` }),
        row({ conversion_id: 'd'.repeat(32), conversion_unix_timestamp: Date.parse('2025-11-01T00:00:00Z') / 1000 })
      ],
      bodies
    )
    rejection(patched)
    expect(await refund(orderRefunded({}, false))).toMatchObject({ outcome: 'rejected', conversion_ids: [CONVERSION] })
    expect(bodies).toEqual([REPORT_QUERY])
    expect(patched).toEqual([{ conversion_ids: [CONVERSION], conversion_status: 'rejected' }])
  })

  it('searches as many days back as Lookback Days says, never past the 365 the report allows', async () => {
    const bodies: unknown[] = []
    reportOf([row({ status: 'rejected' })], bodies)
    await testDestination.testAction('refundConversion', {
      event: orderRefunded({}, false),
      settings,
      mapping: { lookback_days: 365 },
      useDefaultMappings: true
    })
    // 365 days before the refund would be 2025-02-09, past the report's reach from now (2026-02-10).
    expect(bodies).toEqual([{ ...REPORT_QUERY, from: '2025-02-11' }])
  })

  it('refuses a refund older than the report reaches, without a call', async () => {
    const error = await thrown(() => refund({ ...orderRefunded({}, false), timestamp: '2025-01-01T00:00:00.000Z' }))
    expect(error.message).toContain("more than 365 days ago: Everflow's conversion report reaches back 365 days only")
    expect(isRetryable(error)).toBe(false)
  })
})

describe('refundConversion: reading the refund', () => {
  it('refuses a blank order id, naming where it comes from', async () => {
    const error = await thrown(() => refund(orderRefunded({ order_id: '  ' })))
    expect(error.message).toBe(
      'order_id is missing: the refund names no order (properties.order_id, the default mapping), so its conversion cannot be found. Send the order ID that the conversion was sent with.'
    )
  })

  it('refuses a transaction id with spaces or URL characters', async () => {
    const event = orderRefunded()
    const error = await thrown(() =>
      refund({ ...event, context: { referrer: { type: 'everflow', id: 'ab c/1' } } as SegmentEvent['context'] })
    )
    expect(error.message).toContain('transaction_id "ab c/1" is not an Everflow transaction ID')
  })

  it('reads a blank transaction id as none, and a padded order id trimmed', async () => {
    const bodies: unknown[] = []
    reportOf([row()], bodies)
    rejection([])
    const event = { ...orderRefunded({ order_id: ` ${ORDER} ` }), context: { referrer: { type: 'everflow', id: ' ' } } }
    expect(await refund(event as SegmentEvent)).toMatchObject({ outcome: 'rejected', order_id: ORDER })
    expect(bodies).toEqual([REPORT_QUERY])
  })

  it.each([0, 366])('refuses Lookback Days %i, without a call', async (days) => {
    const error = await thrown(() =>
      testDestination.testAction('refundConversion', {
        event: orderRefunded({}, false),
        settings,
        mapping: { lookback_days: days },
        useDefaultMappings: true
      })
    )
    expect(error.message).toBe(
      `lookback_days ${days} is not a number of days from 1 to 365. Set Lookback Days within that range.`
    )
  })

  it('takes Lookback Days of 1 and 365', async () => {
    // Already rejected, so each refund ends with the lookup; a day back still holds a conversion 23 hours old.
    reportOf([row({ status: 'rejected', conversion_unix_timestamp: Date.parse('2026-02-08T13:00:00Z') / 1000 })])
    reportOf([row({ status: 'rejected' })])
    for (const days of [1, 365]) {
      await testDestination.testAction('refundConversion', {
        event: orderRefunded({}, false),
        settings: { ...settings },
        mapping: { lookback_days: days },
        useDefaultMappings: true
      })
    }
    expect(nock.pendingMocks()).toEqual([])
  })

  it('skips report rows without a conversion id', async () => {
    reportOf([row({ conversion_id: '' }), row({ conversion_id: undefined })])
    const error = await thrown(() => refund(orderRefunded({}, false)))
    expect(error.message).toContain('No conversion in Everflow has order ID')
  })
})

describe('refundConversion: a partial refund', () => {
  it('sets the sale amount to Order Total minus the refunded amount', async () => {
    const put: unknown[] = []
    eventsOf([row()])
    saleAmount(put)
    expect(await refund(orderRefunded({ total: '20,50', order_total: 76 }))).toEqual({
      order_id: ORDER,
      outcome: 'lowered',
      conversion_ids: [CONVERSION],
      message: `Lowered the sale amount of conversion ${CONVERSION} of order "${ORDER}" from 76 to 55.5 (partial refund).`
    })
    expect(put).toEqual([{ sale_amount: 55.5, is_event: false }])
  })

  it('without the click too', async () => {
    const put: unknown[] = []
    reportOf([row()])
    saleAmount(put)
    await refund(orderRefunded({ total: 20, order_total: 76 }, false))
    expect(put).toEqual([{ sale_amount: 56, is_event: false }])
  })

  it('refuses a partial refund without Order Total: it could not be applied only once', async () => {
    eventsOf([row()])
    const error = await thrown(() => refund(orderRefunded({ total: 20 })))
    expect(error.message).toBe(
      `refund_amount 20 is a partial refund of order "${ORDER}" (Everflow recorded a sale amount of 76), and Order Total is not mapped. ` +
        "Send the order's total before refunds as properties.order_total (the default mapping of Order Total) or map Order Total to it: the sale amount is then set to Order Total minus Refunded Amount, so a refund delivered twice lowers it only once."
    )
    expect(isRetryable(error)).toBe(false)
  })

  it('never raises a sale amount that is already lower', async () => {
    eventsOf([row({ sale_amount: 40 })])
    expect(await refund(orderRefunded({ total: 20, order_total: 76 }))).toMatchObject({
      outcome: 'unchanged',
      message: expect.stringContaining('is already 40, at or below 56 (Order Total 76 minus Refunded Amount 20)')
    })
  })

  it.each([['$20'], ['20 EUR'], ['-5'], ['1.299,00']])('refuses the refunded amount %j', async (total) => {
    const error = await thrown(() => refund(orderRefunded({ total })))
    expect(error.message).toBe(
      `refund_amount ${JSON.stringify(total)} is not an amount. Send a plain decimal of 0 or more, such as 20.00 or 20,00: no currency symbol or other text.`
    )
  })
})

describe('refundConversion: the same refund delivered twice', () => {
  it('rejects once; the second finds the conversion rejected and says so, changing nothing', async () => {
    const patched: unknown[] = []
    eventsOf([row()])
    rejection(patched)
    await refund(orderRefunded())
    // Everflow's report now shows it rejected; no PATCH is answered for the second delivery.
    eventsOf([row({ status: 'rejected' })])
    expect(await refund(orderRefunded())).toEqual({
      order_id: ORDER,
      outcome: 'unchanged',
      conversion_ids: [CONVERSION],
      message: `The conversion of order "${ORDER}" (${CONVERSION}) is already rejected in Everflow: nothing to change.`
    })
    expect(patched).toHaveLength(1)
    expect(nock.pendingMocks()).toEqual([])
  })

  it('lowers once; the second finds the amount already set and changes nothing', async () => {
    const put: unknown[] = []
    eventsOf([row()])
    saleAmount(put)
    await refund(orderRefunded({ total: 20, order_total: 76 }))
    eventsOf([row({ sale_amount: 56 })])
    expect(await refund(orderRefunded({ total: 20, order_total: 76 }))).toMatchObject({ outcome: 'unchanged' })
    expect(put).toEqual([{ sale_amount: 56, is_event: false }])
  })

  it('sets the same absolute amount again when the report does not show the first change yet', async () => {
    const put: unknown[] = []
    eventsOf([row()])
    saleAmount(put)
    eventsOf([row()])
    saleAmount(put)
    await refund(orderRefunded({ total: 20, order_total: 76 }))
    await refund(orderRefunded({ total: 20, order_total: 76 }))
    expect(put).toEqual([
      { sale_amount: 56, is_event: false },
      { sale_amount: 56, is_event: false }
    ])
  })
})

describe('refundConversion: no conversion found', () => {
  it('is retried while the refund is young, as Everflow reports with a delay', async () => {
    eventsOf([row({ order_id: 'another-order' })])
    reportOf([])
    const error = await thrown(() => refund({ ...orderRefunded(), timestamp: RECENT }))
    expect(error.message).toBe(
      `No conversion in Everflow has order ID "${ORDER}" for the click ${TRANSACTION_ID} nor in the 90 days before the refund (2025-11-12 to 2026-02-10). Everflow reports conversions a few minutes after their postback, so Segment retries this refund while it is less than 4 hours old.`
    )
    expect(nock.pendingMocks()).toEqual([])
    expect(isRetryable(error)).toBe(true)
  })

  it('is final once the refund is older, and says what to check', async () => {
    reportOf([])
    const error = await thrown(() => refund(orderRefunded({}, false)))
    expect(error.message).toBe(
      `No conversion in Everflow has order ID "${ORDER}" in the 90 days before the refund (2025-11-11 to 2026-02-09). Check that the order's conversion was sent to Everflow with this same order ID, or raise Lookback Days if the order is older.`
    )
    expect(error).toMatchObject({ code: 'EVERFLOW_CONVERSION_NOT_FOUND', status: 404 })
    expect(isRetryable(error)).toBe(false)
  })

  it('treats an unknown click (404) as a click without conversions, and searches by order id', async () => {
    const patched: unknown[] = []
    nock(API).get(`/v1/networks/reporting/events/${TRANSACTION_ID}`).reply(404, { error: 'Not found' })
    reportOf([row({ transaction_id: 'a'.repeat(32) })])
    rejection(patched)
    expect(await refund(orderRefunded())).toMatchObject({ outcome: 'rejected', conversion_ids: [CONVERSION] })
    expect(patched).toHaveLength(1)
  })
})

describe('refundConversion: two conversions for one order', () => {
  it('a full refund rejects every open one in one call, leaving an already rejected one alone', async () => {
    const patched: unknown[] = []
    reportOf([
      row(),
      row({ conversion_id: OTHER_CONVERSION }),
      row({ conversion_id: 'b'.repeat(32), status: 'rejected' })
    ])
    rejection(patched)
    expect(await refund(orderRefunded({}, false))).toMatchObject({
      outcome: 'rejected',
      conversion_ids: [CONVERSION, OTHER_CONVERSION]
    })
    expect(patched).toEqual([{ conversion_ids: [CONVERSION, OTHER_CONVERSION], conversion_status: 'rejected' }])
  })

  it('a partial refund cannot tell which to lower: refused, naming both, nothing changed', async () => {
    reportOf([row(), row({ conversion_id: OTHER_CONVERSION })])
    const error = await thrown(() => refund(orderRefunded({ total: 20, order_total: 76 }, false)))
    expect(error.message).toBe(
      `Order "${ORDER}" has 2 conversions in Everflow (${CONVERSION}, ${OTHER_CONVERSION}), and a partial refund cannot tell which one to lower. ` +
        "Send the order's click (context.referrer.id) with the refund, or change the sale amount in Everflow's Conversion Report."
    )
    expect(error).toMatchObject({ code: 'EVERFLOW_REFUND_AMBIGUOUS', status: 400 })
  })
})

describe("refundConversion: Everflow's answers as errors", () => {
  it('a key that may not change conversions is a settings error naming the permission, never the key', async () => {
    nock(API)
      .get(`/v1/networks/reporting/events/${TRANSACTION_ID}`)
      .reply(200, { events: [row()] })
    nock(API).patch('/v1/networks/reporting/conversions').reply(403, { error: 'Forbidden' })
    const error = await thrown(() => refund(orderRefunded(), { apiKey: SECRET_API_KEY }))
    expect(error.message).toBe(
      'API Key may not change conversions: Everflow answered 403 to PATCH /v1/networks/reporting/conversions. In Everflow, Control Center > Security > API Keys, give this key Full Access (not Read Only) to Reporting, where conversions are approved, rejected and their sale amounts changed, or paste a key that has it into API Key.'
    )
    expect(error).toMatchObject({ code: 'INVALID_SETTINGS', status: 400 })
    expect(error.message).not.toContain(SECRET_API_KEY)
  })

  it('a key that may not read reports is a settings error too', async () => {
    nock(API).post('/v1/networks/reporting/conversions').query(true).reply(403, { error: 'Out of realm' })
    const error = await thrown(() => refund(orderRefunded({}, false)))
    expect(error.message).toContain("API Key may not read Everflow's conversion reports: Everflow answered 403")
    expect(error).toMatchObject({ code: 'INVALID_SETTINGS', status: 400 })
  })

  it('a refused key (401) is an authentication error', async () => {
    nock(API)
      .get(`/v1/networks/reporting/events/${TRANSACTION_ID}`)
      .reply(401, { error: 'No Authentication Method Found' })
    const error = await thrown(() => refund(orderRefunded()))
    expect(error.message).toContain(
      "API Key was refused by Everflow's US API (401 to GET /v1/networks/reporting/events/"
    )
    expect(isRetryable(error)).toBe(false)
  })

  it('waits out a 429 whose Retry-After is short, then goes on', async () => {
    const patched: unknown[] = []
    nock(API)
      .get(`/v1/networks/reporting/events/${TRANSACTION_ID}`)
      .reply(429, { error: 'Too many requests' }, { 'Retry-After': '1' })
    eventsOf([row()])
    rejection(patched)
    const started = performance.now()
    expect(await refund(orderRefunded())).toMatchObject({ outcome: 'rejected' })
    expect(performance.now() - started).toBeGreaterThanOrEqual(990)
    expect(patched).toHaveLength(1)
  })

  it('hands a 429 with a long Retry-After back to Segment to retry, without waiting', async () => {
    nock(API)
      .get(`/v1/networks/reporting/events/${TRANSACTION_ID}`)
      .reply(429, { error: 'Too many requests' }, { 'Retry-After': '120' })
    const error = await thrown(() => refund(orderRefunded()))
    expect(error.message).toBe(
      `Everflow's API rate limit was hit (429 to GET /v1/networks/reporting/events/${TRANSACTION_ID}); it asked to wait 120 s. A network's API keys share about 30 calls per second; Segment retries this refund.`
    )
    expect(error.status).toBe(429)
    expect(isRetryable(error)).toBe(true)
  })

  const ANSWERS: Record<string, () => void> = {
    'a 5xx of the lookup': () =>
      nock(API)
        .get(/events/)
        .reply(503, {}),
    'a 400 of the lookup': () =>
      nock(API)
        .get(/events/)
        .reply(400, { error: 'bad' }),
    'a change Everflow does not confirm': () => {
      eventsOf([row()])
      nock(API)
        .patch(/conversions/)
        .reply(200, { result: false })
    },
    'a 500 of the change': () => {
      eventsOf([row()])
      nock(API)
        .patch(/conversions/)
        .reply(500, {})
    }
  }

  it.each<[string, boolean]>([
    ['a 5xx of the lookup', true],
    ['a 400 of the lookup', false],
    ['a change Everflow does not confirm', true],
    ['a 500 of the change', true]
  ])('%s: retried by Segment = %s', async (answer, retried) => {
    ANSWERS[answer]()
    const error = await thrown(() => refund(orderRefunded()))
    expect(isRetryable(error)).toBe(retried)
  })

  it('never echoes a key that ended up in the event', async () => {
    const error = await thrown(() => refund(orderRefunded({ total: `$${SECRET_API_KEY}` }), settingsWithSecrets))
    expect(error.message).not.toContain(SECRET_API_KEY)
  })
})

describe('refundConversion: batches', () => {
  it('gives each refund its own result: rejected, lowered, not found, refused', async () => {
    const patched: unknown[] = []
    const put: unknown[] = []
    const click = (n: number) => `${n}`.repeat(32)
    const event = (n: number, properties: SegmentEvent['properties']) => ({
      ...orderRefunded(properties),
      messageId: `refund-${n}`,
      context: { referrer: { type: 'everflow', id: click(n) } } as SegmentEvent['context']
    })
    nock(API)
      .get(`/v1/networks/reporting/events/${click(1)}`)
      .reply(200, { events: [row()] })
    nock(API)
      .get(`/v1/networks/reporting/events/${click(2)}`)
      .reply(200, { events: [row({ conversion_id: OTHER_CONVERSION })] })
    nock(API)
      .get(`/v1/networks/reporting/events/${click(3)}`)
      .reply(200, { events: [] })
    reportOf([])
    rejection(patched)
    saleAmount(put, OTHER_CONVERSION)
    await testDestination.testBatchAction('refundConversion', {
      events: [event(1, {}), event(2, { total: 20, order_total: 76 }), event(3, {}), event(4, { total: 'twenty' })],
      settings,
      useDefaultMappings: true
    })
    const results = testDestination.results
    const { multistatus } = results[results.length - 1] as { multistatus: Array<Record<string, unknown>> }
    expect(multistatus).toHaveLength(4)
    expect(multistatus[0]).toMatchObject({ status: 200, body: { outcome: 'rejected', conversion_ids: [CONVERSION] } })
    expect(multistatus[1]).toMatchObject({
      status: 200,
      body: { outcome: 'lowered', conversion_ids: [OTHER_CONVERSION] }
    })
    expect(multistatus[2]).toMatchObject({ status: 404, errortype: 'NOT_FOUND' })
    expect(multistatus[2].errormessage).toContain('No conversion in Everflow has order ID')
    expect(multistatus[3]).toMatchObject({ status: 400, errortype: 'PAYLOAD_VALIDATION_FAILED' })
    expect(patched).toEqual([{ conversion_ids: [CONVERSION], conversion_status: 'rejected' }])
    expect(put).toEqual([{ sale_amount: 56, is_event: false }])
    expect(nock.pendingMocks()).toEqual([])
  })

  it("keeps its calls within the pace it sets for Everflow's shared rate limit", async () => {
    const started: number[] = []
    nock(API)
      .get(/\/v1\/networks\/reporting\/events\//)
      .times(6)
      .reply(function () {
        started.push(performance.now())
        return [200, { events: [row({ status: 'rejected' })] }]
      })
    const events = Array.from({ length: 6 }, (_, n) => ({ ...orderRefunded(), messageId: `refund-${n}` }))
    await testDestination.testBatchAction('refundConversion', { events, settings, useDefaultMappings: true })
    // 10 calls a second: six calls span at least half a second.
    expect(started).toHaveLength(6)
    expect(started[5] - started[0]).toBeGreaterThanOrEqual(450)
  })

  it('fails every refund of a batch with an empty API Key, without a call', async () => {
    await testDestination.testBatchAction('refundConversion', {
      events: [orderRefunded(), orderRefunded()],
      settings: { ...settings, apiKey: ' ' },
      useDefaultMappings: true
    })
    const results = testDestination.results
    const { multistatus } = results[results.length - 1] as { multistatus: Array<Record<string, unknown>> }
    expect(multistatus.map((r) => r.status)).toEqual([401, 401])
  })
})
