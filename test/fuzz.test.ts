// Hostile input, property-based (fast-check, seeded so every run is reproducible: FUZZ_SEED overrides).
// Properties: the builder returns a postback whose query round-trips through URL to exactly the intended
// values, or throws PayloadValidationError; settings parse to a safe result or a settings IntegrationError.
import { isDeepStrictEqual } from 'util'
import fc from 'fast-check'
import { IntegrationError, PayloadValidationError } from '@segment/actions-core'
import { parseEventMapping, parsePostbackUrl, parseSettings } from '../src/settings'
import { buildPostback } from '../src/trackConversion/postback'
import type { Payload } from '../src/trackConversion/generated-types'
import { tally } from './support/tally'
import { RESERVED_PARAMETER_NAMES } from './support/helpers'

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)
const SEED = Number(process.env.FUZZ_SEED ?? 20261130)

function check<T>(arbitrary: fc.Arbitrary<T>, property: (value: T) => boolean | void): void {
  fc.assert(fc.property(arbitrary, property), { numRuns: RUNS, seed: SEED })
  tally('fuzz', RUNS)
}

// The properties compare plainly and call expect() only to report a mismatch: an expect() call costs more
// than building a postback, and they run 50,000 times. Strictly equal values are also equal to toEqual.
function expectEqual(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected)
}

function expectMatch(text: string | undefined, pattern: RegExp): void {
  if (text === undefined || !pattern.test(text)) expect(text).toMatch(pattern)
}

/** What build() threw, or undefined when it returned. */
function thrownBy(build: () => unknown): unknown {
  try {
    build()
  } catch (error) {
    return error
  }
  return undefined
}

// Strings a hostile or broken source can send: any code units (lone surrogates too), URL syntax, controls,
// bidi marks, emoji, and now and then one of 100 kB.
const nastyString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.string({ unit: fc.constantFrom('&', '=', '?', '#', '%', '+', ' ', '/', '\\', 'a', '0') })
  },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.constantFrom(
        '\u0000',
        '\u0007',
        '\u001f',
        '\u007f',
        '\u200f',
        '\u202e',
        '\ufeff',
        '😀',
        'é',
        '\ud800',
        '\udc00'
      )
    })
  },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(100_000), ' '.repeat(100_000), '😀'.repeat(50_000)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'everflow',
      'EverFlow',
      'Order Completed',
      '76.00',
      '$76',
      '76,00',
      'USD',
      'jane@example.com',
      '23.123.123.123',
      '2026-01-31T12:00:00Z'
    )
  }
)
const nastyNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(
    NaN,
    -0,
    0,
    1e308,
    -1e308,
    Infinity,
    -Infinity,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 64,
    0.1,
    76,
    1769860800,
    1769860800000
  )
)
const scalar = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null), fc.constant(undefined))
const anything = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) }
)
const RESERVED = RESERVED_PARAMETER_NAMES
const customParameters = fc.oneof(
  anything,
  fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...RESERVED, 'sub1', 'Sub_2')), anything, {
    maxKeys: 4
  })
)

/** Mostly a valid value for the field, now and then anything at all. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: anything })
const freeText = fc.oneof(nastyString, nastyNumber, fc.constant(undefined))

// Two shapes: payloads whose checked fields are mostly valid (so most build, and the round trip is tested on
// hostile free text), and payloads where every field may be anything (so every refusal path is exercised).
const payloadArbitrary = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        transaction_id: mostly(fc.stringMatching(/^[0-9a-f]{32}$/)),
        referrer_type: mostly(fc.constantFrom('everflow', ' Everflow ', 'EVERFLOW')),
        event_name: mostly(fc.constantFrom('Order Completed', 'Signed Up')),
        adv_event_id: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, fc.integer({ min: 0, max: 50 })),
        amount: mostly(
          fc.oneof(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.stringMatching(/^[0-9]{1,6}(\.[0-9]{1,2})?$/))
        ),
        order_id: freeText,
        user_ip: mostly(fc.oneof(fc.ipV4(), fc.ipV6())),
        adv1: freeText,
        adv2: freeText,
        adv3: freeText,
        adv4: freeText,
        adv5: freeText,
        coupon_code: freeText,
        email: mostly(fc.emailAddress()),
        currency: mostly(fc.constantFrom('usd', 'EUR', 'Gbp')),
        // Four-digit years: the action refuses ISO 8601's expanded years (+275760-...), which no conversion has.
        timestamp: mostly(
          fc
            .date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
            .map((date) => date.toISOString())
        ),
        custom_parameters: fc.oneof(
          {
            weight: 6,
            arbitrary: fc.dictionary(fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/), fc.oneof(freeText, fc.boolean()), {
              maxKeys: 4
            })
          },
          { weight: 1, arbitrary: customParameters }
        )
      },
      { requiredKeys: ['transaction_id', 'referrer_type', 'event_name'] }
    )
  },
  fc.record(
    {
      transaction_id: anything,
      referrer_type: anything,
      event_name: anything,
      adv_event_id: fc.oneof(fc.constant(undefined), fc.integer({ min: -5, max: 50 }), nastyNumber),
      amount: anything,
      order_id: anything,
      user_ip: anything,
      adv1: anything,
      adv2: anything,
      adv3: anything,
      adv4: anything,
      adv5: anything,
      coupon_code: anything,
      email: anything,
      currency: anything,
      timestamp: anything,
      custom_parameters: customParameters
    },
    { requiredKeys: [] }
  )
)

const settings = parseSettings({
  apiKey: 'key',
  eventMapping: 'Order Completed=0\nSigned Up=12',
  postbackUrl: 'https://www.trkexample.com/pb?nid=123',
  verificationToken: 'tok-12345678'
})

/** The value a text field must arrive with: numbers as decimal text, strings trimmed, blank as absent. */
function expectedText(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value)
  if (typeof value !== 'string') return undefined
  return value.trim() === '' ? undefined : value.trim()
}

const REFUSAL_START =
  /^(transaction_id|referrer_type|event_name|adv_event_id|amount|order_id|user_ip|adv[1-5]|coupon_code|email|currency|timestamp|custom_parameters) |^Event |^The postback URL would be /

// Payloads with every field valid: the builder must send each of them, so refusing too much fails here.
const validText = fc.oneof(fc.string({ maxLength: 30 }), fc.integer({ min: -1e9, max: 1e9 }), fc.constant(undefined))
const validPayload = fc.record(
  {
    transaction_id: fc.stringMatching(/^[0-9a-zA-Z_-]{1,256}$/),
    referrer_type: fc.constantFrom('everflow', ' Everflow ', 'EVERFLOW'),
    event_name: fc.constantFrom('Order Completed', 'Signed Up'),
    adv_event_id: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
    amount: fc.option(
      fc.oneof(
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.stringMatching(/^ ?[0-9]{1,6}([.,][0-9]{1,2})? ?$/),
        fc.constantFrom('1,234.50', '1.234,50', '1,234,567', '')
      ),
      { nil: undefined }
    ),
    order_id: validText,
    user_ip: fc.option(fc.oneof(fc.ipV4(), fc.ipV6()), { nil: undefined }),
    adv1: validText,
    adv2: validText,
    adv3: validText,
    adv4: validText,
    adv5: validText,
    coupon_code: validText,
    email: fc.option(fc.constantFrom('jane@example.com', ' Jane.Doe+x@Example.co.uk '), { nil: undefined }),
    currency: fc.option(fc.constantFrom('usd', 'EUR', 'Gbp', ' jpy '), { nil: undefined }),
    timestamp: fc.option(
      fc.oneof(
        fc
          .date({ min: new Date('1971-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString()),
        fc.integer({ min: 0, max: 4_102_444_800 }).map(String)
      ),
      { nil: undefined }
    ),
    custom_parameters: fc.option(
      fc.dictionary(
        fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/).filter((name) => !RESERVED.includes(name.toLowerCase())),
        fc.oneof(validText, fc.boolean()),
        { maxKeys: 4 }
      ),
      { nil: undefined }
    )
  },
  { requiredKeys: ['transaction_id', 'referrer_type', 'event_name'] }
)

describe('valid payloads', () => {
  it(`are all sent (${RUNS} cases)`, () => {
    check(validPayload, (input) => {
      expectEqual(new URL(buildPostback(input as unknown as Payload, settings).url).searchParams.get('nid'), '123')
    })
  })

  it(`are refused exactly when a custom parameter is named like one the destination sets (${RUNS} cases)`, () => {
    const names = fc.oneof(
      fc.constantFrom(...RESERVED),
      fc.constantFrom(...RESERVED).map((name) => name.toUpperCase()),
      fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/)
    )
    check(
      fc.tuple(validPayload, fc.dictionary(names, fc.string({ maxLength: 5 }), { minKeys: 1, maxKeys: 4 })),
      ([input, custom]) => {
        const payload = { ...input, custom_parameters: custom } as unknown as Payload
        const reserved = Object.keys(custom).find((name) => RESERVED.includes(name.toLowerCase()))
        const error = thrownBy(() => buildPostback(payload, settings))
        if (reserved === undefined) {
          if (error !== undefined) expect(() => buildPostback(payload, settings)).not.toThrow()
        } else {
          const refusal = `custom_parameters name "${reserved}" is a parameter the destination sets itself. Map the value to its own field instead, or rename it.`
          if (!(error instanceof PayloadValidationError && error.message === refusal)) {
            expect(() => buildPostback(payload, settings)).toThrow(new PayloadValidationError(refusal))
          }
        }
      }
    )
  })
})

describe('hostile payloads', () => {
  it(`build a postback that round-trips exactly, or throw PayloadValidationError (${RUNS} cases)`, () => {
    let built = 0
    check(payloadArbitrary, (input) => {
      const payload = input as unknown as Payload
      let url: URL
      try {
        url = new URL(buildPostback(payload, settings).url)
      } catch (error) {
        if (!(error instanceof PayloadValidationError)) throw error
        // A refusal names what it refuses: a field, the event, or the URL's length.
        expectMatch(error.message, REFUSAL_START)
        return
      }
      expectEqual(`${url.origin}${url.pathname}`, 'https://www.trkexample.com/pb')
      const sent = new Map<string, string>()
      const repeated: string[] = []
      for (const [name, value] of url.searchParams) {
        if (sent.has(name)) repeated.push(name)
        sent.set(name, value)
      }
      expectEqual(repeated, []) // no parameter twice
      const intended = new Map<string, string | undefined>([
        ['nid', '123'],
        ['transaction_id', payload.transaction_id],
        ['order_id', expectedText(payload.order_id)],
        ['user_ip', expectedText(payload.user_ip)],
        ['adv1', expectedText(payload.adv1)],
        ['adv2', expectedText(payload.adv2)],
        ['adv3', expectedText(payload.adv3)],
        ['adv4', expectedText(payload.adv4)],
        ['adv5', expectedText(payload.adv5)],
        ['coupon_code', expectedText(payload.coupon_code)],
        ['email', expectedText(payload.email)?.toLowerCase()],
        ['currency', expectedText(payload.currency)?.toUpperCase()],
        ['verification_token', 'tok-12345678']
      ])
      const amount = typeof payload.amount === 'string' ? payload.amount.trim() : payload.amount
      if (typeof amount === 'string' && /[,.].*[,.]|,/.test(amount)) {
        // Separators as stores write them: "," for thousands, or "." for thousands and "," before the decimals.
        const readings = [
          String(Number(amount.replace(/,/g, ''))),
          String(Number(amount.replace(/\./g, '').replace(',', '.')))
        ]
        if (!readings.includes(sent.get('amount') as string)) expect(readings).toContain(sent.get('amount'))
        intended.set('amount', sent.get('amount'))
      } else {
        intended.set(
          'amount',
          amount === undefined || amount === null || amount === '' ? undefined : String(Number(amount))
        )
      }
      const eventId = payload.adv_event_id ?? (payload.event_name === 'Signed Up' ? 12 : 0)
      intended.set('adv_event_id', eventId === 0 ? undefined : String(eventId))
      for (const [name, value] of Object.entries((payload.custom_parameters ?? {}) as Record<string, unknown>)) {
        intended.set(name, typeof value === 'boolean' ? String(value) : expectedText(value))
      }
      expectEqual(
        [...intended].map(([name]) => [name, sent.get(name)]),
        [...intended]
      )
      const timestamp = sent.get('timestamp')
      if (payload.timestamp === undefined || payload.timestamp === null || payload.timestamp === '') {
        expectEqual(timestamp, undefined)
      } else {
        expectMatch(timestamp, /^-?[0-9]+$/)
      }
      const known = new Set([...intended.keys(), 'timestamp'])
      expectEqual(
        [...sent.keys()].filter((name) => !known.has(name)),
        []
      )
      built++
    })
    // Both outcomes must be common, or the property tests little.
    expect(built).toBeGreaterThan(RUNS * 0.2)
    expect(built).toBeLessThan(RUNS * 0.8)
  })
})

const ADDRESS_OR_LOCAL_NAME = /^[0-9.]+$|^\[|localhost|\.internal$|\.local$/

/** A hostname is one the rules allow: a public-looking DNS name, never an address or a local name. */
function expectSafeBase(postbackBase: string): void {
  const url = new URL(postbackBase)
  expectEqual([url.protocol, url.port, url.username + url.password, url.search + url.hash], ['https:', '', '', ''])
  if (ADDRESS_OR_LOCAL_NAME.test(url.hostname)) expect(url.hostname).not.toMatch(ADDRESS_OR_LOCAL_NAME)
  expectMatch(url.hostname, /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]*[a-z][a-z0-9-]*$/)
}

function expectSettingsError(error: unknown): void {
  if (!(error instanceof IntegrationError) || error.code !== 'INVALID_SETTINGS' || error.status !== 400) throw error
}

/** Mostly one of the usual values, now and then one of the odd ones. */
const usually = (usual: string[], odd: string[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...usual) }, { weight: 1, arbitrary: fc.constantFrom(...odd) })

const urlish = fc
  .tuple(
    usually(['', 'https://', 'HTTPS://'], ['http://', 'https:', 'ftp://', '//', 'https:\\\\', 'javascript:']),
    usually([''], ['user:pass@', '@', 'www.trkexample.com@']),
    fc.oneof(
      { weight: 4, arbitrary: fc.domain() },
      fc.ipV4(),
      fc.ipV6().map((ip) => `[${ip}]`),
      fc.constantFrom(
        'localhost',
        'localhost.',
        'a.localhost',
        'metadata.google.internal',
        '2130706433',
        '0x7f.1',
        'bücher.example'
      ),
      fc.string({ unit: 'binary', maxLength: 12 })
    ),
    usually([''], [':443', ':8080', ':', '.']),
    usually(['', '/', '/pb'], ['/%2e%2e/', '/\\evil', '/ a']),
    usually(['', '?nid=123', '?nid={nid}', '?transaction_id={transaction_id}&nid=9', '#x'], ['?nid=abc', '?nid=0'])
  )
  .map((parts) => parts.join(''))

describe('hostile settings', () => {
  it(`Postback URL: a safe https base or a settings error (${RUNS} cases)`, () => {
    let accepted = 0
    check(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), urlish), (input) => {
      let postbackBase: string
      try {
        postbackBase = parsePostbackUrl(input).postbackBase
      } catch (error) {
        expectSettingsError(error)
        return
      }
      expectSafeBase(postbackBase)
      accepted++
    })
    expect(accepted).toBeGreaterThan(RUNS * 0.05)
  })

  it(`Event Mapping: non-negative whole ids for non-empty names, or a settings error (${RUNS} cases)`, () => {
    const line = fc.tuple(
      fc.string({ unit: 'binary', maxLength: 15 }),
      fc.constantFrom('=', ' = ', '==', ''),
      fc.oneof(fc.nat().map(String), fc.string({ maxLength: 4 }))
    )
    const lines = fc
      .array(
        line.map((parts) => parts.join('')),
        { maxLength: 5 }
      )
      .map((all) => all.join('\n'))
    const json = fc
      .dictionary(
        fc.string({ maxLength: 8 }),
        fc.oneof({ weight: 6, arbitrary: fc.nat() }, fc.integer(), fc.double(), fc.string(), fc.constant(null))
      )
      .map((object) => JSON.stringify(object))
    let parsed = 0
    check(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 60 }),
        { weight: 3, arbitrary: lines },
        { weight: 2, arbitrary: json }
      ),
      (input) => {
        let mapping: Map<string, number>
        try {
          mapping = parseEventMapping(input)
        } catch (error) {
          expectSettingsError(error)
          return
        }
        parsed++
        if (mapping.size === 0) expect(mapping.size).toBeGreaterThan(0)
        const wrong = [...mapping].filter(
          ([name, id]) => name !== name.trim() || name === '' || !(Number.isSafeInteger(id) && id >= 0)
        )
        expectEqual(wrong, [])
      }
    )
    expect(parsed).toBeGreaterThan(RUNS * 0.05)
  })
})
