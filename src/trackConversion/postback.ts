import { isIP } from 'net'
import dayjs from 'dayjs'
import { PayloadValidationError } from '@segment/actions-core'
import { SPACE_OR_CONTROL } from '../settings'
import type { ParsedSettings } from '../settings'
import type { Payload } from './generated-types'

/** Longest postback URL sent; longer ones are cut or refused by servers and proxies on the way. */
export const MAX_POSTBACK_URL_LENGTH = 8000
export const MAX_TRANSACTION_ID_LENGTH = 256

/** Query parameters the destination sets itself, plus `event_id`, which must never be sent next to `adv_event_id`. */
export const RESERVED_PARAMETERS = new Set([
  'nid',
  'transaction_id',
  'adv_event_id',
  'event_id',
  'amount',
  'order_id',
  'user_ip',
  'adv1',
  'adv2',
  'adv3',
  'adv4',
  'adv5',
  'coupon_code',
  'email',
  'currency',
  'timestamp',
  'verification_token'
])

export interface Postback {
  url: string
  transactionId: string
}

const DECIMAL = /^[0-9]+(\.[0-9]+)?$/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const CURRENCY = /^[A-Za-z]{3}$/
const PARAMETER_NAME = /^[A-Za-z0-9_]+$/

function fail(message: string): never {
  throw new PayloadValidationError(message)
}

// An unpaired UTF-16 surrogate cannot be encoded in a URL: it would arrive as U+FFFD, not as sent.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Optional text values are sent trimmed; blank means absent. */
function text(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value !== 'string') {
    fail(`${field} must be text, but it is ${describe(value)}. Map it to a text or number property.`)
  }
  const trimmed = value.trim()
  if (LONE_SURROGATE.test(trimmed)) {
    fail(
      `${field} contains a broken character (an unpaired UTF-16 surrogate) that cannot be sent. Fix the value where it is set.`
    )
  }
  return trimmed === '' ? undefined : trimmed
}

/** A received value as a message shows it: text in quotes, numbers as written, anything else by its kind. */
function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value === undefined) return 'missing'
  if (value === null) return 'null'
  return Array.isArray(value) ? 'a list' : 'an object'
}

function describe(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean' ? `the ${typeof value} ${String(value)}` : quote(value)
}

function transactionId(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    fail(
      'transaction_id is missing: the event has no Everflow transaction ID in context.referrer.id (the default mapping), so Everflow could not tell which click converted. ' +
        'Send it with the event as context.referrer.id, with context.referrer.type "everflow" (context.referrer = { "type": "everflow", "id": <transaction ID> }), the ID taken on the landing page from the Everflow SDK (EF.getAdvertiserTransactionId()) ' +
        'or from the _ef_transaction_id URL parameter; or map Transaction ID to where your events keep it.'
    )
  }
  if (SPACE_OR_CONTROL.test(value) || LONE_SURROGATE.test(value)) {
    fail(
      `transaction_id ${quote(value)} contains spaces, control characters or broken characters. Send the Everflow click ID exactly as the Everflow SDK returns it.`
    )
  }
  if (value.length > MAX_TRANSACTION_ID_LENGTH) {
    fail(
      `transaction_id is ${value.length} characters long; Everflow click IDs are at most ${MAX_TRANSACTION_ID_LENGTH}. Check what is mapped to it.`
    )
  }
  return value
}

function eventId(payload: Payload, settings: ParsedSettings): number {
  if (payload.adv_event_id !== undefined && payload.adv_event_id !== null) {
    const id = payload.adv_event_id
    if (!Number.isSafeInteger(id) || id < 0) {
      fail(
        `adv_event_id ${quote(id)} is not an Everflow advertiser event ID. Use a whole number of 0 or more (0 is the base conversion).`
      )
    }
    return id
  }
  const name = payload.event_name
  if (name === undefined || name === null || (typeof name === 'string' && name.trim() === '')) {
    fail(
      'event_name is missing: the event has no name (its "event", the default mapping), so Event Mapping cannot say which Everflow event it is. ' +
        'Send a track event with a name listed in Event Mapping, map Event Name to where the name is, or map adv_event_id.'
    )
  }
  const id = settings.eventIds.get(name)
  if (id !== undefined) return id
  const nameText = typeof name === 'string' ? name : 'Event Name'
  const near = [...settings.eventIds.keys()].find((known) => known.toLowerCase() === nameText.toLowerCase())
  fail(
    `Event ${quote(name)} is not in the Event Mapping setting, so Everflow would not know which event it is. ` +
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
    fail(
      `amount "${text}" could mean ${whole}${part} (with "," separating thousands) or ${whole}.${part} (with "," before the decimals). ` +
        `Send it with a decimal point (${whole}${part}.00 or ${whole}.${part}) or as a number.`
    )
  }
  if (DECIMAL_COMMA.test(text)) return text.replace(',', '.')
  if (COMMA_THOUSANDS.test(text)) return text.replace(/,/g, '')
  if (DOT_THOUSANDS.test(text)) return text.replace(/\./g, '').replace(',', '.')
  return undefined
}

function amount(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const decimal = typeof value === 'string' ? plainDecimal(value.trim()) : undefined
  const number = typeof value === 'number' ? value : decimal !== undefined ? Number(decimal) : NaN
  if (!Number.isFinite(number) || number < 0) {
    fail(`amount ${quote(value)} is not a sale amount. ${AMOUNT_HELP}`)
  }
  return String(number)
}

function unixSeconds(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  let date = dayjs(NaN)
  if (typeof value === 'number' || (typeof value === 'string' && /^[0-9]+$/.test(value))) {
    const number = Number(value)
    // Digit strings are Unix time: 13 digits or more is milliseconds, fewer is seconds.
    date = String(Math.trunc(number)).length >= 13 ? dayjs(number) : dayjs.unix(number)
  } else if (typeof value === 'string') {
    date = dayjs(value)
  }
  // valueOf, not isValid: isValid renders the date as text, which stood out in the benchmark profile.
  const milliseconds = date.valueOf()
  if (Number.isNaN(milliseconds)) {
    fail(
      `timestamp ${quote(value)} is not a date. Map it to an ISO 8601 date such as 2026-01-31T12:00:00Z or to Unix seconds.`
    )
  }
  return String(Math.floor(milliseconds / 1000))
}

/**
 * Builds the one postback GET for a conversion. Pure: no I/O, so every rule is testable without HTTP.
 * Throws PayloadValidationError, naming the field, for data Everflow would reject or misread.
 */
export function buildPostback(payload: Payload, settings: ParsedSettings): Postback {
  // The click ID first: an event without context.referrer lacks both, and the ID is what matters.
  const id = transactionId(payload.transaction_id)
  const referrerType = typeof payload.referrer_type === 'string' ? payload.referrer_type.trim() : payload.referrer_type
  if (typeof referrerType !== 'string' || referrerType.toLowerCase() !== 'everflow') {
    fail(
      referrerType === undefined || referrerType === null || referrerType === ''
        ? 'referrer_type is missing: the event has no context.referrer.type (the default mapping). Send "everflow" there, next to the transaction ID in context.referrer.id: ' +
            'context.referrer = { "type": "everflow", "id": <transaction ID from EF.getAdvertiserTransactionId() or the _ef_transaction_id URL parameter> }.'
        : `referrer_type is ${quote(referrerType)}, not "everflow". Only events with context.referrer.type "everflow" carry an Everflow transaction ID.`
    )
  }
  const advEventId = eventId(payload, settings)

  const userIp = text(payload.user_ip, 'user_ip')
  if (userIp !== undefined && isIP(userIp) === 0) {
    fail(`user_ip ${quote(userIp)} is not an IPv4 or IPv6 address. Map it to context.ip or leave it unmapped.`)
  }
  const email = text(payload.email, 'email')?.toLowerCase()
  if (email !== undefined && !EMAIL.test(email)) {
    fail(`email ${quote(email)} is not an email address. Map it to the customer's email or leave it unmapped.`)
  }
  const currency = text(payload.currency, 'currency')
  if (currency !== undefined && !CURRENCY.test(currency)) {
    fail(`currency ${quote(currency)} is not a three-letter ISO 4217 code such as USD or EUR.`)
  }

  const parameters: Array<[string, string | undefined]> = [
    ['nid', settings.networkId],
    ['transaction_id', id],
    // 0 is the base conversion, which Everflow expects without any event parameter.
    ['adv_event_id', advEventId === 0 ? undefined : String(advEventId)],
    ['amount', amount(payload.amount)],
    ['order_id', text(payload.order_id, 'order_id')],
    ['user_ip', userIp],
    ['adv1', text(payload.adv1, 'adv1')],
    ['adv2', text(payload.adv2, 'adv2')],
    ['adv3', text(payload.adv3, 'adv3')],
    ['adv4', text(payload.adv4, 'adv4')],
    ['adv5', text(payload.adv5, 'adv5')],
    ['coupon_code', text(payload.coupon_code, 'coupon_code')],
    ['email', email],
    ['currency', currency?.toUpperCase()],
    ['timestamp', unixSeconds(payload.timestamp)],
    ['verification_token', settings.verificationToken]
  ]
  const custom = payload.custom_parameters
  if (custom !== undefined && custom !== null) {
    if (typeof custom !== 'object' || Array.isArray(custom)) {
      fail('custom_parameters must be a set of name-value pairs.')
    }
    for (const [name, value] of Object.entries(custom)) {
      if (!PARAMETER_NAME.test(name)) {
        fail(`custom_parameters name "${name}" is not allowed. Use only letters, digits and underscores.`)
      }
      if (RESERVED_PARAMETERS.has(name.toLowerCase())) {
        fail(
          `custom_parameters name "${name}" is a parameter the destination sets itself. Map the value to its own field instead, or rename it.`
        )
      }
      parameters.push([name, typeof value === 'boolean' ? String(value) : text(value, `custom_parameters "${name}"`)])
    }
  }

  // postbackBase is a parsed origin and path with no query, so the encoded query is simply appended to it.
  const query = new URLSearchParams()
  for (const [name, value] of parameters) {
    if (value !== undefined) query.append(name, value)
  }
  const href = `${settings.postbackBase}?${query.toString()}`
  if (href.length > MAX_POSTBACK_URL_LENGTH) {
    fail(
      `The postback URL would be ${href.length} characters long; Everflow accepts at most ${MAX_POSTBACK_URL_LENGTH}. Shorten the longest mapped values (adv1-adv5, custom_parameters).`
    )
  }
  return { url: href, transactionId: id }
}
