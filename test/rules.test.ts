// Rules a user would notice breaking, each pinned through the real framework with its expected values written
// here: what is sent, what is refused, and what the message names. Mutation testing found that the rest of the
// suite would not notice these breaking.
import { execFileSync } from 'child_process'
import { join } from 'path'
import nock from 'nock'
import { createTestIntegration } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import type { Settings } from '../src/generated-types'
import { createDestination } from '../src'
import {
  everflowAnswers,
  orderCompleted,
  publicLookup,
  RESERVED_PARAMETER_NAMES,
  thrown,
  TRACKING_ORIGIN,
  TRANSACTION_ID
} from './support/helpers'

const API_ORIGIN = 'https://api.test.example'
const testDestination = createTestIntegration(createDestination({ lookup: publicLookup, apiOrigin: API_ORIGIN }))

const settings: Settings = {
  apiKey: 'rules-api-key-0000',
  eventMapping: 'Order Completed=0',
  postbackUrl: `${TRACKING_ORIGIN}/?nid=123`
}

afterEach(() => {
  const pending = nock.pendingMocks()
  nock.cleanAll()
  expect(pending).toEqual([])
})

function send(options: { event?: SegmentEvent; mapping?: JSONObject; settings?: Partial<Settings> } = {}) {
  return testDestination.testAction('trackConversion', {
    event: options.event ?? orderCompleted(),
    settings: { ...settings, ...options.settings },
    mapping: options.mapping,
    useDefaultMappings: true
  })
}

/** The message the action refuses the event with; fails when it is sent instead. */
async function refusal(options: Parameters<typeof send>[0]): Promise<string> {
  return (await thrown(() => send(options))).message
}

/** The sent value of one query parameter, or undefined when the postback does not carry it. */
async function sentValue(name: string, options: Parameters<typeof send>[0]): Promise<string | undefined> {
  const seen = everflowAnswers(200, 'OK')
  await send(options)
  expect(seen).toHaveLength(1)
  return new Map(seen[0]).get(name)
}

const TIMESTAMP_HELP =
  'Map it to an ISO 8601 date and time such as 2026-01-31T12:00:00Z (a time without a zone is read as UTC) or to Unix seconds.'

const POSTBACK_URL_HELP =
  'Paste the Global Postback URL from Everflow (Control Center > Configuration > Global Postback), ' +
  'e.g. https://www.trkexample.com/?nid=123&transaction_id={transaction_id}, or just its tracking domain.'

/** The message the action refuses the event with when one setting has this value; fails unless it is a settings error. */
async function settingsRefusalOf(setting: keyof Settings, value: unknown): Promise<string> {
  const error = await thrown(() => send({ settings: { [setting]: value } }))
  expect([error.code, error.status]).toEqual(['INVALID_SETTINGS', 400])
  return error.message
}

describe('custom parameters never replace what the destination sets', () => {
  const reserved = RESERVED_PARAMETER_NAMES

  it.each(reserved)('refuses %s as a custom parameter, in any case', async (name) => {
    for (const written of [name, name.toUpperCase()]) {
      expect(await refusal({ mapping: { custom_parameters: { [written]: 'x' } } })).toBe(
        `custom_parameters name "${written}" is a parameter the destination sets itself. Map the value to its own field instead, or rename it.`
      )
    }
  })

  it('sends a name that only contains a reserved one', async () => {
    const seen = everflowAnswers(200, 'OK')
    await send({ mapping: { custom_parameters: { my_amount: '5', nid2: 'x' } } })
    expect(seen[0].slice(-2)).toEqual([
      ['my_amount', '5'],
      ['nid2', 'x']
    ])
  })
})

describe("Everflow's answer", () => {
  it.each([300, 301, 399])('%i is a redirect, not a delivered conversion', async (status) => {
    everflowAnswers(status, '', { location: 'https://elsewhere.example/' })
    const error = await thrown(() => send())
    expect([error.code, error.status]).toEqual(['EVERFLOW_POSTBACK_FAILED', 400])
    expect(error.message).toBe(
      `Everflow answered ${status} with a redirect to https://elsewhere.example/ for the conversion for transaction_id ${TRANSACTION_ID}; ` +
        'postbacks are not sent on to other addresses. Check the Postback URL setting against the Global Postback URL in Everflow.'
    )
  })

  it('a redirect without a Location header still fails, saying it led nowhere', async () => {
    everflowAnswers(302, '')
    const error = await thrown(() => send())
    expect([error.code, error.status]).toEqual(['EVERFLOW_POSTBACK_FAILED', 400])
    expect(error.message).toBe(
      `Everflow answered 302 with a redirect to nowhere for the conversion for transaction_id ${TRANSACTION_ID}; ` +
        'postbacks are not sent on to other addresses. Check the Postback URL setting against the Global Postback URL in Everflow.'
    )
  })

  it('299 with a plain body is delivered', async () => {
    everflowAnswers(299, 'OK')
    // The test integration keeps the responses of earlier calls that threw; this call's is the last.
    const responses = await send()
    expect(responses[responses.length - 1].status).toBe(299)
  })

  it('a 200 whose JSON error follows whitespace is a refusal', async () => {
    everflowAnswers(200, ' \n {"error": "Invalid transaction id"}')
    const error = await thrown(() => send())
    expect([error.code, error.status]).toEqual(['EVERFLOW_CONVERSION_REJECTED', 400])
    expect(error.message).toBe(
      `Everflow refused the conversion for transaction_id ${TRANSACTION_ID}: Invalid transaction id. ` +
        "Look up the transaction ID in Everflow's Advertiser Postback report or Conversion Report (Reporting); they show why a conversion was rejected."
    )
  })

  it.each(['{"error": null}', '{"error": ""}', '{"error": false}', '{"status": "ok"}'])(
    'a 200 whose JSON %s holds no error is delivered',
    async (body) => {
      everflowAnswers(200, body)
      const responses = await send()
      expect(responses[responses.length - 1].status).toBe(200)
    }
  )

  it('a 200 web page is a wrong Postback URL', async () => {
    everflowAnswers(200, '<html></html>', { 'content-type': 'text/html; charset=utf-8' })
    const error = await thrown(() => send())
    expect([error.code, error.status]).toEqual(['EVERFLOW_POSTBACK_FAILED', 400])
    expect(error.message).toBe(
      `Everflow's tracking domain answered 200 with a web page for the conversion for transaction_id ${TRANSACTION_ID}, which is not a postback answer: ` +
        'the Postback URL probably points at a website, not at your Everflow tracking domain. Check the Postback URL setting.'
    )
  })

  it.each([
    ['', ''],
    [' \n\t ', ''],
    ['  Bad\n\n  request \r\n here  ', ': Bad request here'],
    [`${'x'.repeat(299)}  yz`, `: ${'x'.repeat(299)}`],
    [{ error: 'Invalid  offer\nID' }, ': Invalid offer ID']
  ])('quotes the body %j of a failure on one line, cut at 300 characters', async (body, detail) => {
    everflowAnswers(400, body)
    const error = await thrown(() => send())
    expect(error.message).toBe(
      `Everflow answered 400 Bad Request for the conversion for transaction_id ${TRANSACTION_ID}${detail}. ` +
        'Check the Postback URL and Verification Token settings.'
    )
  })
})

describe('secrets pasted with spaces around them', () => {
  // user_ip quotes the value it refuses; here the value is a secret mapped there by mistake.
  const mappedIp = (value: string) => ({ user_ip: value })

  it('masks a verification token in messages although the setting has spaces around it', async () => {
    const message = await refusal({
      mapping: mappedIp('tok-SECRET-91c2'),
      settings: { verificationToken: '  tok-SECRET-91c2 ' }
    })
    expect(message).toBe('user_ip "***" is not an IPv4 or IPv6 address. Map it to context.ip or leave it unmapped.')
  })

  it('masks an API key in messages although the setting has spaces around it', async () => {
    const message = await refusal({
      mapping: mappedIp('key-SECRET-7f3a'),
      settings: { apiKey: ' key-SECRET-7f3a\t' }
    })
    expect(message).toBe('user_ip "***" is not an IPv4 or IPv6 address. Map it to context.ip or leave it unmapped.')
  })

  it('sends a conversion, and refuses bad data with the usual message, when the settings have no API key', async () => {
    // Only the settings check uses the key; an action run without one must not fail on it.
    const withoutKey = { apiKey: undefined } as unknown as Partial<Settings>
    expect(await sentValue('transaction_id', { settings: withoutKey })).toBe(TRANSACTION_ID)
    expect(await refusal({ mapping: mappedIp('not-an-ip'), settings: withoutKey })).toBe(
      'user_ip "not-an-ip" is not an IPv4 or IPv6 address. Map it to context.ip or leave it unmapped.'
    )
  })

  it('sends the verification token trimmed', async () => {
    expect(await sentValue('verification_token', { settings: { verificationToken: '  tok-SECRET-91c2 ' } })).toBe(
      'tok-SECRET-91c2'
    )
  })
})

describe('how a settings message quotes the Postback URL', () => {
  it.each([
    [
      'http://www.trkexample.com/pb?nid=123&verification_token=abc',
      'Postback URL "http://www.trkexample.com/pb" uses http'
    ],
    ['http://www.trkexample.com/pb#verification_token=abc', 'Postback URL "http://www.trkexample.com/pb" uses http'],
    ['http://www.trkexample.com/pb#a?b', 'Postback URL "http://www.trkexample.com/pb" uses http'],
    ['https://user:pa55@www.trkexample.com/', 'Postback URL "https://…@www.trkexample.com/" contains a user name'],
    ['HTTPS://user:pa55@www.trkexample.com/', 'Postback URL "HTTPS://…@www.trkexample.com/" contains a user name'],
    ['user:pa55@www.trkexample.com/', 'Postback URL "…@www.trkexample.com/" contains a user name'],
    ['git+ssh://user:pa55@www.trkexample.com/', 'Postback URL "git+ssh://…@www.trkexample.com/" uses git+ssh'],
    ['https://www.trkexample.com/a\u0007b?tok=1', 'Postback URL "https://www.trkexample.com/a\\u0007b" contains spaces']
  ])('quotes %j without its query, fragment or user-info', async (postbackUrl, start) => {
    const message = await settingsRefusalOf('postbackUrl', postbackUrl)
    expect(message.startsWith(start)).toBe(true)
    expect(message).not.toContain('pa55')
    expect(message).not.toContain('verification_token')
    expect(message.endsWith(POSTBACK_URL_HELP)).toBe(true)
  })

  it('masks a secret that is in the quoted part', async () => {
    const error = await thrown(() =>
      send({ settings: { postbackUrl: 'http://rules-api-key-0000.trkexample.com/', apiKey: 'rules-api-key-0000' } })
    )
    expect(error.message.startsWith('Postback URL "http://***.trkexample.com/" uses http')).toBe(true)
  })

  it('quotes at most 200 characters', async () => {
    const exactly = `http://www.trkexample.com/${'a'.repeat(200 - 'http://www.trkexample.com/'.length)}`
    expect(await settingsRefusalOf('postbackUrl', exactly)).toBe(
      `Postback URL "${exactly}" uses http; Everflow postbacks must use https. ${POSTBACK_URL_HELP}`
    )
    const longer = `${exactly}b`
    expect(await settingsRefusalOf('postbackUrl', longer)).toBe(
      `Postback URL "${exactly}…" uses http; Everflow postbacks must use https. ${POSTBACK_URL_HELP}`
    )
  })
})

describe('messages name the field they refuse', () => {
  // A lone surrogate cannot be sent in a URL; each text field says so by name.
  it.each(['user_ip', 'email', 'currency', 'order_id', 'adv1', 'adv2', 'adv3', 'adv4', 'adv5', 'coupon_code'])(
    '%s',
    async (field) => {
      expect(await refusal({ mapping: { [field]: 'a\ud800b' } })).toBe(
        `${field} contains a broken character (an unpaired UTF-16 surrogate) that cannot be sent. Fix the value where it is set.`
      )
    }
  )

  it('a custom parameter, by its name', async () => {
    expect(await refusal({ mapping: { custom_parameters: { sub1: 'a\udc00' } } })).toBe(
      'custom_parameters "sub1" contains a broken character (an unpaired UTF-16 surrogate) that cannot be sent. Fix the value where it is set.'
    )
  })

  it('a custom parameter that is not text', async () => {
    expect(await refusal({ mapping: { custom_parameters: { sub1: { a: 1 } } } })).toBe(
      'custom_parameters "sub1" must be text, but it is an object. Map it to a text or number property.'
    )
  })
})

describe('network IDs and event IDs are whole numbers written in digits', () => {
  it.each(['0x10', '1e2', '-5', '12a', 'a12'])('refuses nid=%s in the Postback URL', async (nid) => {
    const error = await thrown(() => send({ settings: { postbackUrl: `${TRACKING_ORIGIN}/?nid=${nid}` } }))
    expect([error.code, error.status]).toEqual(['INVALID_SETTINGS', 400])
    expect(error.message).toContain(
      `Postback URL (its nid parameter): ${JSON.stringify(nid.trim())} is not an Everflow network ID. A network ID is a positive whole number, such as 123.`
    )
  })

  it.each(['0x10', '1e2', '-5', '0'])('refuses the Network ID setting %s', async (networkId) => {
    const error = await thrown(() => send({ settings: { postbackUrl: TRACKING_ORIGIN, networkId } }))
    expect(error.message).toBe(
      `Network ID: "${networkId}" is not an Everflow network ID. A network ID is a positive whole number, such as 123.`
    )
  })

  it('sends nid=007 as 7', async () => {
    expect(await sentValue('nid', { settings: { postbackUrl: `${TRACKING_ORIGIN}/?nid=007` } })).toBe('7')
  })

  it.each(['0x10', '1e2', '-5', '1.5'])('refuses the event ID %s in Event Mapping', async (id) => {
    const error = await thrown(() => send({ settings: { eventMapping: `Order Completed=${id}` } }))
    expect(error.message).toBe(
      `Event Mapping gives the event "Order Completed" the ID "${id}", which is not an Everflow event ID. ` +
        'IDs are whole numbers of 0 or more: 0 for the base conversion, otherwise the advertiser event ID from Everflow.'
    )
  })
})

describe('amounts', () => {
  it.each(['1e3', '0x10', '76.', '.5', '-5', '76.00 USD', '$76', '1,2,3', '12,3456.7', '1234,567.5', '1234.567,5'])(
    'refuses %j',
    async (total) => {
      expect(await refusal({ event: orderCompleted({ properties: { total } }) })).toBe(
        `amount ${JSON.stringify(total)} is not a sale amount. Send a plain decimal of 0 or more, such as 76.00 or 76,00: no currency symbol or other text.`
      )
    }
  )

  it.each([
    ['76.50', '76.5'],
    [' 76 ', '76'],
    ['12,34', '12.34'],
    ['1,234.50', '1234.5'],
    ['1,234,567', '1234567'],
    ['1.234,50', '1234.5'],
    ['1.234.567', '1234567'],
    ['0,5', '0.5'],
    ['1299,00', '1299']
  ])('sends %j as %s', async (total, sent) => {
    expect(await sentValue('amount', { event: orderCompleted({ properties: { total } }) })).toBe(sent)
  })

  it('says how to write an amount whose comma could be either separator', async () => {
    expect(await refusal({ event: orderCompleted({ properties: { total: '1,299' } }) })).toBe(
      'amount "1,299" could mean 1299 (with "," separating thousands) or 1.299 (with "," before the decimals). ' +
        'Send it with a decimal point (1299.00 or 1.299) or as a number.'
    )
  })

  it.each([null, ''])('sends no amount for %j', async (total) => {
    expect(await sentValue('amount', { event: orderCompleted({ properties: { total } }) })).toBeUndefined()
  })
})

describe('timestamps', () => {
  it.each([null, ''])('sends no timestamp for %j', async (timestamp) => {
    expect(await sentValue('timestamp', { mapping: { timestamp }, event: orderCompleted() })).toBeUndefined()
  })

  it.each([
    ['1769860800', '1769860800'],
    ['1769860800123', '1769860800'],
    ['999999999999', '999999999999'],
    ['2026-01-31T12:00:00.999Z', '1769860800']
  ])('sends %j as %s', async (timestamp, sent) => {
    expect(await sentValue('timestamp', { mapping: { timestamp } })).toBe(sent)
  })

  it.each([
    ['2026-01-31T13:00:00+01:00', '1769860800'],
    ['2026-01-31T07:00:00-0500', '1769860800'],
    ['2026-01-31t12:00:00z', '1769860800'],
    ['2026-01-31T12:00Z', '1769860800'],
    ['2024-02-29T00:00:00Z', '1709164800']
  ])('reads the ISO 8601 form %j as %s', async (timestamp, sent) => {
    expect(await sentValue('timestamp', { mapping: { timestamp } })).toBe(sent)
  })

  // Without a zone, dayjs read these in the machine's local time: the same event gave another timestamp elsewhere.
  // Jest's process.env is a copy, so each time zone gets a Node process of its own.
  it("reads dates and times without a zone as UTC, whatever the machine's time zone", () => {
    const inputs = ['2026-01-31 12:00:00', '2026-01-31T12:00:00', '2026-01-31T12:00:00.000', '2026-01-31']
    const postbackFile = require.resolve('../src/trackConversion/postback')
    const script = `
      const { buildPostback } = require(${JSON.stringify(postbackFile)})
      const settings = { postbackBase: 'https://www.trkexample.com/', postbackHost: 'www.trkexample.com', networkId: '1', eventIds: new Map([['Order Completed', 0]]) }
      const sent = ${JSON.stringify(inputs)}.map((timestamp) => new URL(buildPostback({ transaction_id: 'a', referrer_type: 'everflow', event_name: 'Order Completed', timestamp }, settings).url).searchParams.get('timestamp'))
      console.log(JSON.stringify({ offset: new Date(Date.UTC(2026, 0, 31, 12)).getTimezoneOffset(), sent }))`
    const inZone = (TZ: string) =>
      JSON.parse(
        execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
          cwd: join(__dirname, '..'),
          env: { ...process.env, TZ },
          encoding: 'utf8'
        })
      ) as { offset: number; sent: string[] }
    const expected = ['1769860800', '1769860800', '1769860800', '1769817600']
    // The offsets prove each process really ran in its zone: 14 hours ahead of UTC and 8 hours behind.
    expect(inZone('Pacific/Kiritimati')).toEqual({ offset: -840, sent: expected })
    expect(inZone('America/Los_Angeles')).toEqual({ offset: 480, sent: expected })
  })

  it.each([
    '2026-02-30T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-01-31T24:00:00Z',
    '2026-04-31',
    '0099-01-31T00:00:00Z'
  ])('refuses %j, a day or time that does not exist, naming the field', async (timestamp) => {
    expect(await refusal({ mapping: { timestamp } })).toBe(
      `timestamp ${JSON.stringify(timestamp)} is not a real date and time: there is no such day or time. ${TIMESTAMP_HELP}`
    )
  })

  it.each(['01/02/2026', '1/2/2026', 'Jan 31 2026', '2026-1-31', 'Saturday, 31 January 2026 12:00'])(
    'refuses %j, which is no ISO 8601 date, naming the field',
    async (timestamp) => {
      expect(await refusal({ mapping: { timestamp } })).toBe(
        `timestamp ${JSON.stringify(timestamp)} is not an ISO 8601 date. ${TIMESTAMP_HELP}`
      )
    }
  )

  // The framework's own date check refuses these before the action runs, naming the field too.
  it.each([
    '2026-13-01T00:00:00Z',
    '2026-01-31T12:60:00Z',
    '2026-01-31T23:59:60Z',
    '2026-01-31T12:00:00+24:00',
    '2026-01-31T12:00:00+01:60',
    '31.01.2026',
    'yesterday'
  ])('refuses %j in the framework', async (timestamp) => {
    expect(await refusal({ mapping: { timestamp } })).toBe('Timestamp must be a valid date-like string but it was not.')
  })
})

describe('currency codes', () => {
  it.each(['USDX', 'dollars', 'US', 'U$D', '840'])('refuses %j', async (currency) => {
    expect(await refusal({ mapping: { currency } })).toBe(
      `currency "${currency}" is not a three-letter ISO 4217 code such as USD or EUR.`
    )
  })

  it('sends eur as EUR', async () => {
    expect(await sentValue('currency', { mapping: { currency: 'eur' } })).toBe('EUR')
  })
})

describe('transaction IDs', () => {
  it('sends one of 256 characters', async () => {
    const id = 'a'.repeat(256)
    expect(
      await sentValue('transaction_id', {
        event: orderCompleted({ context: { referrer: { type: 'everflow', id } } as SegmentEvent['context'] })
      })
    ).toBe(id)
  })

  it('refuses one of 257 characters', async () => {
    const id = 'a'.repeat(257)
    expect(
      await refusal({
        event: orderCompleted({ context: { referrer: { type: 'everflow', id } } as SegmentEvent['context'] })
      })
    ).toBe('transaction_id is 257 characters long; Everflow click IDs are at most 256. Check what is mapped to it.')
  })
})

describe('reserved host names', () => {
  it.each([
    'tracker.localhost',
    'tracker.local',
    'tracker.localdomain',
    'tracker.internal',
    'tracker.intranet',
    'tracker.lan',
    'tracker.home.arpa',
    'home.arpa',
    'tracker.arpa',
    'tracker.invalid',
    'tracker.test',
    'tracker.onion',
    'TRACKER.ONION'
  ])('refuses %s', async (host) => {
    const error = await thrown(() => send({ settings: { postbackUrl: `https://${host}/?nid=123` } }))
    expect(error.message).toContain(
      `Postback URL "https://${host}/" names a local or reserved host; use your public Everflow tracking domain.`
    )
  })

  it.each(['www.golocal.com', 'www.trkexample.onions', 'www.testing.com'])(
    'sends to %s, which only contains a reserved name',
    async (host) => {
      nock(`https://${host}`).get('/').query(true).reply(200, 'OK')
      const [response] = await send({ settings: { postbackUrl: `https://${host}/?nid=123` } })
      expect(response.status).toBe(200)
    }
  )
})

describe('the settings check and the network of the API key', () => {
  function networksAnswers(status: number, body: object) {
    nock(API_ORIGIN).get('/v1/networks').reply(status, body)
  }

  it('says the API Key is empty when it is only spaces, asking Everflow nothing', async () => {
    const error = await thrown(() => testDestination.testAuthentication({ ...settings, apiKey: '  ' }))
    expect(error.message).toContain('API Key is empty.')
  })

  it('leaves a missing API Key to Segment, which refuses the settings', async () => {
    const error = await thrown(() => testDestination.testAuthentication({ ...settings, apiKey: undefined as never }))
    expect(error.message).toContain("missing the required field 'apiKey'")
  })

  it('sends the API Key without the spaces around it', async () => {
    nock(API_ORIGIN, { reqheaders: { 'x-eflow-api-key': (value) => value === 'rules-api-key-0000' } })
      .get('/v1/networks')
      .reply(200, { network_id: 123 })
    await testDestination.testAuthentication({ ...settings, apiKey: ' rules-api-key-0000 ' })
  })

  it('accepts a network key whose answer has no network_id', async () => {
    networksAnswers(200, { name: 'Example Network' })
    await expect(testDestination.testAuthentication(settings)).resolves.not.toThrow()
  })

  it.each([123, '123'])('accepts network_id %j for nid=123', async (networkId) => {
    networksAnswers(200, { network_id: networkId })
    await expect(testDestination.testAuthentication(settings)).resolves.not.toThrow()
  })

  it('refuses a key of network 456 for nid=123', async () => {
    networksAnswers(200, { network_id: '456' })
    const error = await thrown(() => testDestination.testAuthentication(settings))
    expect(error.message).toContain(
      'API Key belongs to Everflow network 456, but the Postback URL (or Network ID) is for network 123.'
    )
  })

  it('says to set API Region to US when the key works only there', async () => {
    nock(API_ORIGIN).get('/v1/networks').reply(401, {})
    nock(API_ORIGIN).get('/v1/networks').reply(200, { network_id: 123 })
    const error = await thrown(() => testDestination.testAuthentication({ ...settings, apiRegion: 'eu' }))
    expect(error.message).toContain(
      "API Key is not known on Everflow's EU API but works on the US API: set API Region to US."
    )
  })
})

describe('Postback URL forms', () => {
  // The URL's query is not sent as it is: a token written into it was silently dropped from every postback.
  it('sends the verification_token written into the Postback URL when Verification Token is empty', async () => {
    const postbackUrl = `${TRACKING_ORIGIN}/?nid=123&transaction_id={transaction_id}&verification_token=url-token-1234`
    expect(await sentValue('verification_token', { settings: { postbackUrl } })).toBe('url-token-1234')
  })

  it('sends the setting when the Postback URL holds only a placeholder token', async () => {
    const postbackUrl = `${TRACKING_ORIGIN}/?nid=123&verification_token={verification_token}&adv_event_id={adv_event_id}`
    expect(
      await sentValue('verification_token', { settings: { postbackUrl, verificationToken: 'setting-token-5678' } })
    ).toBe('setting-token-5678')
  })

  it('masks a token that is only in the Postback URL wherever event data echoes it', async () => {
    const postbackUrl = `${TRACKING_ORIGIN}/?nid=123&verification_token=url-token-1234`
    const message = await refusal({ settings: { postbackUrl }, mapping: { currency: 'url-token-1234' } })
    expect(message).toBe('currency "***" is not a three-letter ISO 4217 code such as USD or EUR.')
  })

  /** The path and query the postback was sent with, to www.trkexample.com. */
  async function sentTo(postbackUrl: string): Promise<string> {
    const paths: string[] = []
    nock(TRACKING_ORIGIN)
      .get(/.*/)
      .reply(function (uri) {
        paths.push(uri)
        return [200, 'OK']
      })
    await send({ settings: { postbackUrl } })
    return paths[0]
  }

  it.each([
    ['www.trkexample.com/pb?nid=123', '/pb?'],
    ['//www.trkexample.com/pb?nid=123', '/pb?'],
    ['https://www.trkexample.com/a/b?nid=123', '/a/b?']
  ])('sends %j to its path', async (postbackUrl, path) => {
    expect((await sentTo(postbackUrl)).startsWith(path)).toBe(true)
  })

  it('reads nid with spaces around it', async () => {
    expect(await sentValue('nid', { settings: { postbackUrl: `${TRACKING_ORIGIN}/?nid=%20123%20` } })).toBe('123')
  })

  it.each(['5{x}', '{x}5'])('refuses nid=%s, which is not only a placeholder', async (nid) => {
    expect(await settingsRefusalOf('postbackUrl', `${TRACKING_ORIGIN}/?nid=${nid}`)).toBe(
      `Postback URL (its nid parameter): "${nid}" is not an Everflow network ID. A network ID is a positive whole number, such as 123. ${POSTBACK_URL_HELP}`
    )
  })

  it('refuses a host whose last label is a number, which is no IPv4 address either', async () => {
    expect(await settingsRefusalOf('postbackUrl', 'https://www.trkexample.com.123/?nid=123')).toBe(
      `Postback URL "https://www.trkexample.com.123/" is not a URL or hostname. ${POSTBACK_URL_HELP}`
    )
  })

  it.each([
    ['https://2130706433/', 'a private or local IP address'],
    ['https://0x5d.184.215.14/', 'an IP address'],
    ['https://[2606:4700::6810:84e5]/', 'an IP address'],
    ['https://[::ffff:a9fe:a9fe]/', 'a private or local IP address']
  ])('refuses %s, an address in any form', async (postbackUrl, kind) => {
    expect(await settingsRefusalOf('postbackUrl', `${postbackUrl}?nid=123`)).toBe(
      `Postback URL "${postbackUrl}" points at ${kind}; use your Everflow tracking domain. ${POSTBACK_URL_HELP}`
    )
  })

  it('quotes a URL whose query holds a space without that query', async () => {
    expect(await settingsRefusalOf('postbackUrl', 'https://www.trkexample.com/pb?verification_token=a b')).toBe(
      `Postback URL "https://www.trkexample.com/pb" contains spaces, control characters or backslashes. ${POSTBACK_URL_HELP}`
    )
  })

  it('quotes an "@" in the path as it is: only user-info before the host is hidden', async () => {
    expect(await settingsRefusalOf('postbackUrl', 'https://www.trkexample.com:8443/a@b')).toBe(
      `Postback URL "https://www.trkexample.com:8443/a@b" names a port; Everflow tracking domains use the default https port. ${POSTBACK_URL_HELP}`
    )
  })

  it('is missing', async () => {
    expect(await settingsRefusalOf('postbackUrl', undefined)).toBe(`Postback URL is empty. ${POSTBACK_URL_HELP}`)
  })

  it('takes its nid when Network ID is only spaces', async () => {
    expect(await sentValue('nid', { settings: { networkId: '   ' } })).toBe('123')
  })
})

describe('Event Mapping forms', () => {
  // Segment's settings form is one line: this was one event named "Order Completed=0, Signed Up" with the ID 12.
  it.each(['Order Completed=0, Signed Up=12', 'Order Completed=0; Signed Up=12'])(
    'takes %j as two events, in the action and in the settings check',
    async (eventMapping) => {
      expect(await sentValue('adv_event_id', { settings: { eventMapping } })).toBeUndefined()
      expect(
        await sentValue('adv_event_id', { settings: { eventMapping }, event: orderCompleted({ event: 'Signed Up' }) })
      ).toBe('12')
      nock(API_ORIGIN).get('/v1/networks').reply(200, { network_id: 123 })
      await expect(testDestination.testAuthentication({ ...settings, eventMapping })).resolves.not.toThrow()
    }
  )

  it('skips lines of spaces and reads names and IDs with spaces around them', async () => {
    const eventMapping = 'Signed Up=4\n   \n  Order Completed  =  7  \n'
    expect(await sentValue('adv_event_id', { settings: { eventMapping } })).toBe('7')
  })

  it('quotes an ID without the spaces around it', async () => {
    expect(await settingsRefusalOf('eventMapping', 'Order Completed =  seven ')).toBe(
      'Event Mapping gives the event "Order Completed" the ID "seven", which is not an Everflow event ID. ' +
        'IDs are whole numbers of 0 or more: 0 for the base conversion, otherwise the advertiser event ID from Everflow.'
    )
  })

  it('says an ID that is not there at all is "nothing"', async () => {
    expect(await settingsRefusalOf('eventMapping', { 'Order Completed': undefined })).toBe(
      'Event Mapping gives the event "Order Completed" the ID nothing, which is not an Everflow event ID. ' +
        'IDs are whole numbers of 0 or more: 0 for the base conversion, otherwise the advertiser event ID from Everflow.'
    )
  })

  it('is missing', async () => {
    expect(await settingsRefusalOf('eventMapping', undefined)).toBe(
      'Event Mapping is empty. Add Event Name=ID pairs separated by commas, e.g. Order Completed=0, Signed Up=12 (0 is the base conversion).'
    )
  })
})
