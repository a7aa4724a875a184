// verify, in-process, against nock's Everflow Network API.
//
// Fixture shapes come from Everflow's OpenAPI reference (developers.everflow.io):
// - openapi/reporting-transactions.yaml, GET /networks/reporting/transactions/{transactionId} ("Get Transaction
//   Overview": the click, conversions, postback delivery, on-hold conversions). The `click` object's fields
//   (transaction_id, unix_timestamp, is_unique, tracking_url, error_code, error_message, has_conversion, ...) are
//   as documented. The conversions list is named `conversions` as the overview's summary names it; its items carry
//   the conversion record fields Everflow documents for its conversion reports (conversion_id,
//   conversion_unix_timestamp, status, sale_amount, order_id, event, is_event, error_code, error_message).
// - openapi/reporting-events.yaml, GET /networks/reporting/events/{transactionId} ("Get Events Per Transaction"):
//   `{ events: [...] }`, "empty if there are no events", items with the fields above plus adv1-5, currency_id ...
// - Errors: `{ "error": "..." }` with 401 / 403 / 404 / 429 / 5xx (user-guide/errors).
import nock from 'nock'
import { createRequestClient } from '@segment/actions-core'
import { afterSettings, event, EXAMPLE, file, jsonLines, recordingSleep, toolkit, trackingServer } from './support'

const US = 'https://api.eflow.team'
const EU = 'https://api-eu.eflow.team'
const KEY = 'example-api-key' // examples/settings.json
const TX = '0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b'
const TX2 = '1a2b3c4d5e6f70819293a4b5c6d7e8f9'

afterEach(() => nock.cleanAll())

const api = (origin = US) => nock(origin, { reqheaders: { 'x-eflow-api-key': KEY } })

const click = (transactionId: string) => ({
  transaction_id: transactionId,
  unix_timestamp: 1769860680,
  is_unique: 1,
  tracking_url: 'https://www.trkexample.com/7F3A/2CTPL/',
  user_ip: '23.123.123.123',
  error_code: 0,
  error_message: '',
  is_view_through: false,
  has_conversion: true,
  currency_id: 'USD'
})

const conversion = (fields: object) => ({
  conversion_id: 'c0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5',
  conversion_unix_timestamp: 1769860800,
  click_unix_timestamp: 1769860680,
  status: 'approved',
  payout_type: 'cpa',
  revenue_type: 'rps',
  payout: 5,
  revenue: 7.6,
  sale_amount: 76,
  adv1: 'adv1test',
  is_event: false,
  event: '',
  transaction_id: TX,
  currency_id: 'USD',
  error_code: 0,
  error_message: '',
  order_id: '123456789',
  ...fields
})

function lookups(
  transactionId: string,
  overview: [number, object],
  events: [number, object] = [200, { events: [] }],
  origin = US
) {
  api(origin).get(`/v1/networks/reporting/transactions/${transactionId}`).reply(overview[0], overview[1])
  if (overview[0] === 200) api(origin).get(`/v1/networks/reporting/events/${transactionId}`).reply(events[0], events[1])
}

describe('verify', () => {
  it('reports the click, the recorded conversion and event, with amount, order and time; exit 0', async () => {
    lookups(
      TX,
      [200, { click: click(TX), conversions: [conversion({})] }],
      [
        200,
        {
          events: [
            conversion({
              conversion_id: 'e1',
              is_event: true,
              event: 'Signed Up',
              sale_amount: 0,
              order_id: '',
              conversion_unix_timestamp: 1769860900
            })
          ]
        }
      ]
    )
    const run = await toolkit(['verify', ...EXAMPLE, TX])
    expect(run.stdout).toBe(
      `transaction ${TX}: click found (2026-01-31 11:58:00 UTC)\n` +
        '  base conversion c0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5: recorded (approved); amount 76, order 123456789, at 2026-01-31 12:00:00 UTC\n' +
        '  event "Signed Up" e1: recorded (approved); amount 0, at 2026-01-31 12:01:40 UTC\n'
    )
    expect(afterSettings(run.stderr)).toBe('verify summary: 1 transactions, 1 as expected, 0 with problems\n')
    expect(run.code).toBe(0)
    expect(nock.pendingMocks()).toEqual([])
  })

  it('explains rejected conversions by error code and what to change; exit 1', async () => {
    lookups(TX, [
      200,
      {
        click: click(TX),
        conversions: [
          conversion({ status: 'rejected', error_code: 8, error_message: 'Duplicate conversion' }),
          conversion({ conversion_id: 'c2', status: 'rejected', error_code: 2, error_message: 'IP not whitelisted' })
        ]
      }
    ])
    const run = await toolkit(['verify', ...EXAMPLE, TX])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      '  base conversion c0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5: REJECTED, error code 8 ("Duplicate conversion"); amount 76, order 123456789, at 2026-01-31 12:00:00 UTC\n' +
        '    what it means: duplicate: this click already has a conversion and the offer does not allow duplicates; nothing to resend\n'
    )
    expect(run.stdout).toContain('  base conversion c2: REJECTED, error code 2 ("IP not whitelisted")')
    expect(run.stdout).toContain("what it means: blocked: the sender's IP is not on the advertiser's allow-list")
    expect(afterSettings(run.stderr)).toBe('verify summary: 1 transactions, 0 as expected, 1 with problems\n')
  })

  it.each<[number, string]>([
    [11, 'wrong network id (nid)'],
    [12, 'invalid transaction id'],
    [13, 'click not found or expired'],
    [5, 'outside the offer'],
    [20, 'outside the offer'],
    [3, 'sending domain is not on the advertiser'],
    [99, "see Everflow's Conversion Report error codes reference"]
  ])('explains error code %i', async (code, words) => {
    lookups(TX, [200, { click: click(TX), conversions: [conversion({ status: 'rejected', error_code: code })] }])
    const [report] = jsonLines((await toolkit(['verify', ...EXAMPLE, TX, '--json'])).stdout)
    expect(report.entries[0]).toMatchObject({ recorded: false, errorCode: code })
    expect(report.entries[0].explanation).toContain(words)
  })

  it('says a click was not found (404) and where the id comes from; exit 1', async () => {
    lookups(TX, [404, { error: 'Not found' }])
    const run = await toolkit(['verify', ...EXAMPLE, TX])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe(
      `transaction ${TX}: click not found\n` +
        '  problem: click not found: Everflow has no click with this transaction id. Check that context.referrer.id holds the id the Everflow SDK or the _ef_transaction_id URL parameter gave (clicks are purged after about 90 days).\n'
    )
  })

  it('says when a click has no conversion yet', async () => {
    lookups(TX, [200, { click: click(TX), conversions: [] }])
    const run = await toolkit(['verify', ...EXAMPLE, TX])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('  problem: no conversion recorded for this click yet')
  })

  it('flags the same order id recorded twice', async () => {
    lookups(TX, [200, { click: click(TX), conversions: [conversion({}), conversion({ conversion_id: 'c9' })] }])
    const run = await toolkit(['verify', ...EXAMPLE, TX])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      '  problem: order id 123456789 recorded 2 times as base conversion (c0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5, c9): Segment delivers at least once'
    )
  })

  it.each<[number, string]>([
    [401, "Everflow's US API refused the API Key (401)"],
    [403, "Everflow's US API answered 403: this API Key cannot read network reporting"]
  ])('stops with exit 2 on %i, never printing the key', async (status, message) => {
    lookups(TX, [status, { error: 'no' }])
    const run = await toolkit(['verify', ...EXAMPLE, TX, TX2])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stdout + run.stderr).not.toContain(KEY)
  })

  it('backs off on 429, honouring Retry-After, and says so', async () => {
    api()
      .get(`/v1/networks/reporting/transactions/${TX}`)
      .reply(429, { error: 'Too many requests' }, { 'Retry-After': '2' })
    lookups(TX, [200, { click: click(TX), conversions: [conversion({})] }])
    const { waits, sleep } = recordingSleep()
    const run = await toolkit(['verify', ...EXAMPLE, TX, '--rate', '0'], {
      io: { sleep }
    })
    expect(run.code).toBe(0)
    expect(run.stderr).toContain("Everflow's API rate limit was hit (429): waiting 2 s before retry 1 of 5.\n")
    expect(waits).toEqual([2000])
  })

  it('gives up after five 429s in a row, with what to do; exit 1', async () => {
    api().get(`/v1/networks/reporting/transactions/${TX}`).times(6).reply(429, { error: 'Too many requests' })
    const run = await toolkit(['verify', ...EXAMPLE, TX])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "problem: Everflow's API rate limit was still hit after backing off; run verify again later with a lower --rate"
    )
    expect(run.stderr.match(/rate limit was hit \(429\)/g)).toHaveLength(5)
  })

  it.each([500, 503])('says the API could not be reached on %i; exit 1', async (status) => {
    lookups(TX, [status, { error: 'oops' }])
    const run = await toolkit(['verify', ...EXAMPLE, TX])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      `problem: Everflow's API could not be reached (HTTP ${status}); run verify again later`
    )
  })

  it('stays at 5 requests per second by default', async () => {
    lookups(TX, [200, { click: click(TX), conversions: [conversion({})] }])
    lookups(TX2, [200, { click: click(TX2), conversions: [conversion({ transaction_id: TX2 })] }])
    const { waits, sleep } = recordingSleep()
    // The clock stands still, as the fake sleep does not advance it: on a loaded machine real time would pass
    // between the requests and shorten the waits.
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-01-31T12:00:00Z'))
    try {
      await toolkit(['verify', ...EXAMPLE, TX, TX2], { io: { sleep } })
    } finally {
      clock.mockRestore()
    }
    // Four requests: the first at once, the next spaced 200 ms apart.
    expect(waits).toHaveLength(3)
    expect(waits[2]).toBeGreaterThan(550)
  })

  it('uses the EU host with EVERFLOW_API_REGION=EU and takes ids from --ids and --event files', async () => {
    lookups(TX, [200, { click: click(TX), conversions: [conversion({})] }], undefined, EU)
    lookups(TX2, [200, { click: click(TX2), conversions: [conversion({ transaction_id: TX2 })] }], undefined, EU)
    const ids = file('ids.txt', `${TX}\n\n`)
    const events = file('verify-events.ndjson', `${event(TX2)}\n${event(TX)}\n`)
    const run = await toolkit(['verify', ...EXAMPLE, '--ids', ids, '--event', events], {
      env: { EVERFLOW_API_REGION: 'EU' }
    })
    expect(run.code).toBe(0)
    expect(afterSettings(run.stderr)).toBe('verify summary: 2 transactions, 2 as expected, 0 with problems\n')
    expect(nock.pendingMocks()).toEqual([])
  })

  it('--event looks up only what would have been sent: not identify calls, unsubscribed events or other referrers', async () => {
    lookups(TX, [200, { click: click(TX), conversions: [conversion({})] }])
    const events = file(
      'verify-mixed.ndjson',
      [
        event(TX),
        JSON.stringify({ type: 'identify', userId: 'u1', messageId: 'v2' }),
        event(TX2, { event: 'Page Viewed' }),
        event(TX2, { context: { referrer: { type: 'google', id: TX2 } } })
      ].join('\n')
    )
    const run = await toolkit(['verify', ...EXAMPLE, '--event', events])
    expect(run.code).toBe(0)
    expect(afterSettings(run.stderr)).toBe(
      'verify: 3 of 4 event(s) not looked up: they would not have been sent (not subscribed, not a track call, refused, or with no transaction id; a dry run of the file shows why)\n' +
        'verify summary: 1 transactions, 1 as expected, 0 with problems\n'
    )
    expect(nock.pendingMocks()).toEqual([])
  })

  it('Ctrl-C (the abort signal) stops before the next lookup and exits 130', async () => {
    const stop = new AbortController()
    lookups(TX, [200, { click: click(TX), conversions: [conversion({})] }])
    const run = await toolkit(['verify', ...EXAMPLE, TX, TX2, '--rate', '0'], {
      io: {
        signal: stop.signal,
        request: (async (url: string, options: object) => {
          const response = await createRequestClient()(url, options)
          if (url.includes('/events/')) stop.abort()
          return response
        }) as never
      }
    })
    expect(run.code).toBe(130)
    expect(run.stdout).toContain(`transaction ${TX}: click found`)
    expect(run.stderr).toContain('Ctrl-C: stopped; 1 transaction(s) not looked up.')
    expect(nock.pendingMocks()).toEqual([])
  })

  it('exits 2 without ids or without an API key', async () => {
    expect((await toolkit(['verify', ...EXAMPLE])).stderr).toContain('verify needs transaction ids')
    const run = await toolkit(['verify', ...EXAMPLE, TX], { env: { EVERFLOW_API_KEY: '' } })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('verify needs the API Key')
  })

  it('after --send --verify, waits for the reporting delay and checks again a bounded number of times', async () => {
    const server = await trackingServer()
    try {
      // First look: the click, no conversion yet. Second look: recorded.
      lookups(TX, [200, { click: click(TX), conversions: [] }])
      lookups(TX, [200, { click: click(TX), conversions: [conversion({})] }])
      const { waits, sleep } = recordingSleep()
      const run = await toolkit(
        [...EXAMPLE, '--send', '--verify', '--verify-wait', '2', '--verify-tries', '3', '--rate', '0'],
        {
          env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin },
          io: { sleep }
        }
      )
      expect(server.received).toHaveLength(1)
      expect(run.stderr).toContain("verify: waiting 2 s for Everflow's reporting (check 1 of 3, 1 transactions)...")
      expect(run.stderr).toContain("verify: waiting 2 s for Everflow's reporting (check 2 of 3, 1 transactions)...")
      expect(run.stderr).not.toContain('check 3 of 3')
      expect(waits).toEqual([2000, 2000])
      expect(run.stdout).toContain('base conversion c0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5: recorded (approved)')
      expect(run.code).toBe(0)
    } finally {
      await server.close()
    }
  })

  it('after --send --verify, reports a conversion still missing after the last check; exit 1', async () => {
    const server = await trackingServer()
    try {
      lookups(TX, [200, { click: click(TX), conversions: [] }])
      lookups(TX, [200, { click: click(TX), conversions: [] }])
      const run = await toolkit([...EXAMPLE, '--send', '--verify', '--verify-tries', '2', '--rate', '0'], {
        env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin }
      })
      expect(run.code).toBe(1)
      expect(run.stdout).toContain("problem: 1 conversion(s) sent but 0 in Everflow's report after 2 checks")
      expect(nock.pendingMocks()).toEqual([])
    } finally {
      await server.close()
    }
  })
})
