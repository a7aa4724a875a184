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
import { destinationFor, observedDestination } from './shared/destination'
import type { Seen } from './shared/destination'
import { asTrack, readEvents } from './shared/events'
import type { Input } from './shared/events'
import { EXIT, UsageError, stopCause, stoppedCode } from './shared/io'
import type { Io } from './shared/io'
import { notRetried, Reasons, blameMapping } from './shared/output'
import { EXAMPLES, readSettings, testTransport } from './shared/settings'
import { matchOf, notSubscribedReason, subscriptionsOf, wrongType } from './shared/subscriptions'
import type { ActiveSubscription } from './shared/subscriptions'
import { DEFAULT_REQUESTS_PER_SECOND, verifySent, VERIFY_OPTIONS } from './verify'
import { describeRefund, isRefundEvent, runRefund, verifyRefunds } from './refund'

export type Outcome = 'dry-run' | 'sent' | 'not-subscribed' | 'rejected' | 'retryable'

export interface EventResult {
  line: number
  outcome: Outcome
  event?: string
  /** The subscription that took the event, when there is more than one (a preset's name, or --subscription). */
  subscription?: string
  note?: string
  /** Why an event is not subscribed. */
  reason?: string
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

export const PREVIEW_HELP = `  --event FILE     a Segment event as JSON, a JSON array of events, a Segment HTTP API batch body
                   ({"batch": [...]}), or NDJSON with one event per line; "-" reads stdin
                   (default: examples/order-completed.json). A body with "event" but no "type" (as
                   Segment's HTTP API takes it) is read as a track call.
  --mapping FILE   JSON mapping for Track Conversion that replaces the default mapping
  --subscription FQL  which events the action gets, in Segment's FQL (default: the destination's presets,
                   as Segment creates them); others show as not-subscribed
  --send           really send the postbacks (without it, nothing leaves the machine)
  --json           one JSON result object per event on stdout
  --details        show each event's resolved payload too (shown anyway for a single event)
  --verify         with --send: then ask Everflow what it recorded (see verify), waiting for its report:
  --verify-wait S    seconds to wait for Everflow's reporting before each check (default 30)
  --verify-tries N   checks before a sent conversion counts as missing (default 5)
  --rate N           Everflow API requests per second (default ${DEFAULT_REQUESTS_PER_SECOND})`

/** Events run between two looks at the process's events (signals, a closed output). */
const YIELD_EVERY = 32

/** One event through the destination, as Segment would run it: the subscription it matches, then the action. */
export async function runEvent(
  destination: ReturnType<typeof observedDestination>,
  input: Input,
  settings: Settings,
  subscriptions: ActiveSubscription[],
  seen: Seen,
  context: { send: boolean; secrets: string[] }
): Promise<EventResult> {
  if (input.error || !input.event) return { line: input.line, outcome: 'rejected', error: input.error }
  const { event, note, notEvent } = asTrack(input.event)
  Object.assign(seen, { payload: undefined, url: undefined, status: undefined })
  const base = {
    line: input.line,
    event: typeof event.event === 'string' ? event.event : typeof event.type === 'string' ? event.type : undefined,
    ...(note ? { note } : {})
  }
  if (notEvent) return { ...base, outcome: 'rejected', error: notEvent }
  const subscription = matchOf(subscriptions, event)
  if (!subscription) return { ...base, outcome: 'not-subscribed', reason: notSubscribedReason(subscriptions, event) }
  const wrong = wrongType(event, subscription)
  if (wrong) return { ...base, outcome: 'rejected', error: wrong }
  const taken = { ...base, ...(subscriptions.length > 1 ? { subscription: subscription.name } : {}) }
  try {
    const { subscribe, partnerAction, mapping } = subscription
    await destination.onEvent(event, { ...settings, subscription: { subscribe, partnerAction, mapping } })
    const { payload, status } = seen
    return {
      ...taken,
      outcome: context.send ? 'sent' : 'dry-run',
      transactionId: payload?.transaction_id,
      payload,
      url: seen.url && redactUrl(seen.url, context.secrets),
      // A dry run received no answer, so it shows no status.
      ...(context.send && status !== undefined ? { status } : {})
    }
  } catch (error) {
    return {
      ...taken,
      outcome: isRetryable(error) ? 'retryable' : 'rejected',
      payload: seen.payload,
      url: seen.url && redactUrl(seen.url, context.secrets),
      error: blameMapping(redact((error as Error).message, context.secrets), subscription)
    }
  } finally {
    destination.responses.length = 0
  }
}

/**
 * The events of a file as a dry run takes them (subscription, mapping, settings, the action; nothing sent): what
 * verify --event looks up is only what would have been sent.
 */
export async function dryRun(
  io: Io,
  settings: Settings,
  inputs: Input[],
  options: { subscription?: string; mapping?: string }
): Promise<EventResult[]> {
  const definition = destinationFor(io)
  const seen: Seen = {}
  const destination = observedDestination(definition, false, seen)
  try {
    destination.validateSettings(settings)
    parseSettings(settings)
  } catch (error) {
    throw new UsageError(
      `Settings: ${(error as Error).message} (verify --event runs the events as backfill does, to look up only those that would have been sent)`
    )
  }
  const subscriptions = subscriptionsOf(io, definition, options.subscription, options.mapping)
  const results: EventResult[] = []
  for (const input of inputs) {
    results.push(
      await runEvent(destination, input, settings, subscriptions, seen, { send: false, secrets: secretsOf(settings) })
    )
  }
  return results
}

function describe(result: EventResult, details: boolean, retry: string): string {
  const lines = [`line ${result.line}${result.event ? ` (${result.event})` : ''}: ${result.outcome}`]
  if (result.note) lines.push(`  note: ${result.note}`)
  if (result.reason) lines.push(`  not subscribed: ${result.reason}`)
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
  if (result.outcome === 'retryable') lines.push(`  ${retry}`)
  // Only when the destination has several presets (or none took it): which one took the event.
  if (result.subscription) lines.push(`  taken by ${result.subscription}`)
  return lines.join('\n')
}

function summaryOf(results: EventResult[], send: boolean): string {
  const count = (outcome: Outcome) => results.filter((r) => r.outcome === outcome).length
  const reasons = new Reasons()
  for (const r of results) if (r.outcome === 'rejected' && r.error) reasons.add(r.error)
  const lines = [
    `summary: ${send ? `sent ${count('sent')}` : `would send ${count('dry-run')}`}, ` +
      `not subscribed ${count('not-subscribed')}, rejected ${count('rejected')}, retryable ${count('retryable')}`,
    ...subscriptionLines(results, send ? 'sent' : 'would send'),
    ...reasons.lines()
  ]
  const notSubscribed = results.find((r) => r.reason)
  if (notSubscribed) lines.push(`  ${count('not-subscribed')} not subscribed: ${notSubscribed.reason}`)
  return lines.join('\n')
}

/** With several subscriptions (presets), how many events each took: which were sent as what. */
export function subscriptionLines(results: Array<{ outcome: Outcome; subscription?: string }>, verb: string): string[] {
  const by = new Map<string, number>()
  for (const r of results) {
    if (r.subscription && (r.outcome === 'sent' || r.outcome === 'dry-run')) {
      by.set(r.subscription, (by.get(r.subscription) ?? 0) + 1)
    }
  }
  return [...by].map(([name, times]) => `  ${verb} ${times} by ${name}`)
}

export async function preview(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: PREVIEW_OPTIONS, strict: true, allowPositionals: false })
  if (values.verify && !values.send) throw new UsageError('--verify checks what was sent: use it with --send.')
  const verifyOnly = (['rate', 'verify-wait', 'verify-tries'] as const).filter((name) => values[name] !== undefined)
  if (verifyOnly.length > 0 && !values.verify) {
    throw new UsageError(
      `--${verifyOnly[0]} sets how --send --verify asks Everflow's API; without --verify it would do nothing. Add --send --verify, or leave it out.`
    )
  }
  const settings = readSettings(io, values.settings, { sends: values.send ? '--send' : undefined })
  parseSettings(settings)
  const secrets = secretsOf(settings)
  const inputs = readEvents(io, values.event ?? path.join(EXAMPLES, 'order-completed.json'))
  const definition = destinationFor(io)
  const seen: Seen = {}
  const destination = observedDestination(definition, values.send, seen)
  try {
    destination.validateSettings(settings)
  } catch (error) {
    throw new UsageError(`Settings: ${(error as Error).message}`)
  }
  const subscriptions = subscriptionsOf(io, definition, values.subscription, values.mapping)
  // One event shows its payload; many show one line each unless details are asked for.
  const details = values.details || inputs.length === 1

  const results: EventResult[] = []
  const refunded: SegmentEvent[] = []
  for (const input of inputs) {
    // A dry run never waits on anything, so let Ctrl-C and a closed output (events of the process) be seen.
    if (results.length % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve))
    if (io.signal?.aborted) {
      io.stderr.write(`${stopCause(io)}: stopped; ${inputs.length - results.length} event(s) not run.\n`)
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
      io.stdout.write(`${values.json ? JSON.stringify(run) : describeRefund(run, notRetried(io))}\n`)
      continue
    }
    const result = await runEvent(destination, input, settings, subscriptions, seen, { send: values.send, secrets })
    results.push(result)
    if (values.json) {
      io.stdout.write(`${JSON.stringify(values.details ? result : { ...result, payload: undefined })}\n`)
    } else {
      io.stdout.write(`${describe(result, details, notRetried(io))}\n`)
    }
  }
  io.stderr.write(`${summaryOf(results, values.send)}\n`)
  if (results.length < inputs.length) return stoppedCode(io)
  const failed = results.some((r) => r.outcome === 'rejected' || r.outcome === 'retryable')
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
