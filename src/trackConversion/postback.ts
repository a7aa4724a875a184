import { isIP } from 'net'
import dayjs from 'dayjs'
import utc from 'dayjs/plugin/utc'
import { PayloadValidationError } from '@segment/actions-core'
import { SPACE_OR_CONTROL } from '../settings'
import type { ParsedSettings } from '../settings'
import type { Payload } from './generated-types'

dayjs.extend(utc)

/** Longest postback URL sent; longer ones are cut or refused by servers and proxies on the way. */
export const MAX_POSTBACK_URL_LENGTH = 8000
export const MAX_TRANSACTION_ID_LENGTH = 256

export interface Postback {
  url: string
  /** The click ID; empty for a clickless coupon conversion. */
  transactionId: string
  /** What identifies the conversion in messages: "transaction_id ..." or, clickless, "coupon_code ... (clickless)". */
  subject: string
}

const DECIMAL = /^[0-9]+(\.[0-9]+)?$/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const CURRENCY = /^[A-Za-z]{3}$/
const PARAMETER_NAME = /^[A-Za-z0-9_]+$/

/** Refuses the event with a message that names the field and says what to change. */
function refuseEvent(message: string): never {
  throw new PayloadValidationError(message)
}

// An unpaired UTF-16 surrogate cannot be encoded in a URL: it would arrive as U+FFFD, not as sent.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Optional text values are sent trimmed; blank means absent. */
function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value !== 'string') {
    refuseEvent(`${field} must be text, but it is ${valueWithKind(value)}. Map it to a text or number property.`)
  }
  const trimmed = value.trim()
  if (LONE_SURROGATE.test(trimmed)) {
    refuseEvent(
      `${field} contains a broken character (an unpaired UTF-16 surrogate) that cannot be sent. Fix the value where it is set.`
    )
  }
  return trimmed === '' ? undefined : trimmed
}

/**
 * A received value as a message shows it: text in quotes, numbers as written, anything else by its kind.
 * Never given a missing value: each reader says "missing" in its own words.
 */
function quoteValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return Array.isArray(value) ? 'a list' : 'an object'
}

/** A received value with its kind, for a message that says what kind was expected instead. */
function valueWithKind(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean'
    ? `the ${typeof value} ${String(value)}`
    : quoteValue(value)
}

const CLICKLESS_HINT =
  ' The event has a coupon code: an order without an Everflow click can be sent as a clickless coupon conversion, which Everflow credits to the partner the code belongs to. ' +
  'Turn on Clickless Coupon Conversions in a mapping subscribed to such orders (see "Orders without an Everflow click" in the docs).'

/** The hint for an order refused for want of a click, when its coupon could have been sent clickless instead. */
function clicklessHint(payload: Payload): string {
  return payload.clickless_coupons !== true && hasText(payload.coupon_code) ? CLICKLESS_HINT : ''
}

function hasText(value: unknown): boolean {
  return (typeof value === 'string' && value.trim() !== '') || typeof value === 'number'
}

function readTransactionId(value: unknown, hint = ''): string {
  if (typeof value !== 'string' || value.trim() === '') {
    refuseEvent(
      'transaction_id is missing: the event has no Everflow transaction ID in context.referrer.id (the default mapping), so Everflow could not tell which click converted. ' +
        'Send it with the event as context.referrer.id, with context.referrer.type "everflow" (context.referrer = { "type": "everflow", "id": <transaction ID> }), the ID taken on the landing page from the Everflow SDK (EF.getAdvertiserTransactionId()) ' +
        'or from the _ef_transaction_id URL parameter; or map Transaction ID to where your events keep it.' +
        hint
    )
  }
  if (SPACE_OR_CONTROL.test(value) || LONE_SURROGATE.test(value)) {
    refuseEvent(
      `transaction_id ${quoteValue(value)} contains spaces, control characters or broken characters. Send the Everflow click ID exactly as the Everflow SDK returns it.`
    )
  }
  if (value.length > MAX_TRANSACTION_ID_LENGTH) {
    refuseEvent(
      `transaction_id is ${value.length} characters long; Everflow click IDs are at most ${MAX_TRANSACTION_ID_LENGTH}. Check what is mapped to it.`
    )
  }
  return value
}

function isEverflowReferrer(value: unknown): boolean {
  return typeof value === 'string' && value.trim().toLowerCase() === 'everflow'
}

/**
 * Whether the event is sent as a clickless coupon conversion: Clickless Coupon Conversions is on and the event has no
 * Everflow click. Refuses such an event without a coupon code, which Everflow could credit to no one.
 */
function isClicklessCoupon(payload: Payload): boolean {
  if (payload.clickless_coupons !== true) return false
  if (isEverflowReferrer(payload.referrer_type) && hasText(payload.transaction_id)) return false
  if (!hasText(payload.coupon_code)) {
    refuseEvent(
      'coupon_code is missing: Clickless Coupon Conversions is on, and the event has neither an Everflow click (context.referrer.type "everflow" with context.referrer.id) nor a coupon code (properties.coupon, the default mapping), ' +
        'so Everflow could credit no partner. Subscribe this mapping only to orders with a coupon, e.g. with "and properties.coupon != null".'
    )
  }
  return true
}

function readEventId(payload: Payload, settings: ParsedSettings): number {
  if (payload.adv_event_id !== undefined && payload.adv_event_id !== null) {
    const id = payload.adv_event_id
    if (!Number.isSafeInteger(id) || id < 0) {
      refuseEvent(
        `adv_event_id ${quoteValue(id)} is not an Everflow advertiser event ID. Use a whole number of 0 or more (0 is the base conversion).`
      )
    }
    return id
  }
  const name = payload.event_name
  if (name === undefined || name === null || (typeof name === 'string' && name.trim() === '')) {
    refuseEvent(
      'event_name is missing: the event has no name (its "event", the default mapping), so Event Mapping cannot say which Everflow event it is. ' +
        'Send a track event with a name listed in Event Mapping, map Event Name to where the name is, or map adv_event_id.'
    )
  }
  const id = settings.eventIds.get(name)
  if (id !== undefined) return id
  const nameText = typeof name === 'string' ? name : 'Event Name'
  const near = [...settings.eventIds.keys()].find((known) => known.toLowerCase() === nameText.toLowerCase())
  refuseEvent(
    `Event ${quoteValue(name)} is not in the Event Mapping setting, so Everflow would not know which event it is. ` +
      `Add a line "${nameText}=ID" to Event Mapping (0 for the base conversion) or map adv_event_id.` +
      (near !== undefined ? ` Event Mapping has "${near}", which differs only in case.` : '')
  )
}

const AMOUNT_HELP = 'Send a plain decimal of 0 or more, such as 76.00 or 76,00: no currency symbol or other text.'

// How stores write amounts: a plain decimal, a decimal comma (Everflow itself reads amount=12,34 as 12.34),
// or thousands separated by "," or "." with the other one before the decimals.
const DECIMAL_COMMA = /^[0-9]+,[0-9]+$/
const COMMA_THOUSANDS = /^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$/
const DOT_THOUSANDS = /^[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$/
// "1,299": thousands or decimals, nothing in the value says which.
const AMBIGUOUS_COMMA = /^[1-9][0-9]{0,2},[0-9]{3}$/

/** The amount as plain decimal text, or undefined when it is not one. */
function plainDecimal(text: string): string | undefined {
  if (DECIMAL.test(text)) return text
  if (AMBIGUOUS_COMMA.test(text)) {
    const [whole, part] = text.split(',')
    refuseEvent(
      `amount "${text}" could mean ${whole}${part} (with "," separating thousands) or ${whole}.${part} (with "," before the decimals). ` +
        `Send it with a decimal point (${whole}${part}.00 or ${whole}.${part}) or as a number.`
    )
  }
  if (DECIMAL_COMMA.test(text)) return text.replace(',', '.')
  if (COMMA_THOUSANDS.test(text)) return text.replace(/,/g, '')
  if (DOT_THOUSANDS.test(text)) return text.replace(/\./g, '').replace(',', '.')
  return undefined
}

function readAmount(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const decimal = typeof value === 'string' ? plainDecimal(value.trim()) : undefined
  // Number(undefined) is NaN, so text that is no decimal is refused below.
  const number = typeof value === 'number' ? value : Number(decimal)
  if (!Number.isFinite(number) || number < 0) {
    refuseEvent(`amount ${quoteValue(value)} is not a sale amount. ${AMOUNT_HELP}`)
  }
  return String(number)
}

const TIMESTAMP_HELP =
  'Map it to an ISO 8601 date and time such as 2026-01-31T12:00:00Z (a time without a zone is read as UTC) or to Unix seconds.'

// ISO 8601 as stores and Segment write it: a date, then optionally a time (after T or a space) with optional seconds,
// fraction and zone (Z, +01:00 or +0100). Nothing else is guessed at: "01/02/2026" is 1 February or 2 January.
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?)?$/i

/**
 * Milliseconds since 1970 of an ISO 8601 date, or NaN when no such day or time exists. Reads only what is written:
 * a date or time without a zone is UTC, never the machine's local time, so the same event gives the same timestamp
 * wherever it runs. (dayjs.utc reads the wall time as UTC; plain dayjs(text) would read the machine's zone.)
 */
function isoMilliseconds(match: RegExpExecArray): number {
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '0', , sign, oh = '0', om = '0'] =
    match
  const wallTime = dayjs.utc(
    `${year}-${month}-${day}T${hour}:${minute}:${second}.${fraction.slice(0, 3).padEnd(3, '0')}`
  )
  // dayjs, like Date.UTC, rolls 30 February over to March and 24:00 to the next day: a real date reads back the same.
  // (The getters read back what format() would, without writing text for every event.)
  const real =
    wallTime.year() === Number(year) &&
    wallTime.month() + 1 === Number(month) &&
    wallTime.date() === Number(day) &&
    wallTime.hour() === Number(hour) &&
    wallTime.minute() === Number(minute) &&
    wallTime.second() === Number(second) &&
    Number(oh) <= 23 &&
    Number(om) <= 59
  if (!real) return NaN
  const offsetMinutes = (Number(oh) * 60 + Number(om)) * (sign === '-' ? -1 : 1)
  return wallTime.valueOf() - offsetMinutes * 60_000
}

function readUnixSeconds(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  let milliseconds = NaN
  if (typeof value === 'number' || (typeof value === 'string' && /^[0-9]+$/.test(value))) {
    const number = Number(value)
    // Digit strings are Unix time: 13 digits or more is milliseconds, fewer is seconds.
    milliseconds = String(Math.trunc(number)).length >= 13 ? number : number * 1000
  } else if (typeof value === 'string') {
    const match = ISO_DATE_TIME.exec(value.trim())
    if (match === null) refuseEvent(`timestamp ${quoteValue(value)} is not an ISO 8601 date. ${TIMESTAMP_HELP}`)
    milliseconds = isoMilliseconds(match)
  }
  // A JavaScript date reaches 8.64e15 milliseconds either side of 1970; beyond that no date exists to send.
  if (!(Math.abs(milliseconds) <= 8.64e15)) {
    refuseEvent(
      `timestamp ${quoteValue(value)} is not a real date and time: there is no such day or time. ${TIMESTAMP_HELP}`
    )
  }
  return String(Math.floor(milliseconds / 1000))
}

function readEverflowReferrer(value: unknown, hint = ''): undefined {
  if (isEverflowReferrer(value)) return undefined
  const referrerType = typeof value === 'string' ? value.trim() : value
  refuseEvent(
    referrerType === undefined || referrerType === null || referrerType === ''
      ? 'referrer_type is missing: the event has no context.referrer.type (the default mapping). Send "everflow" there, next to the transaction ID in context.referrer.id: ' +
          'context.referrer = { "type": "everflow", "id": <transaction ID from EF.getAdvertiserTransactionId() or the _ef_transaction_id URL parameter> }.' +
          hint
      : // The literal stays unquoted: summaries mask quoted values, and this one is the same for every event.
        `referrer_type is ${quoteValue(referrerType)}, not everflow: only events whose context.referrer.type is everflow carry an Everflow transaction ID.${hint}`
  )
}

function readUserIp(value: unknown): string | undefined {
  const userIp = optionalText(value, 'user_ip')
  if (userIp !== undefined && isIP(userIp) === 0) {
    refuseEvent(
      `user_ip ${quoteValue(userIp)} is not an IPv4 or IPv6 address. Map it to context.ip or leave it unmapped.`
    )
  }
  return userIp
}

function readEmail(value: unknown): string | undefined {
  const email = optionalText(value, 'email')?.toLowerCase()
  if (email !== undefined && !EMAIL.test(email)) {
    refuseEvent(
      `email ${quoteValue(email)} is not an email address. Map it to the customer's email or leave it unmapped.`
    )
  }
  return email
}

function readCurrency(value: unknown): string | undefined {
  const currency = optionalText(value, 'currency')
  if (currency !== undefined && !CURRENCY.test(currency)) {
    refuseEvent(`currency ${quoteValue(currency)} is not a three-letter ISO 4217 code such as USD or EUR.`)
  }
  return currency?.toUpperCase()
}

function readOfferId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    refuseEvent(
      `offer_id ${quoteValue(value)} is not an Everflow offer ID. Use the offer's ID, a whole number such as 448.`
    )
  }
  return String(value)
}

/** One row of the postback: the query parameter, where its value comes from, and how it is read and checked. */
export interface PostbackParameter {
  /** The query parameter; none for a field that is only checked. */
  parameter?: string
  /** The mapped field it is read from; none for a value from the settings. */
  field?: keyof Payload
  /** What is sent, as the docs say it. */
  sentAs: string
  /** The value to send (undefined leaves the parameter out); throws PayloadValidationError naming the field. */
  read: (payload: Payload, settings: ParsedSettings) => string | undefined
}

const textParameter = (field: keyof Payload, sentAs = `\`${field}\``): PostbackParameter => ({
  parameter: field,
  field,
  sentAs,
  read: (payload) => optionalText(payload[field], field)
})

/**
 * Every parameter of the postback, in the order it is checked and sent: the builder, the reserved-name guard of
 * custom_parameters and the docs page all read this one table. The click ID comes first: an event without
 * context.referrer lacks both it and referrer_type, and the ID is what matters.
 */
export const POSTBACK_PARAMETERS: readonly PostbackParameter[] = [
  { parameter: 'nid', sentAs: 'the network ID from the settings', read: (_, settings) => settings.networkId },
  {
    parameter: 'transaction_id',
    field: 'transaction_id',
    sentAs: '`transaction_id`; none for a clickless coupon conversion',
    read: (payload) =>
      isClicklessCoupon(payload) ? undefined : readTransactionId(payload.transaction_id, clicklessHint(payload))
  },
  {
    field: 'referrer_type',
    sentAs: 'must be `everflow` (any case) for a click; not sent',
    read: (payload) =>
      isClicklessCoupon(payload) ? undefined : readEverflowReferrer(payload.referrer_type, clicklessHint(payload))
  },
  {
    parameter: 'adv_event_id',
    field: 'event_name',
    sentAs: 'looked up in Event Mapping -> `adv_event_id` (none for 0); a mapped `adv_event_id` overrides the lookup',
    // 0 is the base conversion, which Everflow expects without any event parameter.
    read: (payload, settings) => {
      const id = readEventId(payload, settings)
      return id === 0 ? undefined : String(id)
    }
  },
  {
    parameter: 'amount',
    field: 'amount',
    sentAs: '`amount`, plain decimal (`"76.00"` -> `76`, `"76,50"` -> `76.5`, `"1.299,00"` -> `1299`)',
    read: (payload) => readAmount(payload.amount)
  },
  textParameter('order_id'),
  {
    parameter: 'user_ip',
    field: 'user_ip',
    sentAs: '`user_ip` (IPv4 or IPv6)',
    read: (payload) => readUserIp(payload.user_ip)
  },
  textParameter('adv1', '`adv1`; numbers as decimal text'),
  textParameter('adv2', '`adv2`; numbers as decimal text'),
  textParameter('adv3', '`adv3`; numbers as decimal text'),
  textParameter('adv4', '`adv4`; numbers as decimal text'),
  textParameter('adv5', '`adv5`; numbers as decimal text'),
  textParameter('coupon_code', '`coupon_code`; with Clickless Coupon Conversions on, it stands in for a missing click'),
  {
    parameter: 'oid',
    field: 'offer_id',
    sentAs: '`oid`, a whole number',
    read: (payload) => readOfferId(payload.offer_id)
  },
  {
    parameter: 'email',
    field: 'email',
    sentAs: '`email`, trimmed and lower-cased',
    read: (payload) => readEmail(payload.email)
  },
  {
    parameter: 'currency',
    field: 'currency',
    sentAs: '`currency`, upper-cased ISO 4217',
    read: (payload) => readCurrency(payload.currency)
  },
  {
    parameter: 'timestamp',
    field: 'timestamp',
    sentAs: '`timestamp`, Unix seconds (ISO 8601 without a zone is read as UTC; an impossible date is refused)',
    read: (payload) => readUnixSeconds(payload.timestamp)
  },
  {
    field: 'clickless_coupons',
    sentAs: 'not sent; on: an order without an Everflow click is sent with `coupon_code` and no `transaction_id`',
    read: () => undefined
  },
  {
    parameter: 'verification_token',
    sentAs: 'the Verification Token setting, when filled in',
    read: (_, settings) => settings.verificationToken
  }
]

/** Names custom_parameters may not use: the table's, and `event_id`, which must never be sent next to `adv_event_id`. */
export const RESERVED_PARAMETERS: ReadonlySet<string> = new Set([
  ...POSTBACK_PARAMETERS.flatMap(({ parameter }) => parameter ?? []),
  'event_id'
])

function readCustomParameters(custom: unknown): Array<[string, string | undefined]> {
  if (custom === undefined || custom === null) return []
  if (typeof custom !== 'object' || Array.isArray(custom)) {
    refuseEvent('custom_parameters must be a set of name-value pairs.')
  }
  return Object.entries(custom).map(([name, value]) => {
    if (!PARAMETER_NAME.test(name)) {
      refuseEvent(`custom_parameters name "${name}" is not allowed. Use only letters, digits and underscores.`)
    }
    if (RESERVED_PARAMETERS.has(name.toLowerCase())) {
      refuseEvent(
        `custom_parameters name "${name}" is a parameter the destination sets itself. Map the value to its own field instead, or rename it.`
      )
    }
    return [name, typeof value === 'boolean' ? String(value) : optionalText(value, `custom_parameters "${name}"`)]
  })
}

/**
 * Builds the one postback GET for a conversion. Pure: no I/O, so every rule is testable without HTTP.
 * Throws PayloadValidationError, naming the field, for data Everflow would reject or misread.
 */
export function buildPostback(payload: Payload, settings: ParsedSettings): Postback {
  const query = new URLSearchParams()
  for (const { parameter, read } of POSTBACK_PARAMETERS) {
    const value = read(payload, settings)
    if (parameter !== undefined && value !== undefined) query.append(parameter, value)
  }
  for (const [name, value] of readCustomParameters(payload.custom_parameters)) {
    if (value !== undefined) query.append(name, value)
  }
  // postbackBase is a parsed origin and path with no query, so the encoded query is simply appended to it.
  const href = `${settings.postbackBase}?${query.toString()}`
  if (href.length > MAX_POSTBACK_URL_LENGTH) {
    const { field, length } = longestValue(query)
    refuseEvent(
      `The postback URL would be ${href.length} characters long; Everflow accepts at most ${MAX_POSTBACK_URL_LENGTH}. ` +
        `The longest value is ${field} (${length} characters in the URL): shorten it, or map a shorter value.`
    )
  }
  // readTransactionId returns the ID or throws, so only a clickless coupon conversion has none.
  const transactionId = query.get('transaction_id')
  return transactionId === null
    ? { url: href, transactionId: '', subject: `coupon_code ${query.get('coupon_code')} (clickless)` }
    : { url: href, transactionId, subject: `transaction_id ${transactionId}` }
}

/** The field whose value takes the most room in the query, as a message names it, and that room. */
function longestValue(query: URLSearchParams): { field: string; length: number } {
  let longest = { field: '', length: -1 }
  for (const [name, value] of query) {
    const length =
      new URLSearchParams({ [name]: value }).toString().length - new URLSearchParams({ [name]: '' }).toString().length
    if (length > longest.length) {
      const standard = POSTBACK_PARAMETERS.find(({ parameter }) => parameter === name)
      longest = { field: standard ? (standard.field ?? name) : `custom_parameters ${JSON.stringify(name)}`, length }
    }
  }
  return longest
}
