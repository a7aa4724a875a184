import fc from 'fast-check'
import { PayloadValidationError } from '@segment/actions-core'
import { parseSettings } from '../src/settings'
import { buildPostback, MAX_POSTBACK_URL_LENGTH } from '../src/trackConversion/postback'
import type { Payload } from '../src/trackConversion/generated-types'
import { settings, thrown, TRANSACTION_ID, queryOf } from './support/helpers'

const parsed = parseSettings(settings)

function payload(overrides: Partial<Record<keyof Payload, unknown>> = {}): Payload {
  return {
    transaction_id: TRANSACTION_ID,
    referrer_type: 'everflow',
    event_name: 'Order Completed',
    ...overrides
  } as Payload
}

function query(
  overrides: Partial<Record<keyof Payload, unknown>> = {},
  parsedSettings = parsed
): Array<[string, string]> {
  return queryOf(buildPostback(payload(overrides), parsedSettings).url)
}

async function invalid(overrides: Partial<Record<keyof Payload, unknown>>): Promise<string> {
  const error = await thrown(() => buildPostback(payload(overrides), parsed))
  expect(error).toBeInstanceOf(PayloadValidationError)
  expect(error.status).toBe(400)
  return error.message
}

describe('buildPostback', () => {
  it('sends only nid and transaction_id for a bare base conversion', () => {
    const postback = buildPostback(payload(), parsed)
    expect(postback.url).toBe(`https://www.trkexample.com/?nid=123&transaction_id=${TRANSACTION_ID}`)
    expect(postback.transactionId).toBe(TRANSACTION_ID)
  })

  it('sends every field, in order, formatted for Everflow', () => {
    const all = query(
      {
        event_name: 'Signed Up',
        amount: '76.50',
        order_id: ' 123456789 ',
        user_ip: '2001:db8::1',
        adv1: 'a 1',
        adv2: 'b&c=d',
        adv3: 3,
        adv4: 'x',
        adv5: 'y',
        coupon_code: 'SAVE10',
        email: '  Jane.Doe@Example.COM ',
        currency: 'eur',
        timestamp: '2026-01-31T12:00:00.000Z',
        custom_parameters: { sub1: 'one', flag: true, n: 5 }
      },
      parseSettings({ ...settings, verificationToken: 'tok-12345678' })
    )
    expect(all).toEqual([
      ['nid', '123'],
      ['transaction_id', TRANSACTION_ID],
      ['adv_event_id', '12'],
      ['amount', '76.5'],
      ['order_id', '123456789'],
      ['user_ip', '2001:db8::1'],
      ['adv1', 'a 1'],
      ['adv2', 'b&c=d'],
      ['adv3', '3'],
      ['adv4', 'x'],
      ['adv5', 'y'],
      ['coupon_code', 'SAVE10'],
      ['email', 'jane.doe@example.com'],
      ['currency', 'EUR'],
      ['timestamp', '1769860800'],
      ['verification_token', 'tok-12345678'],
      ['sub1', 'one'],
      ['flag', 'true'],
      ['n', '5']
    ])
  })

  it('encodes values through URL machinery', () => {
    const { url } = buildPostback(payload({ adv1: 'a&b=c?d#e%f+g h' }), parsed)
    expect(url).toContain('adv1=a%26b%3Dc%3Fd%23e%25f%2Bg+h')
  })

  it('keeps the path of the Postback URL', () => {
    const withPath = parseSettings({ ...settings, postbackUrl: 'https://trk.example.com/pb?nid=9' })
    expect(buildPostback(payload(), withPath).url).toBe(
      `https://trk.example.com/pb?nid=9&transaction_id=${TRANSACTION_ID}`
    )
  })

  it('leaves out empty and blank values', () => {
    const bare = [
      ['nid', '123'],
      ['transaction_id', TRANSACTION_ID]
    ]
    expect(query({ order_id: '', adv1: '   ', email: null, custom_parameters: { a: '', b: null } })).toEqual(bare)
    expect(query({ amount: null, timestamp: null, custom_parameters: null })).toEqual(bare)
    expect(query({ amount: '', timestamp: '' })).toEqual(bare)
  })

  it('looks the event up in Event Mapping when adv_event_id is null', () => {
    expect(query({ event_name: 'Signed Up', adv_event_id: null })).toContainEqual(['adv_event_id', '12'])
  })

  it.each([undefined, null, '', '  '])('says event_name is missing when it is %j', async (eventName) => {
    expect(await invalid({ event_name: eventName })).toBe(
      'event_name is missing: the event has no name (its "event", the default mapping), so Event Mapping cannot say which Everflow event it is. ' +
        'Send a track event with a name listed in Event Mapping, map Event Name to where the name is, or map adv_event_id.'
    )
  })

  it('names an event that is not in Event Mapping, with no hint when no name differs only in case', async () => {
    expect(await invalid({ event_name: 'Order Refunded' })).toBe(
      'Event "Order Refunded" is not in the Event Mapping setting, so Everflow would not know which event it is. ' +
        'Add a line "Order Refunded=ID" to Event Mapping (0 for the base conversion) or map adv_event_id.'
    )
    expect(await invalid({ event_name: 'signed up' })).toBe(
      'Event "signed up" is not in the Event Mapping setting, so Everflow would not know which event it is. ' +
        'Add a line "signed up=ID" to Event Mapping (0 for the base conversion) or map adv_event_id. ' +
        'Event Mapping has "Signed Up", which differs only in case.'
    )
    expect(await invalid({ event_name: 5 })).toBe(
      'Event 5 is not in the Event Mapping setting, so Everflow would not know which event it is. ' +
        'Add a line "Event Name=ID" to Event Mapping (0 for the base conversion) or map adv_event_id.'
    )
  })

  it.each([undefined, null, '', '  '])('says referrer_type is missing when it is %j', async (referrerType) => {
    expect(await invalid({ referrer_type: referrerType })).toBe(
      'referrer_type is missing: the event has no context.referrer.type (the default mapping). Send "everflow" there, next to the transaction ID in context.referrer.id: ' +
        'context.referrer = { "type": "everflow", "id": <transaction ID from EF.getAdvertiserTransactionId() or the _ef_transaction_id URL parameter> }.'
    )
  })

  it('uses adv_event_id over Event Mapping, and sends none for 0', () => {
    expect(query({ adv_event_id: 44 })).toContainEqual(['adv_event_id', '44'])
    expect(query({ event_name: 'Signed Up', adv_event_id: 0 }).map(([name]) => name)).not.toContain('adv_event_id')
    expect(query({ event_name: 'Not Mapped', adv_event_id: 7 })).toContainEqual(['adv_event_id', '7'])
  })

  it('accepts referrer_type in any case', () => {
    expect(() => buildPostback(payload({ referrer_type: ' EverFlow ' }), parsed)).not.toThrow()
  })

  it.each([
    [76, '76'],
    [0, '0'],
    ['76.00', '76'],
    [' 1234.5 ', '1234.5'],
    [0.1, '0.1'],
    ['1.299', '1.299'],
    // a decimal comma, as Everflow itself reads it
    ['76,50', '76.5'],
    ['0,99', '0.99'],
    ['12,34', '12.34'],
    ['0,999', '0.999'],
    ['1234,567', '1234.567'],
    // both separators: the last one is the decimal one
    ['1,299.00', '1299'],
    ['1.299,00', '1299'],
    ['1,234,567.89', '1234567.89'],
    ['1.234.567,89', '1234567.89'],
    // thousands groups only, unambiguous when there are two or more
    ['1,299,000', '1299000'],
    ['1.299.000', '1299000']
  ])('sends amount %j as %s', (amount, sent) => {
    expect(query({ amount })).toContainEqual(['amount', sent])
  })

  it('sends every amount a store writes with cents, in any of its formats, as the decimal it means', () => {
    const formats: Array<(amount: number) => string> = [
      (amount) => amount.toFixed(2),
      (amount) => amount.toFixed(2).replace('.', ','),
      (amount) => amount.toLocaleString('en-US', { minimumFractionDigits: 2 }),
      (amount) => amount.toLocaleString('de-DE', { minimumFractionDigits: 2 })
    ]
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 11 }), fc.nat(formats.length - 1), (cents, format) => {
        const written = formats[format](cents / 100)
        expect([written, query({ amount: written }).find(([name]) => name === 'amount')?.[1]]).toEqual([
          written,
          String(cents / 100)
        ])
      }),
      { numRuns: 2000, seed: 20261130 }
    )
  })

  it.each([
    [1769860800, '1769860800'],
    ['1769860800', '1769860800'],
    ['1769860800000', '1769860800'],
    ['2026-01-31T13:00:00+01:00', '1769860800']
  ])('sends timestamp %j as Unix seconds', (timestamp, sent) => {
    expect(query({ timestamp })).toContainEqual(['timestamp', sent])
  })

  it.each<[string, Partial<Record<keyof Payload, unknown>>, string]>([
    [
      'missing transaction_id',
      { transaction_id: undefined },
      'transaction_id is missing: the event has no Everflow transaction ID in context.referrer.id (the default mapping), so Everflow could not tell which click converted. Send it with the event as context.referrer.id, with context.referrer.type "everflow" (context.referrer = { "type": "everflow", "id": <transaction ID> }), the ID taken on the landing page from the Everflow SDK (EF.getAdvertiserTransactionId()) or from the _ef_transaction_id URL parameter; or map Transaction ID to where your events keep it.'
    ],
    ['blank transaction_id', { transaction_id: '  ' }, 'transaction_id is missing: the event has no Everflow'],
    [
      'transaction_id with a space',
      { transaction_id: 'abc def' },
      'transaction_id "abc def" contains spaces, control characters or broken characters.'
    ],
    [
      'transaction_id with a control character',
      { transaction_id: 'abc\u0001' },
      'transaction_id "abc\\u0001" contains spaces, control characters or broken characters.'
    ],
    [
      'transaction_id over 256 characters',
      { transaction_id: 'a'.repeat(257) },
      'transaction_id is 257 characters long; Everflow click IDs are at most 256.'
    ],
    [
      'missing referrer_type',
      { referrer_type: undefined },
      'referrer_type is missing: the event has no context.referrer.type (the default mapping). Send "everflow" there, next to the transaction ID in context.referrer.id'
    ],
    [
      'other referrer_type',
      { referrer_type: 'google' },
      'referrer_type is "google", not everflow: only events whose context.referrer.type is everflow carry an Everflow transaction ID.'
    ],
    [
      'unmapped event',
      { event_name: 'Product Viewed' },
      'Event "Product Viewed" is not in the Event Mapping setting, so Everflow would not know which event it is. Add a line "Product Viewed=ID" to Event Mapping (0 for the base conversion) or map adv_event_id.'
    ],
    [
      'event in another case',
      { event_name: 'order completed' },
      'Event Mapping has "Order Completed", which differs only in case.'
    ],
    ['negative adv_event_id', { adv_event_id: -1 }, 'adv_event_id -1 is not an Everflow advertiser event ID.'],
    ['fractional adv_event_id', { adv_event_id: 1.5 }, 'adv_event_id 1.5 is not'],
    [
      'amount with a currency symbol',
      { amount: '$76' },
      'amount "$76" is not a sale amount. Send a plain decimal of 0 or more, such as 76.00 or 76,00: no currency symbol or other text.'
    ],
    [
      'missing event_name',
      { event_name: undefined },
      'event_name is missing: the event has no name (its "event", the default mapping), so Event Mapping cannot say which Everflow event it is. Send a track event with a name listed in Event Mapping, map Event Name to where the name is, or map adv_event_id.'
    ],
    ['blank event_name', { event_name: ' ' }, 'event_name is missing: the event has no name'],
    [
      'amount that could mean two amounts',
      { amount: '1,299' },
      'amount "1,299" could mean 1299 (with "," separating thousands) or 1.299 (with "," before the decimals). Send it with a decimal point (1299.00 or 1.299) or as a number.'
    ],
    ['amount "12,345"', { amount: '12,345' }, 'could mean 12345 (with "," separating thousands) or 12.345'],
    ['amount with misplaced separators', { amount: '1,29,9' }, 'amount "1,29,9" is not a sale amount.'],
    ['amount with two decimal commas', { amount: '1,5,0' }, 'amount "1,5,0" is not a sale amount.'],
    ['amount with grouping after the decimals', { amount: '1.299,000.00' }, 'amount "1.299,000.00" is not'],
    ['amount with a currency code', { amount: '76,50 EUR' }, 'amount "76,50 EUR" is not a sale amount.'],
    ['amount with a euro sign', { amount: '€76,50' }, 'amount "€76,50" is not a sale amount.'],
    ['amount with a space as thousands separator', { amount: '1 299,00' }, 'amount "1 299,00" is not'],
    ['amount in words', { amount: 'abc' }, 'amount "abc" is not a sale amount.'],
    ['infinite amount', { amount: Infinity }, 'amount Infinity is not a sale amount.'],
    ['NaN amount', { amount: NaN }, 'amount NaN is not a sale amount.'],
    ['negative amount', { amount: -5 }, 'amount -5 is not a sale amount.'],
    ['negative amount text', { amount: '-5' }, 'amount "-5" is not a sale amount.'],
    ['currency of two letters', { currency: 'US' }, 'currency "US" is not a three-letter ISO 4217 code'],
    ['currency with a digit', { currency: 'US1' }, 'currency "US1" is not'],
    ['timestamp that is not a date', { timestamp: 'yesterday' }, 'timestamp "yesterday" is not an ISO 8601 date.'],
    // Through the framework, its own date check refuses these first (rules.test.ts); the builder refuses them too.
    [
      'timestamp with a zone 24 hours off',
      { timestamp: '2026-01-31T12:00:00+24:00' },
      'timestamp "2026-01-31T12:00:00+24:00" is not a real date and time'
    ],
    [
      'timestamp with a zone offset of 60 minutes',
      { timestamp: '2026-01-31T12:00:00+01:60' },
      'timestamp "2026-01-31T12:00:00+01:60" is not a real date and time'
    ],
    ['email that is not one', { email: 'jane at example' }, 'email "jane at example" is not an email address.'],
    ['user_ip that is not an address', { user_ip: '300.1.1.1' }, 'user_ip "300.1.1.1" is not an IPv4 or IPv6 address.'],
    ['adv1 that is an object', { adv1: { a: 1 } }, 'adv1 must be text, but it is an object.'],
    ['adv1 that is a boolean', { adv1: true }, 'adv1 must be text, but it is the boolean true.'],
    ['adv1 that is NaN', { adv1: NaN }, 'adv1 must be text, but it is the number NaN.'],
    ['amount that is a boolean', { amount: true }, 'amount true is not a sale amount.'],
    [
      'email with text after it',
      { email: 'jane@example.com x' },
      'email "jane@example.com x" is not an email address.'
    ],
    [
      'adv1 with an unpaired surrogate',
      { adv1: 'a\uD800b' },
      'adv1 contains a broken character (an unpaired UTF-16 surrogate)'
    ],
    [
      'transaction_id with an unpaired surrogate',
      { transaction_id: 'abc\uDC00' },
      'transaction_id "abc\\udc00" contains'
    ],
    [
      'custom parameter that is NaN',
      { custom_parameters: { sub1: NaN } },
      'custom_parameters "sub1" must be text, but it is the number NaN.'
    ],
    [
      'custom parameter name with a dash',
      { custom_parameters: { 'sub-1': 'x' } },
      'custom_parameters name "sub-1" is not allowed. Use only letters, digits and underscores.'
    ],
    [
      'custom parameter named nid',
      { custom_parameters: { nid: '9' } },
      'custom_parameters name "nid" is a parameter the destination sets itself.'
    ],
    [
      'custom parameter named event_id',
      { custom_parameters: { EVENT_ID: '9' } },
      'custom_parameters name "EVENT_ID" is a parameter the destination sets itself.'
    ],
    ['custom parameter named amount', { custom_parameters: { amount: '9' } }, 'custom_parameters name "amount"'],
    [
      'custom parameter holding an object',
      { custom_parameters: { sub1: { a: 1 } } },
      'custom_parameters "sub1" must be text, but it is an object.'
    ],
    [
      'custom parameter holding a list',
      { custom_parameters: { sub1: [1] } },
      'custom_parameters "sub1" must be text, but it is a list.'
    ],
    [
      'custom parameters that are text',
      { custom_parameters: 'abc' },
      'custom_parameters must be a set of name-value pairs.'
    ],
    [
      'custom parameters that are a number',
      { custom_parameters: 5 },
      'custom_parameters must be a set of name-value pairs.'
    ],
    [
      'custom parameters that are a list',
      { custom_parameters: ['a'] },
      'custom_parameters must be a set of name-value pairs.'
    ]
  ])('refuses %s', async (_name, overrides, message) => {
    expect(await invalid(overrides)).toContain(message)
  })

  it(`refuses a postback URL over ${MAX_POSTBACK_URL_LENGTH} characters`, async () => {
    const message = await invalid({ adv1: 'a'.repeat(4000), adv2: 'b'.repeat(4000) })
    expect(message).toMatch(/^The postback URL would be 80\d\d characters long; Everflow accepts at most 8000\./)
  })

  // The message used to blame adv1-adv5 and custom_parameters whatever was long.
  it.each([
    ['order_id', { order_id: 'o'.repeat(8000) }, 'order_id (8000 characters in the URL)'],
    ['email', { email: `${'e'.repeat(8000)}@example.com` }, 'email (8014 characters in the URL)'],
    [
      'a custom parameter',
      { adv1: 'a'.repeat(100), custom_parameters: { sub_id: 's'.repeat(8000) } },
      'custom_parameters "sub_id" (8000 characters in the URL)'
    ],
    ['the longest of two', { adv2: 'b'.repeat(3000), adv4: 'd'.repeat(6000) }, 'adv4 (6000 characters in the URL)'],
    ['a value that grows when encoded', { coupon_code: 'é'.repeat(2000) }, 'coupon_code (12000 characters in the URL)']
  ])('names the field whose value is longest when %s is too long', async (_name, overrides, longest) => {
    expect(await invalid(overrides)).toMatch(
      new RegExp(
        `^The postback URL would be [0-9]+ characters long; Everflow accepts at most 8000\\. The longest value is ${longest.replace(/[()]/g, '\\$&')}: shorten it, or map a shorter value\\.$`
      )
    )
  })

  it('accepts a postback URL of exactly the limit', () => {
    const base = buildPostback(payload({ adv1: 'x' }), parsed).url.length
    const { url } = buildPostback(payload({ adv1: 'x'.repeat(1 + MAX_POSTBACK_URL_LENGTH - base) }), parsed)
    expect(url.length).toBe(MAX_POSTBACK_URL_LENGTH)
  })
})
