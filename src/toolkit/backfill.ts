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
import { destinationFor, observedDestination } from './shared/destination'
import { asTrack, readEvents } from './shared/events'
import type { Input } from './shared/events'
import { EXIT, UsageError, stopCause, stoppedCode } from './shared/io'
import type { Io } from './shared/io'
import { Reasons, blameMapping } from './shared/output'
import { commandLine } from './shared/command-line'
import { readSettings } from './shared/settings'
import { matchOf, notSubscribedReason, subscriptionsOf, wrongType } from './shared/subscriptions'
import type { ActiveSubscription } from './shared/subscriptions'
import { subscriptionLines } from './preview'
import type { EventResult } from './preview'

export const BACKFILL_HELP = `  --event FILE     NDJSON, one event per line, or a JSON array or batch body ("-" reads stdin); required
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
  reasons: Reasons
  /** Why events were not subscribed (one reason: the subscriptions are the same for every event). */
  notSubscribedReason?: string
  /** Sent events by subscription, when there are several. */
  bySubscription: Array<{ outcome: EventResult['outcome']; subscription?: string }>
}

/** The line an event replayed from a failed file had in the file it first came from. */
function replayedLine(event: SegmentEvent | undefined): number | undefined {
  const line = (event as { everflowFailure?: { line?: unknown } } | undefined)?.everflowFailure?.line
  return typeof line === 'number' ? line : undefined
}

/** What a failed line becomes in the failed file: the event as it was, with why; replayable as it is. */
function failedRecord(input: Input, reason: string, retryable: boolean): string {
  const everflowFailure = {
    // A line replayed from a failed file keeps the line it had in the file it first came from.
    line: input.origin ?? replayedLine(input.event) ?? input.line,
    reason,
    retryable,
    ...(input.text !== undefined ? { text: input.text } : {})
  }
  // A replayed line that fails again gets its new reason, not two; a line that was not an event stays its text.
  const event: Record<string, unknown> = { ...input.event }
  delete event.everflowFailure
  return `${JSON.stringify(input.event ? { ...event, everflowFailure } : { everflowFailure })}\n`
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

/** Where the replay of a failed file writes what fails again: beside it, not over the file being read. */
function replayFailedFile(file: string): string {
  return /\.ndjson$/.test(file) ? file.replace(/\.ndjson$/, '-replay.ndjson') : `${file}-replay`
}

/** What to do about the failed lines: each hint prints the whole command, so that pasted it runs the same way. */
function hintsOf(io: Io, tally: Tally, send: boolean, failedFile: string | undefined): string[] {
  if (tally.failed + tally.notStarted === 0) return []
  if (!send) {
    // The failed file of a dry run holds only what would fail: replaying it alone would never send the rest.
    return [
      `  this was a dry run: nothing was sent. ${failedFile ? `The events that would fail are in ${failedFile}. Fix them` : 'Fix the events that would fail (--failed FILE lists them)'} ` +
        `in the original file, then run this same backfill with --send: ${commandLine(io, { drop: ['--send'], add: ['--send'] })}`
    ]
  }
  const retry = tally.retryable
    ? ['  Segment would retry the retryable ones; the CLI did not: replay them as below.']
    : []
  if (!failedFile) return [...retry, '  use --failed FILE to keep the failed events for a replay']
  const replay = commandLine(io, {
    drop: ['--event', '--failed'],
    add: ['--event', failedFile, '--failed', replayFailedFile(failedFile)]
  })
  return [...retry, `  failed and not-started events are in ${failedFile}; replay them with: ${replay}`]
}

function summaryOf(io: Io, tally: Tally, send: boolean, failedFile: string | undefined, stopped?: string): string {
  const lines = [
    `backfill summary: ${tally.total} lines: ${send ? 'sent' : 'would send'} ${tally.sent}, ` +
      `failed ${tally.failed}${tally.retryable ? ` (${tally.retryable} retryable)` : ''}, ` +
      `not subscribed ${tally.notSubscribed}, not started ${tally.notStarted}${stopped ? ` (stopped: ${stopped})` : ''}`,
    ...subscriptionLines(tally.bySubscription, send ? 'sent' : 'would send'),
    ...tally.reasons.lines(),
    ...hintsOf(io, tally, send, failedFile)
  ]
  if (tally.notSubscribed) lines.push(`  ${tally.notSubscribed} not subscribed: ${tally.notSubscribedReason}`)
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
  if (result.subscription) tally.bySubscription.push(result)
  if (result.outcome === 'sent' || result.outcome === 'dry-run') tally.sent++
  else if (result.outcome === 'not-subscribed') {
    tally.notSubscribed++
    tally.notSubscribedReason = result.reason
  } else {
    tally.failed++
    if (result.outcome === 'retryable') tally.retryable++
    const reason = result.error ?? result.outcome
    tally.reasons.add(reason)
    if (failedFile) appendFailed(failedFile, failedRecord(input, reason, result.outcome === 'retryable'))
  }
}

/** Writes to the failed file; a file that cannot be written is a clear message, not a stack trace. */
function writeFailed(file: string, text: string, append: boolean): void {
  try {
    if (append) appendFileSync(file, text)
    else writeFileSync(file, text)
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException
    throw new UsageError(
      `--failed ${file}: cannot write the failed file (${code ?? message}). Give a file in a folder that exists and that you may write to.`
    )
  }
}

const appendFailed = (file: string, text: string) => writeFailed(file, text, true)

function recordNotStarted(tally: Tally, input: Input, failedFile: string | undefined, cause: string): void {
  tally.notStarted++
  if (failedFile) {
    appendFailed(
      failedFile,
      failedRecord(input, `not started: the backfill was stopped (${cause}) before this event`, true)
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
    io.stderr.write(`\n${stopCause(io)}: starting no new postbacks; waiting for those in flight...\n`)
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

interface BatchEntry {
  status?: number
  errortype?: string
  errormessage?: string
}

/**
 * One small batch through Destination.onBatch, as Segment runs it; a result per input, in order. The subscriptions
 * are evaluated here, as Segment evaluates them before the action: an event none matches is not subscribed, and the
 * events each one matches go to it as one batch.
 */
async function runBatch(
  destination: Destination<Settings>,
  inputs: Input[],
  settings: Settings,
  subscriptions: ActiveSubscription[],
  context: { send: boolean; secrets: string[] }
): Promise<EventResult[]> {
  const results: EventResult[] = []
  const taken = new Map<ActiveSubscription, Array<{ index: number; event: SegmentEvent }>>()
  inputs.forEach((input, index) => {
    const line = input.line
    if (!input.event) {
      results[index] = { line, outcome: 'rejected', error: input.error }
      return
    }
    const { event, notEvent } = asTrack(input.event)
    const name = typeof event.event === 'string' ? event.event : undefined
    const subscription = notEvent ? undefined : matchOf(subscriptions, event)
    const wrong = subscription && wrongType(event, subscription)
    if (notEvent || wrong) results[index] = { line, event: name, outcome: 'rejected', error: notEvent ?? wrong }
    else if (!subscription) {
      results[index] = {
        line,
        event: name,
        outcome: 'not-subscribed',
        reason: notSubscribedReason(subscriptions, event)
      }
    } else taken.set(subscription, [...(taken.get(subscription) ?? []), { index, event }])
  })
  for (const [subscription, runnable] of taken) {
    let entries: BatchEntry[]
    try {
      const { subscribe, partnerAction, mapping } = subscription
      const output = await destination.onBatch(
        runnable.map((r) => r.event),
        { ...settings, subscription: { subscribe, partnerAction, mapping } }
      )
      const multistatus = (output[0] as { multistatus?: BatchEntry[] } | undefined)?.multistatus
      entries = multistatus ?? runnable.map(() => ({ status: 500, errormessage: 'the batch gave no result' }))
    } catch (error) {
      const message = redact((error as Error).message, context.secrets)
      entries = runnable.map(() => ({ status: (error as { status?: number }).status ?? 500, errormessage: message }))
    } finally {
      destination.responses.length = 0
    }
    runnable.forEach(({ index, event }, position) => {
      const entry = entries[position] ?? {}
      const base = {
        line: inputs[index].line,
        event: event.event,
        ...(subscriptions.length > 1 ? { subscription: subscription.name } : {})
      }
      if (entry.errormessage === undefined && (entry.status ?? 500) < 300) {
        results[index] = { ...base, outcome: context.send ? 'sent' : 'dry-run' }
      } else {
        results[index] = {
          ...base,
          outcome: isRetryableResult(entry) ? 'retryable' : 'rejected',
          error: blameMapping(redact(entry.errormessage ?? `status ${entry.status}`, context.secrets), subscription)
        }
      }
    })
  }
  return results
}

/** Batches of a dry run between two looks at the process's events. */
const YIELD_EVERY_BATCHES = 8

/** inputs in consecutive groups of `size`. */
function groups<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, n) => items.slice(n * size, (n + 1) * size))
}

export async function backfill(argv: string[], io: Io): Promise<number> {
  const options = optionsOf(argv)
  const settings = readSettings(io, options.settings, { sends: options.send ? '--send' : undefined })
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
  const subscriptions = subscriptionsOf(io, definition, options.subscription, options.mapping)
  const inputs = readEvents(io, options.event)
  if (options.failed) writeFailed(options.failed, '', false)

  const tally: Tally = {
    total: inputs.length,
    done: 0,
    sent: 0,
    failed: 0,
    retryable: 0,
    notSubscribed: 0,
    notStarted: 0,
    reasons: new Reasons(),
    bySubscription: []
  }
  const progress = showProgress(io, tally, options.send, options.every)
  const interrupt = watchInterrupt(io)
  const pace = createPacer(options.rate, io.sleep)
  // With a rate cap, one event a batch, so starts are spaced rather than bunched.
  const size = options.rate ? 1 : EVENTS_PER_BATCH
  const context = { send: options.send, secrets }
  try {
    let batches = 0
    await forEachBounded(
      groups(inputs, size),
      Math.max(1, Math.floor(MAX_POSTBACKS_IN_FLIGHT / size)),
      async (batch) => {
        // A dry run never waits on anything: let Ctrl-C and the progress timer (events of the process) be seen.
        if (!options.send && ++batches % YIELD_EVERY_BATCHES === 0) await new Promise((done) => setImmediate(done))
        if (!interrupt.interrupted) await pace()
        if (interrupt.interrupted) {
          batch.forEach((input) => recordNotStarted(tally, input, options.failed, stopCause(io)))
          return
        }
        const results = await runBatch(destination, batch, settings, subscriptions, context)
        batch.forEach((input, index) => record(tally, input, results[index], options.failed))
        progress.update()
      }
    )
  } finally {
    progress.stop()
    interrupt.stop()
  }
  io.stderr.write(
    `${summaryOf(io, tally, options.send, options.failed, interrupt.interrupted ? stopCause(io) : undefined)}\n`
  )
  if (interrupt.interrupted && tally.notStarted > 0) return stoppedCode(io)
  return tally.failed + tally.notStarted > 0 ? EXIT.someFailed : EXIT.ok
}
