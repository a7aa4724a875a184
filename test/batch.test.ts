import nock from 'nock'
import { createTestIntegration, Destination } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import { MAX_POSTBACKS_IN_FLIGHT } from '../src/trackConversion'
import { definition, orderCompleted, settings, subscriptionTo, TRACKING_ORIGIN } from './support/helpers'

afterEach(() => nock.cleanAll())

const clickId = (n: number) => `click${String(n).padStart(27, '0')}`

function conversion(n: number, properties: SegmentEvent['properties'] = { total: n }): SegmentEvent {
  return orderCompleted({
    messageId: `message-${n}`,
    context: { referrer: { type: 'everflow', id: clickId(n) }, ip: '23.123.123.123' } as SegmentEvent['context'],
    properties
  })
}

/** Answers the postback of one click id. */
function answer(n: number, status: number, body = '') {
  return nock(TRACKING_ORIGIN)
    .get('/')
    .query((query) => query.transaction_id === clickId(n))
    .reply(status, body)
}

/** A mixed batch: valid, invalid, rejected (204), retryable (503), valid again. */
function mixedBatch() {
  answer(0, 200, 'OK')
  answer(2, 204)
  answer(3, 503, 'down')
  answer(4, 200, 'OK')
  return [conversion(0), conversion(1, { total: '$76' }), conversion(2), conversion(3), conversion(4)]
}

function expectMixedResults(results: Array<Record<string, unknown>>) {
  expect(results).toHaveLength(5)
  expect(results[0]).toMatchObject({ status: 200, body: 'OK' })
  expect(String(results[0].sent)).toContain(`transaction_id=${clickId(0)}`)
  expect(results[1]).toMatchObject({ status: 400, errortype: 'PAYLOAD_VALIDATION_FAILED' })
  expect(results[1].errormessage).toContain('amount "$76" is not a sale amount.')
  expect(results[2]).toMatchObject({ status: 400, errortype: 'BAD_REQUEST' })
  expect(results[2].errormessage).toContain('Everflow answered 204 No Content')
  expect(results[3]).toMatchObject({ status: 503, errortype: 'RETRYABLE_ERROR' })
  expect(results[3].errormessage).toContain('Everflow answered 503')
  expect(results[4]).toMatchObject({ status: 200, body: 'OK' })
  expect(String(results[4].sent)).toContain(`transaction_id=${clickId(4)}`)
}

describe('batches through createTestIntegration', () => {
  const testDestination = createTestIntegration(definition)

  async function sendBatch(events: SegmentEvent[], extraSettings = {}) {
    const responses = await testDestination.testBatchAction('trackConversion', {
      events,
      settings: { ...settings, ...extraSettings },
      useDefaultMappings: true
    })
    const multistatus = (testDestination.results[0] as { multistatus: Array<Record<string, unknown>> }).multistatus
    return { responses, multistatus }
  }

  it('sends one postback per event and reports each success', async () => {
    answer(0, 200, 'OK')
    answer(1, 200, 'OK')
    answer(2, 200, 'OK')
    const { responses, multistatus } = await sendBatch([conversion(0), conversion(1), conversion(2)])
    expect(responses).toHaveLength(3)
    expect(multistatus.map((result) => result.status)).toEqual([200, 200, 200])
    expect(multistatus.map((result) => new URL(String(result.sent)).searchParams.get('transaction_id'))).toEqual([
      clickId(0),
      clickId(1),
      clickId(2)
    ])
    expect(nock.pendingMocks()).toEqual([])
  })

  it('gives each event of a mixed batch the outcome it would get alone, in order', async () => {
    const { responses, multistatus } = await sendBatch(mixedBatch())
    expect(responses).toHaveLength(4)
    expectMixedResults(multistatus)
    expect(nock.pendingMocks()).toEqual([])
  })

  it('makes no HTTP call for an all-invalid batch', async () => {
    const { responses, multistatus } = await sendBatch([
      conversion(0, { total: 'abc' }),
      orderCompleted({ event: 'Unmapped Event' })
    ])
    expect(responses).toHaveLength(0)
    expect(multistatus.map((result) => [result.status, result.errortype])).toEqual([
      [400, 'PAYLOAD_VALIDATION_FAILED'],
      [400, 'PAYLOAD_VALIDATION_FAILED']
    ])
    expect(multistatus[1].errormessage).toContain('Event "Unmapped Event" is not in the Event Mapping setting')
  })

  it('reports a settings error on every event, without sending', async () => {
    const { responses, multistatus } = await sendBatch([conversion(0), conversion(1)], { networkId: '999' })
    expect(responses).toHaveLength(0)
    expect(multistatus).toHaveLength(2)
    for (const result of multistatus) {
      expect(result).toMatchObject({ status: 400, errortype: 'BAD_REQUEST' })
      expect(result.errormessage).toContain('Network ID is 999 but the Postback URL has nid=123.')
    }
  })

  it('never reports the verification token in what was sent', async () => {
    answer(0, 200, 'OK')
    const { multistatus } = await sendBatch([conversion(0)], { verificationToken: 'tok-secret' })
    expect(String(multistatus[0].sent)).toContain('verification_token=***')
    expect(JSON.stringify(multistatus)).not.toContain('tok-secret')
  })

  it(`keeps at most ${MAX_POSTBACKS_IN_FLIGHT} postbacks in flight`, async () => {
    let inFlight = 0
    let mostInFlight = 0
    const batchSize = MAX_POSTBACKS_IN_FLIGHT * 4 + 3
    nock(TRACKING_ORIGIN)
      .get('/')
      .query(true)
      .times(batchSize)
      .reply((_uri, _body, callback) => {
        inFlight++
        mostInFlight = Math.max(mostInFlight, inFlight)
        setTimeout(() => {
          inFlight--
          callback(null, [200, 'OK'])
        }, 5)
      })
    const { multistatus } = await sendBatch(Array.from({ length: batchSize }, (_, n) => conversion(n)))
    expect(multistatus.filter((result) => result.status === 200)).toHaveLength(batchSize)
    expect(mostInFlight).toBe(MAX_POSTBACKS_IN_FLIGHT)
  })
})

describe('batches as Segment runs them: Destination.onBatch', () => {
  const destination = new Destination(definition)
  const subscription = subscriptionTo(definition)

  it('returns per-event results for a mixed batch, in order', async () => {
    const [result] = await destination.onBatch(mixedBatch(), { ...settings, subscription })
    expectMixedResults((result as { multistatus: Array<Record<string, unknown>> }).multistatus)
    expect(nock.pendingMocks()).toEqual([])
  })

  it('reports schema failures and unsubscribed events at their own index', async () => {
    answer(0, 200, 'OK')
    const missingClick = orderCompleted({ context: { ip: '23.123.123.123' } })
    const [result] = await destination.onBatch([conversion(0), missingClick], { ...settings, subscription })
    const multistatus = (result as { multistatus: Array<Record<string, unknown>> }).multistatus
    expect(multistatus[0]).toMatchObject({ status: 200 })
    expect(multistatus[1]).toMatchObject({ status: 400, errortype: 'PAYLOAD_VALIDATION_FAILED' })
    expect(multistatus[1].errormessage).toContain('transaction_id')
  })

  it('batches by default, with a bounded batch size', () => {
    expect(subscription.mapping).toMatchObject({ enable_batching: true, batch_size: 100 })
    expect(definition.actions.trackConversion.fields.batch_size).toMatchObject({ minimum: 1, maximum: 1000 })
  })
})
