// backfill: send an NDJSON file of events (a replay after an outage, a move from the classic destination) through
// the destination as Segment runs it, concurrently with the batch path's bound, with progress, a file of what
// failed, and a clean stop on Ctrl-C.
import { appendFileSync, writeFileSync } from 'fs'
import { parseArgs } from 'util'
import { Presets, SingleBar } from 'cli-progress'
import { Destination } from '@segment/actions-core'
import { createPacer } from '../everflow-api'
import { parseSettings } from '../settings'
import { secretsOf } from '../secrets'
import { forEachBounded } from '../pool'
import { MAX_POSTBACKS_IN_FLIGHT } from '../trackConversion'
import {
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
import { runEvent } from './preview'
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
  const { everflowFailure: _previous, ...event } = (input.event ?? {}) as Record<string, unknown>
  void _previous
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

export async function backfill(argv: string[], io: Io): Promise<number> {
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

  const settings = readSettings(io, values.settings)
  parseSettings(settings)
  const secrets = secretsOf(settings)
  const definition = destinationFor(io)
  // Sending needs no observation; a dry run replaces the request. Either way, many events run at once.
  const destination = values.send ? new Destination(definition) : observedDestination(definition, false, {})
  try {
    destination.validateSettings(settings)
  } catch (error) {
    throw new UsageError(`Settings: ${(error as Error).message}`)
  }
  const subscription = subscriptionOf(io, definition, values.subscription, values.mapping)
  const inputs = readEvents(io, values.event)
  if (values.failed) writeFileSync(values.failed, '')

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
  const fail = (input: Input, reason: string, retryable: boolean) => {
    if (values.failed) appendFileSync(values.failed, failedRecord(input, reason, retryable))
  }
  const started = Date.now()
  const bar = io.stderr.isTTY
    ? new SingleBar(
        {
          stream: io.stderr as NodeJS.WriteStream,
          format: 'backfill {bar} {value}/{total} lines | {rate}/s | {eta_formatted} left | failed {failed}',
          hideCursor: true
        },
        Presets.shades_classic
      )
    : undefined
  bar?.start(tally.total, 0, { rate: 0, failed: 0 })
  const timer = bar
    ? undefined
    : setInterval(() => io.stderr.write(`${progressLine(tally, started, values.send)}\n`), every * 1000)
  timer?.unref()
  const pace = createPacer(rate, io.sleep)
  let interrupted = false
  const onAbort = () => {
    interrupted = true
    io.stderr.write(`\nCtrl-C: starting no new postbacks; waiting for those in flight...\n`)
  }
  if (io.signal?.aborted) onAbort()
  else io.signal?.addEventListener('abort', onAbort, { once: true })

  const record = (input: Input, result: EventResult) => {
    tally.done++
    if (result.outcome === 'sent' || result.outcome === 'dry-run') tally.sent++
    else if (result.outcome === 'not-subscribed') tally.notSubscribed++
    else {
      tally.failed++
      if (result.outcome === 'retryable') tally.retryable++
      const reason = result.error ?? result.outcome
      tally.reasons.set(reasonOf(reason), (tally.reasons.get(reasonOf(reason)) ?? 0) + 1)
      fail(input, reason, result.outcome === 'retryable')
    }
    bar?.update(tally.done, {
      rate: Math.round(tally.done / Math.max(0.001, (Date.now() - started) / 1000)),
      failed: tally.failed
    })
  }
  const notStarted = (input: Input) => {
    tally.notStarted++
    fail(input, 'not started: the backfill was stopped (Ctrl-C) before this event', true)
  }

  try {
    await forEachBounded(inputs, MAX_POSTBACKS_IN_FLIGHT, async (input) => {
      if (interrupted) return notStarted(input)
      await pace()
      if (interrupted) return notStarted(input)
      record(input, await runEvent(destination, input, settings, subscription, {}, { send: values.send, secrets }))
    })
  } finally {
    bar?.stop()
    if (timer) clearInterval(timer)
    io.signal?.removeEventListener('abort', onAbort)
  }
  io.stderr.write(`${summaryOf(tally, values.send, values.failed, interrupted)}\n`)
  return tally.failed + tally.notStarted > 0 ? EXIT.someFailed : EXIT.ok
}
