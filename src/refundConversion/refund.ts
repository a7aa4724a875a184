// The refund's rules as pure functions: reading the event, the lookup call, which conversions are the order's, what
// a refund changes and the call that changes it. send.ts wires them to Everflow's Network API.
import { IntegrationError, PayloadValidationError, RetryableError } from '@segment/actions-core'
import { CONVERSION_NOT_FOUND, REFUND_AMBIGUOUS } from '../errors'
import { DEFAULT_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS, RETRY_NOT_FOUND_HOURS } from './fields'
import type { Payload } from './generated-types'

const DAY_MS = 24 * 60 * 60 * 1000
const HOUR_MS = 60 * 60 * 1000

/**
 * The timezone of the report's dates: the one in Everflow's own examples. The dates are whole days, one day wider
 * than the window on each side, so no network timezone can cut a conversion off at an edge; the exact start is
 * applied to each conversion's Unix time afterwards.
 */
export const REPORT_TIMEZONE_ID = 67
/** Rows asked for per report page: far more conversions than one order ID ever has. */
export const REPORT_PAGE_SIZE = 100

/** A refund as the action reads it from the event. */
export interface Refund {
  orderId: string
  transactionId?: string
  /** How much of the order has been refunded in all; absent is a full refund. */
  refundAmount?: number
  /** The order's total before refunds, as sent with the conversion. */
  orderTotal?: number
  /** When the order was refunded, in milliseconds. */
  atMs: number
  lookbackDays: number
}

/** One call to Everflow's Network API, as a path under /v1. */
export interface ApiCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH'
  path: string
  body?: object
}

/** A base conversion of the refunded order, as Everflow reported it. */
export interface Conversion {
  id: string
  status?: string
  saleAmount?: number
  atSeconds?: number
}

/** What a refund does to the order's conversions. */
export type Plan =
  | { kind: 'reject'; conversions: Conversion[] }
  | { kind: 'lower'; conversion: Conversion; saleAmount: number }
  | { kind: 'nothing'; message: string }

const refuse = (message: string): never => {
  throw new PayloadValidationError(message)
}

const PLAIN_DECIMAL = /^[0-9]+(\.[0-9]+)?$/
const DECIMAL_COMMA = /^[0-9]+,[0-9]+$/

/** An amount of 0 or more, from a number or decimal text (a decimal comma too); blank is absent. */
function readAmount(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string' && value.trim() === '') return undefined
  const text = typeof value === 'string' ? value.trim() : undefined
  const number =
    typeof value === 'number'
      ? value
      : text !== undefined && PLAIN_DECIMAL.test(text)
        ? Number(text)
        : text !== undefined && DECIMAL_COMMA.test(text)
          ? Number(text.replace(',', '.'))
          : NaN
  if (!Number.isFinite(number) || number < 0) {
    refuse(
      `${field} ${JSON.stringify(value)} is not an amount. Send a plain decimal of 0 or more, such as 20.00 or 20,00: no currency symbol or other text.`
    )
  }
  return number
}

/** The refund in the event, or a PayloadValidationError that names the field. */
export function readRefund(payload: Payload): Refund {
  const orderId = typeof payload.order_id === 'string' ? payload.order_id.trim() : ''
  if (orderId === '') {
    refuse(
      'order_id is missing: the refund names no order (properties.order_id, the default mapping), so its conversion cannot be found. Send the order ID that the conversion was sent with.'
    )
  }
  const transactionId = typeof payload.transaction_id === 'string' ? payload.transaction_id.trim() : ''
  if (/[\s/?#%]/.test(transactionId)) {
    refuse(
      `transaction_id ${JSON.stringify(transactionId)} is not an Everflow transaction ID: it contains spaces or URL characters. Send context.referrer.id as the Everflow SDK gave it, or leave it out to search by order ID.`
    )
  }
  const atMs = timeOf(payload.timestamp)
  if (Number.isNaN(atMs)) {
    refuse(`timestamp ${JSON.stringify(payload.timestamp)} is not a date. Map Refund Time to the event's timestamp.`)
  }
  // The framework checks that it is a whole number, not its range.
  const lookbackDays = payload.lookback_days ?? DEFAULT_LOOKBACK_DAYS
  if (lookbackDays < 1 || lookbackDays > MAX_LOOKBACK_DAYS) {
    refuse(
      `lookback_days ${lookbackDays} is not a number of days from 1 to ${MAX_LOOKBACK_DAYS}. Set Lookback Days within that range.`
    )
  }
  return {
    orderId,
    ...(transactionId !== '' ? { transactionId } : {}),
    refundAmount: readAmount(payload.refund_amount, 'refund_amount'),
    orderTotal: readAmount(payload.order_total, 'order_total'),
    atMs,
    lookbackDays
  }
}

/** A date as milliseconds: ISO text, or Unix time (13 digits or more are milliseconds, fewer seconds). */
function timeOf(value: string | number): number {
  if (typeof value === 'number') return String(Math.trunc(value)).length >= 13 ? value : value * 1000
  return Date.parse(value)
}

const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** The call that reads the click's conversions and events (openapi/reporting-events.yaml). */
export function clickCall(transactionId: string): ApiCall {
  return { method: 'GET', path: `/networks/reporting/events/${encodeURIComponent(transactionId)}` }
}

/**
 * The call that searches the conversion report by order ID within the lookback window
 * (openapi/reporting-conversions.yaml); the report reaches back 365 days from now only.
 */
export function reportCall(refund: Refund, nowMs: number): ApiCall {
  const oldest = nowMs - (MAX_LOOKBACK_DAYS - 1) * DAY_MS
  if (refund.atMs < oldest) {
    throw new IntegrationError(
      `The refund of order ${JSON.stringify(refund.orderId)} is dated ${dateOf(refund.atMs)}, more than ${MAX_LOOKBACK_DAYS} days ago: Everflow's conversion report reaches back ${MAX_LOOKBACK_DAYS} days only. Reject or change the conversion by hand in Everflow's Conversion Report.`,
      CONVERSION_NOT_FOUND,
      404
    )
  }
  const from = Math.max(windowStart(refund) - DAY_MS, oldest)
  return {
    method: 'POST',
    path: `/networks/reporting/conversions?page=1&page_size=${REPORT_PAGE_SIZE}`,
    body: {
      from: dateOf(from),
      to: dateOf(refund.atMs + DAY_MS),
      timezone_id: REPORT_TIMEZONE_ID,
      show_conversions: true,
      show_events: false,
      query: { filters: [], search_terms: [{ search_type: 'order_id', value: refund.orderId }] }
    }
  }
}

const windowStart = (refund: Refund) => refund.atMs - refund.lookbackDays * DAY_MS

type Row = Record<string, unknown>

/** The rows of a lookup's answer: `events` of the click, or `conversions` of the report. */
export function rowsOf(body: unknown): Row[] {
  const record = (body ?? {}) as Record<string, unknown>
  const rows = Array.isArray(record.events)
    ? record.events
    : Array.isArray(record.conversions)
      ? record.conversions
      : []
  return rows.filter((row): row is Row => row !== null && typeof row === 'object')
}

/**
 * The order's base conversions among the rows: no post-conversion event, the order ID exactly (the report's search
 * may match more loosely), and, from the report (`inWindow`), recorded within the lookback window. Each once.
 */
export function conversionsOf(rows: Row[], refund: Refund, inWindow: boolean): Conversion[] {
  const found = new Map<string, Conversion>()
  for (const row of rows) {
    const id = typeof row.conversion_id === 'string' ? row.conversion_id : ''
    if (id === '' || row.is_event === true || row.order_id !== refund.orderId) continue
    const atSeconds = typeof row.conversion_unix_timestamp === 'number' ? row.conversion_unix_timestamp : undefined
    if (inWindow && atSeconds !== undefined && atSeconds * 1000 < windowStart(refund)) {
      continue
    }
    found.set(id, {
      id,
      status: typeof row.status === 'string' ? row.status : undefined,
      saleAmount: typeof row.sale_amount === 'number' ? row.sale_amount : undefined,
      atSeconds
    })
  }
  return [...found.values()]
}

/** Why no conversion was found: retried while the refund is young (Everflow reports with a delay), then final. */
export function notFound(refund: Refund, nowMs: number): Error {
  const where =
    (refund.transactionId !== undefined ? `for the click ${refund.transactionId} nor ` : '') +
    `in the ${refund.lookbackDays} days before the refund (${dateOf(windowStart(refund))} to ${dateOf(refund.atMs)})`
  const what = `No conversion in Everflow has order ID ${JSON.stringify(refund.orderId)} ${where}.`
  if (nowMs - refund.atMs < RETRY_NOT_FOUND_HOURS * HOUR_MS) {
    return new RetryableError(
      `${what} Everflow reports conversions a few minutes after their postback, so Segment retries this refund while it is less than ${RETRY_NOT_FOUND_HOURS} hours old.`
    )
  }
  return new IntegrationError(
    `${what} Check that the order's conversion was sent to Everflow with this same order ID, or raise Lookback Days if the order is older.`,
    CONVERSION_NOT_FOUND,
    404
  )
}

const CLOSED = new Set(['rejected', 'invalid'])
const cents = (amount: number) => Math.round(amount * 100) / 100
const ids = (conversions: Conversion[]) => conversions.map((c) => c.id).join(', ')

/**
 * What the refund changes. Full (no amount, an amount of at least Order Total, or without Order Total at least the
 * recorded sale amount): every open conversion of the order is rejected. Partial: the one conversion's sale amount
 * becomes Order Total minus the refunded amount, an absolute value, so a refund delivered twice changes it once,
 * and it is never raised. Rejected and invalid conversions are left alone: a refund again is a success.
 */
export function planRefund(refund: Refund, conversions: Conversion[]): Plan {
  const open = conversions.filter((c) => !CLOSED.has(c.status ?? ''))
  const order = JSON.stringify(refund.orderId)
  if (open.length === 0) {
    return {
      kind: 'nothing',
      message: `The conversion of order ${order} (${ids(conversions)}) is already ${conversions[0].status} in Everflow: nothing to change.`
    }
  }
  const { refundAmount, orderTotal } = refund
  if (refundAmount === undefined || (orderTotal !== undefined && refundAmount >= orderTotal)) {
    return { kind: 'reject', conversions: open }
  }
  if (open.length > 1) {
    throw new IntegrationError(
      `Order ${order} has ${open.length} conversions in Everflow (${ids(open)}), and a partial refund cannot tell which one to lower. ` +
        "Send the order's click (context.referrer.id) with the refund, or change the sale amount in Everflow's Conversion Report.",
      REFUND_AMBIGUOUS,
      400
    )
  }
  const [conversion] = open
  const recorded = conversion.saleAmount
  if (orderTotal === undefined) {
    if (recorded !== undefined && refundAmount >= recorded) return { kind: 'reject', conversions: open }
    refuse(
      `refund_amount ${refundAmount} is a partial refund of order ${order}` +
        (recorded !== undefined ? ` (Everflow recorded a sale amount of ${recorded})` : '') +
        ", and Order Total is not mapped. Send the order's total before refunds as properties.order_total (the default mapping of Order Total) or map Order Total to it: the sale amount is then set to Order Total minus Refunded Amount, so a refund delivered twice lowers it only once."
    )
  }
  const saleAmount = cents((orderTotal as number) - refundAmount)
  if (recorded !== undefined && recorded <= saleAmount) {
    return {
      kind: 'nothing',
      message:
        `The sale amount of conversion ${conversion.id} of order ${order} is already ${recorded}, at or below ${saleAmount} ` +
        `(Order Total ${orderTotal as number} minus Refunded Amount ${refundAmount}): nothing to change. ` +
        'If Order Total is not the amount sent with the conversion, map it to that amount.'
    }
  }
  return { kind: 'lower', conversion, saleAmount }
}

/** The call that carries out a plan (openapi/reporting-conversions.yaml), or none. */
export function changeCall(plan: Plan): ApiCall | undefined {
  if (plan.kind === 'reject') {
    return {
      method: 'PATCH',
      path: '/networks/reporting/conversions',
      body: { conversion_ids: plan.conversions.map((c) => c.id), conversion_status: 'rejected' }
    }
  }
  if (plan.kind === 'lower') {
    return {
      method: 'PUT',
      path: `/networks/reporting/conversions/${encodeURIComponent(plan.conversion.id)}/saleamount`,
      body: { sale_amount: plan.saleAmount, is_event: false }
    }
  }
  return undefined
}

/** What was done, in a sentence for the event's result. */
export function doneMessage(refund: Refund, plan: Plan): string {
  const order = JSON.stringify(refund.orderId)
  if (plan.kind === 'reject') return `Rejected conversion ${ids(plan.conversions)} of order ${order} (full refund).`
  if (plan.kind === 'lower') {
    return `Lowered the sale amount of conversion ${plan.conversion.id} of order ${order} from ${plan.conversion.saleAmount ?? 'unknown'} to ${plan.saleAmount} (partial refund).`
  }
  return plan.message
}
