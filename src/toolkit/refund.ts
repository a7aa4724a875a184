// Refunds in the preview: an Order Refunded event runs through Refund Conversion as Segment would run it (the
// preset's subscription, the mapping, validation). A dry run calls nothing and shows the calls the refund would
// make; --send makes them and shows each; --send --verify then reads the conversion back from Everflow.
import type { ActionDefinition, DestinationDefinition, RequestClient, SegmentEvent } from '@segment/actions-core'
import { Destination, defaultValues } from '@segment/actions-core'
import { API_HOSTS, regionOf } from '../everflow-api'
import { isRetryable } from '../errors'
import type { Settings } from '../generated-types'
import type { Payload } from '../refundConversion/generated-types'
import { clickCall, conversionsOf, readRefund, reportCall, rowsOf } from '../refundConversion/refund'
import type { ApiCall, Refund } from '../refundConversion/refund'
import { redact } from '../secrets'
import type { Io } from './shared/io'
import { apiFor } from './verify'

/** The event the refund preset subscribes to; the preview sends these to Refund Conversion. */
export const REFUND_EVENT = 'Order Refunded'

export function isRefundEvent(event: SegmentEvent | undefined): boolean {
  return event?.event === REFUND_EVENT && (event.type === 'track' || event.type === undefined)
}

export interface RefundRun {
  line: number
  event: string
  outcome: 'dry-run' | 'sent' | 'rejected' | 'retryable'
  /** The calls, as `METHOD URL BODY` lines: planned in a dry run, made (with Everflow's status) with --send. */
  calls: string[]
  result?: string
  error?: string
}

const json = (body: unknown) => (body === undefined ? '' : ` ${JSON.stringify(body)}`)

function urlOf(call: ApiCall, settings: Settings, apiOrigin?: string): string {
  const base = apiOrigin ? `${apiOrigin}/v1` : API_HOSTS[regionOf(settings.apiRegion)]
  return `${base}${call.path}`
}

/** What a refund would change, said before anything is found: the change depends on what Everflow returns. */
export function plannedChange(refund: Refund, base: string): string[] {
  const reject = `PATCH ${base}/networks/reporting/conversions {"conversion_ids":["<each open base conversion found>"],"conversion_status":"rejected"}`
  const { refundAmount, orderTotal } = refund
  if (refundAmount === undefined || (orderTotal !== undefined && refundAmount >= orderTotal)) {
    return [`then, for a full refund: ${reject} (nothing if already rejected)`]
  }
  if (orderTotal === undefined) {
    return [
      `then, if the recorded sale amount is at most ${refundAmount}: ${reject}`,
      'otherwise refused: a partial refund needs Order Total (properties.order_total)'
    ]
  }
  const saleAmount = Math.round((orderTotal - refundAmount) * 100) / 100
  return [
    `then, for a partial refund: PUT ${base}/networks/reporting/conversions/<the conversion found>/saleamount {"sale_amount":${saleAmount},"is_event":false} (nothing if its sale amount is ${saleAmount} or lower already)`
  ]
}

/** Records each call the action makes, with Everflow's status; the key header is never kept. */
function recording(request: RequestClient, calls: string[]): RequestClient {
  return (async (url: string, options?: Parameters<RequestClient>[1]) => {
    const response = await request(url, options)
    calls.push(`${options?.method ?? 'GET'} ${url}${json(options?.json)} -> ${response.status}`)
    return response
  }) as RequestClient
}

/** One Order Refunded event through Refund Conversion, as Segment runs it. */
export async function runRefund(
  definition: DestinationDefinition<Settings>,
  event: SegmentEvent,
  line: number,
  settings: Settings,
  context: { send: boolean; secrets: string[]; apiOrigin?: string }
): Promise<RefundRun> {
  const action = definition.actions.refundConversion as ActionDefinition<Settings, Payload>
  const calls: string[] = []
  let result: string | undefined
  const observed: ActionDefinition<Settings, Payload> = {
    ...action,
    perform: async (request, data) => {
      if (!context.send) {
        const refund = readRefund(data.payload)
        const text = (call: ApiCall) => `${call.method} ${urlOf(call, settings, context.apiOrigin)}${json(call.body)}`
        if (refund.transactionId !== undefined) calls.push(text(clickCall(refund.transactionId)))
        const report = text(reportCall(refund, Date.now()))
        calls.push(
          refund.transactionId !== undefined ? `if the click shows no conversion of the order: ${report}` : report
        )
        calls.push(...plannedChange(refund, urlOf({ method: 'GET', path: '' }, settings, context.apiOrigin)))
        return undefined
      }
      const done = (await action.perform(recording(request, calls), data)) as { message?: string } | undefined
      result = done?.message
      return done
    }
  }
  const destination = new Destination({ ...definition, actions: { refundConversion: observed } })
  const base = { line, event: REFUND_EVENT }
  try {
    await destination.onEvent(event, {
      ...settings,
      subscription: {
        subscribe: `type = "track" and event = "${REFUND_EVENT}"`,
        partnerAction: 'refundConversion',
        mapping: defaultValues(action.fields)
      }
    })
    return { ...base, outcome: context.send ? 'sent' : 'dry-run', calls, ...(result ? { result } : {}) }
  } catch (error) {
    return {
      ...base,
      outcome: isRetryable(error) ? 'retryable' : 'rejected',
      calls,
      error: redact((error as Error).message, context.secrets)
    }
  }
}

export function describeRefund(run: RefundRun, retry: string): string {
  const lines = [`line ${run.line} (${run.event}): ${run.outcome}`]
  if (run.outcome === 'dry-run') lines.push("  would call Everflow's Network API (dry run; --send calls it):")
  for (const call of run.calls) lines.push(`    ${call}`)
  if (run.result) lines.push(`  ${run.result}`)
  if (run.error) lines.push(`  error: ${run.error}`)
  if (run.outcome === 'retryable') lines.push(`  ${retry}`)
  return lines.join('\n')
}

/**
 * After --send --verify: reads each refunded order's conversions back from Everflow (the same lookup the action
 * makes) and shows their status and sale amount. Returns whether any refund could not be checked.
 */
export async function verifyRefunds(
  io: Io,
  settings: Settings,
  payloads: SegmentEvent[],
  options: { rate?: string; 'verify-wait'?: string }
): Promise<boolean> {
  if (payloads.length === 0) return false
  const api = apiFor(io, settings, options.rate)
  const waitMs = Number(options['verify-wait'] ?? 30) * 1000
  io.stderr.write(`verify: waiting ${waitMs / 1000} s for Everflow to apply the refunds...\n`)
  await (io.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))))(waitMs)
  let problems = false
  for (const event of payloads) {
    const properties = (event.properties ?? {}) as Record<string, unknown>
    const referrer = (event.context as { referrer?: { id?: unknown } } | undefined)?.referrer
    const orderId = properties.order_id ?? properties.orderId
    const refund = readRefund({
      order_id: typeof orderId === 'string' || typeof orderId === 'number' ? String(orderId) : '',
      transaction_id: typeof referrer?.id === 'string' ? referrer.id : undefined,
      timestamp: String(event.timestamp ?? new Date(Date.now()).toISOString())
    })
    const read = async (call: ApiCall, inWindow: boolean) => {
      const answer = await (call.body ? api.send('POST', call.path, call.body) : api.get(call.path))
      return answer.kind === 'ok' ? conversionsOf(rowsOf(answer.body), refund, inWindow) : undefined
    }
    let conversions = refund.transactionId !== undefined ? await read(clickCall(refund.transactionId), false) : []
    if (conversions !== undefined && conversions.length === 0)
      conversions = await read(reportCall(refund, Date.now()), true)
    if (conversions === undefined) {
      problems = true
      io.stdout.write(`order ${refund.orderId}: could not be read back from Everflow's API\n`)
      continue
    }
    if (conversions.length === 0) {
      problems = true
      io.stdout.write(`order ${refund.orderId}: no conversion found\n`)
    }
    for (const conversion of conversions) {
      io.stdout.write(
        `order ${refund.orderId}: conversion ${conversion.id} is ${conversion.status ?? 'of unknown status'}, sale amount ${conversion.saleAmount ?? 'unknown'}\n`
      )
    }
  }
  return problems
}
