// backfill: send an NDJSON file of events (a replay after an outage, a move from the classic destination) through
// Segment's batch path, within its bound of postbacks in flight, with progress, a file of what failed, and a clean
// stop on Ctrl-C.
import { appendFileSync, writeFileSync } from 'fs'
import { parseArgs } from 'util'
import { Presets, SingleBar } from 'cli-progress'
import { Destination } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import type { Settings } from '../generated-types'
import { createPacer } from '../everflow-api'
import { parseSettings } from '../settings'
import { redact, secretsOf } from '../secrets'
import { isRetryableResult } from '../errors'
import { forEachBounded } from '../pool'
import { MAX_POSTBACKS_IN_FLIGHT } from '../trackConversion'
import {
  asTrack,
  destinationFor,
  EXIT,
  NOT_RETRIED,
  observedDestination,
  readEvents,
  readSettings,
  reasonOf,
  subscriptionOf,
  UsageError
} from './io'
import type { Input, Io } from './io'
import type { EventResult } from './preview'

export const BACKFILL_HELP = `  --event FILE     NDJSON, one event per line ("-" reads stdin); required
  --send           really send (without it, a dry run of the whole file: what would be sent or refused)
  --rate N         start at most N postbacks per second (default: no cap; at most ${MAX_POSTBACKS_IN_FLIGHT} in flight)
  --failed FILE    write every failed or not-started event to FILE as NDJSON, each with an "everflowFailure"
                   field giving the reason; the file replays as it is: backfill --send --event FILE
  --every S        seconds between summary lines when stderr is not a terminal (default 5)
  --mapping FILE, --subscription FQL, --settings FILE  as for the preview`

interface Tally {
  total: number
  done: number
  sent: number
  failed: number
  retryable: number
  notSubscribed: number
  notStarted: number
  reasons: Map<string, number>
}

/** What a failed line becomes in the failed file: the event as it was, with why; replayable as it is. */
function failedRecord(input: Input, reason: string, retryable: boolean): string {
  const everflowFailure = {
    line: input.line,
    reason,
    retryable,
    ...(input.text !== undefined ? { text: input.text } : {})
  }
  // A replayed line that fails again gets its new reason, not two.
  const event: Record<string, unknown> = { ...input.event }
  delete event.everflowFailure
  return `${JSON.stringify({ ...event, everflowFailure })}\n`
}

function progressLine(tally: Tally, started: number, send: boolean): string {
  const seconds = (Date.now() - started) / 1000
  const rate = seconds > 0 ? tally.done / seconds : 0
  const left = rate > 0 ? Math.ceil((tally.total - tally.done - tally.notStarted) / rate) : undefined
  return (
    `backfill: ${tally.done}/${tally.total} lines done (${send ? 'sent' : 'would send'} ${tally.sent}, failed ${tally.failed}), ` +
    `${Math.round(rate)}/s${left !== undefined ? `, about ${left} s left` : ''}`
  )
}

function summaryOf(tally: Tally, send: boolean, failedFile: string | undefined, interrupted: boolean): string {
  const lines = [
    `backfill summary: ${tally.total} lines: ${send ? 'sent' : 'would send'} ${tally.sent}, ` +
      `failed ${tally.failed}${tally.retryable ? ` (${tally.retryable} retryable)` : ''}, ` +
      `not subscribed ${tally.notSubscribed}, not started ${tally.notStarted}${interrupted ? ' (stopped by Ctrl-C)' : ''}`
  ]
  for (const [reason, times] of [...tally.reasons].sort((a, b) => b[1] - a[1])) lines.push(`  ${times} x ${reason}`)
  if (tally.retryable) lines.push(`  ${NOT_RETRIED}`)
  if (tally.failed + tally.notStarted > 0) {
    lines.push(
      failedFile
        ? `  failed and not-started events are in ${failedFile}; replay them with: backfill --send --event ${failedFile}`
        : '  use --failed FILE to keep the failed events for a replay'
    )
  }
  if (tally.notSubscribed) lines.push("  not-subscribed events do not match --subscription (default: the preset's)")
  return lines.join('\n')
}

function optionsOf(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      event: { type: 'string' },
      settings: { type: 'string' },
      mapping: { type: 'string' },
      subscription: { type: 'string' },
      send: { type: 'boolean', default: false },
      rate: { type: 'string' },
      failed: { type: 'string' },
      every: { type: 'string' }
    },
    strict: true,
    allowPositionals: false
  })
  if (!values.event) throw new UsageError('backfill needs --event FILE (NDJSON, one event per line).')
  const rate = values.rate === undefined ? undefined : Number(values.rate)
  if (rate !== undefined && !(rate > 0)) throw new UsageError(`--rate must be a number above 0, not ${values.rate}.`)
  const every = values.every === undefined ? 5 : Number(values.every)
  if (!(every > 0)) throw new UsageError(`--every must be a number of seconds above 0, not ${values.every}.`)
  return { ...values, event: values.event, rate, every }
}

/** Counts one finished event; a failed one also goes to the failed file. */
function record(tally: Tally, input: Input, result: EventResult, failedFile: string | undefined): void {
  tally.done++
  if (result.outcome === 'sent' || result.outcome === 'dry-run') tally.sent++
  else if (result.outcome === 'not-subscribed') tally.notSubscribed++
  else {
    tally.failed++
    if (result.outcome === 'retryable') tally.retryable++
    const reason = result.error ?? result.outcome
    tally.reasons.set(reasonOf(reason), (tally.reasons.get(reasonOf(reason)) ?? 0) + 1)
    if (failedFile) appendFileSync(failedFile, failedRecord(input, reason, result.outcome === 'retryable'))
  }
}

function recordNotStarted(tally: Tally, input: Input, failedFile: string | undefined): void {
  tally.notStarted++
  if (failedFile) {
    appendFileSync(
      failedFile,
      failedRecord(input, 'not started: the backfill was stopped (Ctrl-C) before this event', true)
    )
  }
}

/** A progress bar on a terminal, else a summary line every `every` seconds. */
function showProgress(io: Io, tally: Tally, send: boolean, every: number) {
  const started = Date.now()
  if (!io.stderr.isTTY) {
    const timer = setInterval(() => io.stderr.write(`${progressLine(tally, started, send)}\n`), every * 1000)
    timer.unref()
    return { update: () => undefined, stop: () => clearInterval(timer) }
  }
  const bar = new SingleBar(
    {
      stream: io.stderr as NodeJS.WriteStream,
      format: 'backfill {bar} {value}/{total} lines | {rate}/s | {eta_formatted} left | failed {failed}',
      hideCursor: true
    },
    Presets.shades_classic
  )
  bar.start(tally.total, 0, { rate: 0, failed: 0 })
  return {
    update: () =>
      bar.update(tally.done, {
        rate: Math.round(tally.done / Math.max(0.001, (Date.now() - started) / 1000)),
        failed: tally.failed
      }),
    stop: () => bar.stop()
  }
}

/** Ctrl-C (the signal) as a flag the pool reads before starting each postback. */
function watchInterrupt(io: Io) {
  const state = { interrupted: false, stop: () => io.signal?.removeEventListener('abort', onAbort) }
  function onAbort() {
    state.interrupted = true
    io.stderr.write(`\nCtrl-C: starting no new postbacks; waiting for those in flight...\n`)
  }
  if (io.signal?.aborted) onAbort()
  else io.signal?.addEventListener('abort', onAbort, { once: true })
  return state
}

/**
 * Events per onBatch call. Small batches run side by side, so the postbacks in flight stay at
 * MAX_POSTBACKS_IN_FLIGHT; each batch's postbacks all start at once (performBatch's own bound is larger), so
 * after Ctrl-C no postback starts. Batches rather than single events: core's per-call work (subscription,
 * settings validation, request client) is then shared by a batch, which the benchmark's backfill/batch measures.
 */
const EVENTS_PER_BATCH = 4

const NOT_SUBSCRIBED = 'Payload is either invalid or does not match the subscription'

interface BatchEntry {
  status?: number
  errortype?: string
  errormessage?: string
}

/** One small batch through Destination.onBatch, as Segment runs it; a result per input, in order. */
async function runBatch(
  destination: Destination<Settings>,
  inputs: Input[],
  settings: Settings,
  subscription: ReturnType<typeof subscriptionOf>,
  context: { send: boolean; secrets: string[] }
): Promise<EventResult[]> {
  const results: EventResult[] = []
  const runnable: Array<{ index: number; event: SegmentEvent }> = []
  inputs.forEach((input, index) => {
    const { event, notTrack } = input.event ? asTrack(input.event) : { event: undefined, notTrack: input.error }
    if (event && !notTrack) runnable.push({ index, event })
    else results[index] = { line: input.line, outcome: 'rejected', error: notTrack }
  })
  if (runnable.length === 0) return results
  let entries: BatchEntry[]
  try {
    const output = await destination.onBatch(
      runnable.map((r) => r.event),
      { ...settings, subscription }
    )
    const multistatus = (output[0] as { multistatus?: BatchEntry[] } | undefined)?.multistatus
    entries = multistatus ?? runnable.map(() => ({ status: 400, errormessage: NOT_SUBSCRIBED }))
  } catch (error) {
    const message = redact((error as Error).message, context.secrets)
    entries = runnable.map(() => ({ status: (error as { status?: number }).status ?? 500, errormessage: message }))
  } finally {
    destination.responses.length = 0
  }
  runnable.forEach(({ index, event }, position) => {
    const entry = entries[position] ?? {}
    const base = { line: inputs[index].line, event: event.event }
    if (entry.errormessage?.startsWith('Invalid subscription')) {
      throw new UsageError(`--subscription: ${entry.errormessage}`)
    }
    if (entry.errormessage === NOT_SUBSCRIBED) results[index] = { ...base, outcome: 'not-subscribed' }
    else if (entry.errormessage === undefined && (entry.status ?? 500) < 300) {
      results[index] = { ...base, outcome: context.send ? 'sent' : 'dry-run' }
    } else {
      results[index] = {
        ...base,
        outcome: isRetryableResult(entry) ? 'retryable' : 'rejected',
        error: redact(entry.errormessage ?? `status ${entry.status}`, context.secrets)
      }
    }
  })
  return results
}

/** inputs in consecutive groups of `size`. */
function groups<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, n) => items.slice(n * size, (n + 1) * size))
}

export async function backfill(argv: string[], io: Io): Promise<number> {
  const options = optionsOf(argv)
  const settings = readSettings(io, options.settings)
  parseSettings(settings)
  const secrets = secretsOf(settings)
  const definition = destinationFor(io)
  // Sending needs no observation; a dry run replaces the request. Either way, many events run at once.
  const destination = options.send ? new Destination(definition) : observedDestination(definition, false, {})
  try {
    destination.validateSettings(settings)
  } catch (error) {
    throw new UsageError(`Settings: ${(error as Error).message}`)
  }
  const subscription = subscriptionOf(io, definition, options.subscription, options.mapping)
  const inputs = readEvents(io, options.event)
  if (options.failed) writeFileSync(options.failed, '')

  const tally: Tally = {
    total: inputs.length,
    done: 0,
    sent: 0,
    failed: 0,
    retryable: 0,
    notSubscribed: 0,
    notStarted: 0,
    reasons: new Map()
  }
  const progress = showProgress(io, tally, options.send, options.every)
  const interrupt = watchInterrupt(io)
  const pace = createPacer(options.rate, io.sleep)
  // With a rate cap, one event a batch, so starts are spaced rather than bunched.
  const size = options.rate ? 1 : EVENTS_PER_BATCH
  const context = { send: options.send, secrets }
  try {
    await forEachBounded(
      groups(inputs, size),
      Math.max(1, Math.floor(MAX_POSTBACKS_IN_FLIGHT / size)),
      async (batch) => {
        if (!interrupt.interrupted) await pace()
        if (interrupt.interrupted) {
          batch.forEach((input) => recordNotStarted(tally, input, options.failed))
          return
        }
        const results = await runBatch(destination, batch, settings, subscription, context)
        batch.forEach((input, index) => record(tally, input, results[index], options.failed))
        progress.update()
      }
    )
  } finally {
    progress.stop()
    interrupt.stop()
  }
  io.stderr.write(`${summaryOf(tally, options.send, options.failed, interrupt.interrupted)}\n`)
  return tally.failed + tally.notStarted > 0 ? EXIT.someFailed : EXIT.ok
}
