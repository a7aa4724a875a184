// Refunds in the toolkit's preview, in-process: an Order Refunded event goes to Refund Conversion. A dry run shows
// the Network API calls it would make and makes none (nock has no interceptor, and the network is off); --send makes
// them against nock; --send --verify reads the conversion back. Answers follow Everflow's OpenAPI files:
// openapi/reporting-events.yaml ({ events: [...] }) and openapi/reporting-conversions.yaml ({ result: true }).
import nock from 'nock'
import { EXAMPLE, EXAMPLE_SETTINGS_LINE, file, jsonLines, toolkit } from './support'

const US = 'https://api.eflow.team'
const KEY = 'example-api-key' // examples/settings.json
const TX = '0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b'
const CONVERSION = '9c0534c99eb34b57bda16f92b6d5d3d4'
const NOW = Date.parse('2026-02-10T12:00:00.000Z')

let clock: jest.SpyInstance
beforeEach(() => {
  clock = jest.spyOn(Date, 'now').mockReturnValue(NOW)
})
afterEach(() => {
  clock.mockRestore()
  nock.cleanAll()
})

const refunded = (properties: object, withClick = true) =>
  file(
    `refund-${Math.random().toString(36).slice(2)}.json`,
    JSON.stringify({
      type: 'track',
      event: 'Order Refunded',
      messageId: 'refund-1',
      timestamp: '2026-02-09T12:00:00.000Z',
      ...(withClick ? { context: { referrer: { type: 'everflow', id: TX } } } : {}),
      properties: { order_id: 'o-1001', ...properties }
    })
  )

const conversion = (fields: object = {}) => ({
  conversion_id: CONVERSION,
  conversion_unix_timestamp: 1769860800,
  status: 'approved',
  sale_amount: 76,
  is_event: false,
  event: '',
  transaction_id: TX,
  order_id: 'o-1001',
  ...fields
})

describe('preview of a refund', () => {
  it('a dry run shows the lookup and the change it would make, and calls nothing', async () => {
    const run = await toolkit(['--event', refunded({})])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      [
        'line 1 (Order Refunded): dry-run',
        "  would call Everflow's Network API (dry run; --send calls it):",
        `    GET https://api.eflow.team/v1/networks/reporting/events/${TX}`,
        '    if the click shows no conversion of the order: POST https://api.eflow.team/v1/networks/reporting/conversions?page=1&page_size=100 {"from":"2025-11-10","to":"2026-02-10","timezone_id":67,"show_conversions":true,"show_events":false,"query":{"filters":[],"search_terms":[{"search_type":"order_id","value":"o-1001"}]}}',
        '    then, for a full refund: PATCH https://api.eflow.team/v1/networks/reporting/conversions {"conversion_ids":["<each open base conversion found>"],"conversion_status":"rejected"} (nothing if already rejected)',
        ''
      ].join('\n')
    )
    expect(run.stderr).toBe(
      `${EXAMPLE_SETTINGS_LINE}summary: would send 1, not subscribed 0, rejected 0, retryable 0\n`
    )
  })

  it('a partial refund without the click: the report search and the sale amount it would set', async () => {
    const run = await toolkit(['--event', refunded({ total: 20, order_total: 76 }, false)])
    expect(run.stdout).toContain(
      '    POST https://api.eflow.team/v1/networks/reporting/conversions?page=1&page_size=100 {"from":"2025-11-10","to":"2026-02-10","timezone_id":67,"show_conversions":true,"show_events":false,"query":{"filters":[],"search_terms":[{"search_type":"order_id","value":"o-1001"}]}}\n'
    )
    expect(run.stdout).toContain(
      '    then, for a partial refund: PUT https://api.eflow.team/v1/networks/reporting/conversions/<the conversion found>/saleamount {"sale_amount":56,"is_event":false} (nothing if its sale amount is 56 or lower already)\n'
    )
  })

  it('refuses a refund the action would refuse, saying why', async () => {
    const run = await toolkit(['--event', refunded({ total: '$20' })])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('line 1 (Order Refunded): rejected\n  error: refund_amount "$20" is not an amount.')
  })

  it('--send makes the calls, shows each with its status and what changed, never the key', async () => {
    nock(US, { reqheaders: { 'x-eflow-api-key': KEY } })
      .get(`/v1/networks/reporting/events/${TX}`)
      .reply(200, { events: [conversion()] })
      .patch('/v1/networks/reporting/conversions', { conversion_ids: [CONVERSION], conversion_status: 'rejected' })
      .reply(200, { result: true })
    const run = await toolkit(['--event', refunded({}), '--send', ...EXAMPLE])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      [
        'line 1 (Order Refunded): sent',
        `    GET https://api.eflow.team/v1/networks/reporting/events/${TX} -> 200`,
        `    PATCH https://api.eflow.team/v1/networks/reporting/conversions {"conversion_ids":["${CONVERSION}"],"conversion_status":"rejected"} -> 200`,
        `  Rejected conversion ${CONVERSION} of order "o-1001" (full refund).`,
        ''
      ].join('\n')
    )
    expect(run.stdout + run.stderr).not.toContain(KEY)
    expect(nock.pendingMocks()).toEqual([])
  })

  it('--send --verify then shows the conversion as Everflow has it', async () => {
    nock(US)
      .get(`/v1/networks/reporting/events/${TX}`)
      .reply(200, { events: [conversion()] })
      .patch('/v1/networks/reporting/conversions')
      .reply(200, { result: true })
      .get(`/v1/networks/reporting/events/${TX}`)
      .reply(200, { events: [conversion({ status: 'rejected' })] })
    const run = await toolkit(['--event', refunded({}), '--send', '--verify', '--json', ...EXAMPLE])
    expect(run.code).toBe(0)
    const [sent] = jsonLines(run.stdout.split('\n')[0])
    expect(sent).toMatchObject({
      outcome: 'sent',
      result: `Rejected conversion ${CONVERSION} of order "o-1001" (full refund).`
    })
    expect(run.stdout).toContain(`order o-1001: conversion ${CONVERSION} is rejected, sale amount 76\n`)
    expect(run.stderr).toContain('verify: waiting 30 s for Everflow to apply the refunds...')
  })

  it('a 403 on the change is shown as the settings error it is', async () => {
    nock(US)
      .get(`/v1/networks/reporting/events/${TX}`)
      .reply(200, { events: [conversion()] })
      .patch('/v1/networks/reporting/conversions')
      .reply(403, { error: 'Forbidden' })
    const run = await toolkit(['--event', refunded({}), '--send', ...EXAMPLE])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      '  error: API Key may not change conversions: Everflow answered 403 to PATCH /v1/networks/reporting/conversions.'
    )
  })
})
