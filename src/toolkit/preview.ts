// The default command: what exactly will Everflow get for this event? Runs events one by one through the very path
// Segment uses (Destination.onEvent: subscription, mapping, validation, settings, the action) and prints the
// postback URL. Nothing is sent without --send.
import path from 'path'
import { parseArgs } from 'util'
import type { SegmentEvent } from '@segment/actions-core'
import type { Settings } from '../generated-types'
import { parseSettings } from '../settings'
import { redact, redactUrl, secretsOf } from '../secrets'
import { isRetryable } from '../errors'
import type { Payload } from '../trackConversion/generated-types'
import {
  asTrack,
  destinationFor,
  testTransport,
  EXAMPLES,
  EXIT,
  NOT_RETRIED,
  observedDestination,
  readEvents,
  readSettings,
  reasonOf,
  subscriptionOf,
  UsageError
} from './io'
import type { Input, Io, Seen } from './io'
import { verifySent, VERIFY_OPTIONS } from './verify'
import { describeRefund, isRefundEvent, runRefund, verifyRefunds } from './refund'

export type Outcome = 'dry-run' | 'sent' | 'not-subscribed' | 'rejected' | 'retryable'

export interface EventResult {
  line: number
  outcome: Outcome
  event?: string
  note?: string
  transactionId?: string
  payload?: Payload
  url?: string
  status?: number
  error?: string
}

export const PREVIEW_OPTIONS = {
  event: { type: 'string' },
  settings: { type: 'string' },
  mapping: { type: 'string' },
  subscription: { type: 'string' },
  send: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  details: { type: 'boolean', default: false },
  verify: { type: 'boolean', default: false },
  ...VERIFY_OPTIONS,
  help: { type: 'boolean', default: false }
} as const

export const PREVIEW_HELP = `  --event FILE     a Segment event as JSON, or NDJSON with one event per line; "-" reads stdin
                   (default: examples/order-completed.json). A body with "event" but no "type" (as
                   Segment's HTTP API takes it) is read as a track call.
  --mapping FILE   JSON mapping for Track Conversion that replaces the default mapping
  --subscription FQL  which events the action gets, in Segment's FQL (default: the preset's,
                   type = "track" and event = "Order Completed"); others show as not-subscribed
  --send           really send the postbacks (without it, nothing leaves the machine)
  --verify         with --send: then ask Everflow what it recorded (see verify), waiting for its report
  --json           one JSON result object per event on stdout
  --details        show each event's resolved payload too (shown anyway for a single event)`

/** One event through the destination, as Segment would run it. */
async function runEvent(
  destination: ReturnType<typeof observedDestination>,
  input: Input,
  settings: Settings,
  subscription: ReturnType<typeof subscriptionOf>,
  seen: Seen,
  context: { send: boolean; secrets: string[] }
): Promise<EventResult> {
  if (input.error || !input.event) return { line: input.line, outcome: 'rejected', error: input.error }
  const { event, note, notTrack } = asTrack(input.event)
  Object.assign(seen, { payload: undefined, url: undefined, status: undefined })
  const base = {
    line: input.line,
    event: typeof event.event === 'string' ? event.event : typeof event.type === 'string' ? event.type : undefined,
    ...(note ? { note } : {})
  }
  if (notTrack) return { ...base, outcome: 'rejected', error: notTrack }
  try {
    const output = await destination.onEvent(event, { ...settings, subscription })
    const invalid = output.find((r) => typeof r.output === 'string' && r.output.startsWith('Invalid subscription'))
    if (invalid) throw new UsageError(`--subscription: ${invalid.output as string}`)
    if (output.some((r) => r.output === 'not subscribed')) return { ...base, outcome: 'not-subscribed' }
    const { payload, status } = seen
    return {
      ...base,
      outcome: context.send ? 'sent' : 'dry-run',
      transactionId: payload?.transaction_id,
      payload,
      url: seen.url && redactUrl(seen.url, context.secrets),
      // A dry run received no answer, so it shows no status.
      ...(context.send && status !== undefined ? { status } : {})
    }
  } catch (error) {
    if (error instanceof UsageError) throw error
    return {
      ...base,
      outcome: isRetryable(error) ? 'retryable' : 'rejected',
      payload: seen.payload,
      url: seen.url && redactUrl(seen.url, context.secrets),
      error: redact((error as Error).message, context.secrets)
    }
  } finally {
    destination.responses.length = 0
  }
}

function describe(result: EventResult, details: boolean): string {
  const lines = [`line ${result.line}${result.event ? ` (${result.event})` : ''}: ${result.outcome}`]
  if (result.note) lines.push(`  note: ${result.note}`)
  if (result.outcome === 'not-subscribed') {
    lines.push('  Segment would not send this event to the action (see --subscription)')
  }
  if (details && result.payload) {
    lines.push(`  payload: ${JSON.stringify(result.payload, null, 2).replace(/\n/g, '\n  ')}`)
  }
  if (result.url) {
    lines.push(
      `  ${result.outcome === 'dry-run' ? 'would send (dry run; --send sends it)' : 'sent'}: GET ${result.url}`
    )
  }
  if (result.status !== undefined) lines.push(`  Everflow answered ${result.status}`)
  if (result.error) lines.push(`  error: ${result.error}`)
  if (result.outcome === 'retryable') lines.push(`  ${NOT_RETRIED}`)
  return lines.join('\n')
}

function summaryOf(results: EventResult[], send: boolean): string {
  const count = (outcome: Outcome) => results.filter((r) => r.outcome === outcome).length
  const reasons = new Map<string, number>()
  for (const r of results) {
    if (r.outcome === 'rejected' && r.error) reasons.set(reasonOf(r.error), (reasons.get(reasonOf(r.error)) ?? 0) + 1)
  }
  const lines = [
    `summary: ${send ? `sent ${count('sent')}` : `would send ${count('dry-run')}`}, ` +
      `not subscribed ${count('not-subscribed')}, rejected ${count('rejected')}, retryable ${count('retryable')}`
  ]
  for (const [reason, times] of [...reasons].sort((a, b) => b[1] - a[1])) lines.push(`  ${times} x ${reason}`)
  return lines.join('\n')
}

export async function preview(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: PREVIEW_OPTIONS, strict: true, allowPositionals: false })
  if (values.verify && !values.send) throw new UsageError('--verify checks what was sent: use it with --send.')
  const settings = readSettings(io, values.settings)
  parseSettings(settings)
  const secrets = secretsOf(settings)
  const inputs = readEvents(io, values.event ?? path.join(EXAMPLES, 'order-completed.json'))
  const definition = destinationFor(io, { sends: values.send })
  const seen: Seen = {}
  const destination = observedDestination(definition, values.send, seen)
  try {
    destination.validateSettings(settings)
  } catch (error) {
    throw new UsageError(`Settings: ${(error as Error).message}`)
  }
  const subscription = subscriptionOf(io, definition, values.subscription, values.mapping)
  // One event shows its payload; many show one line each unless details are asked for.
  const details = values.details || inputs.length === 1

  const results: EventResult[] = []
  const refunded: SegmentEvent[] = []
  for (const input of inputs) {
    if (io.signal?.aborted) {
      io.stderr.write(`Ctrl-C: stopped; ${inputs.length - results.length} event(s) not run.\n`)
      break
    }
    // Order Refunded goes to Refund Conversion, as its preset subscribes it (unless the options aim at Track Conversion).
    const refundEvent = input.event && !values.subscription && !values.mapping ? asTrack(input.event).event : undefined
    if (refundEvent && isRefundEvent(refundEvent)) {
      const run = await runRefund(definition, refundEvent, input.line, settings, {
        send: values.send,
        secrets,
        apiOrigin: testTransport(io).apiOrigin
      })
      results.push({ line: run.line, event: run.event, outcome: run.outcome, error: run.error })
      if (run.outcome === 'sent') refunded.push(refundEvent)
      io.stdout.write(`${values.json ? JSON.stringify(run) : describeRefund(run)}\n`)
      continue
    }
    const result = await runEvent(destination, input, settings, subscription, seen, { send: values.send, secrets })
    results.push(result)
    if (values.json) {
      io.stdout.write(`${JSON.stringify(values.details ? result : { ...result, payload: undefined })}\n`)
    } else {
      io.stdout.write(`${describe(result, details)}\n`)
    }
  }
  io.stderr.write(`${summaryOf(results, values.send)}\n`)
  const failed =
    results.length < inputs.length || results.some((r) => r.outcome === 'rejected' || r.outcome === 'retryable')
  if (values.verify && refunded.length > 0) {
    const unchecked = await verifyRefunds(io, settings, refunded, values)
    if (refunded.length === results.length) return failed || unchecked ? EXIT.someFailed : EXIT.ok
  }
  if (values.verify) {
    const sent = results.filter((r) => r.outcome === 'sent' && r.transactionId)
    const problems = await verifySent(
      io,
      settings,
      sent.map((r) => r.transactionId as string),
      values
    )
    return failed || problems ? EXIT.someFailed : EXIT.ok
  }
  return failed ? EXIT.someFailed : EXIT.ok
}
