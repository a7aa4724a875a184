// verify: what did Everflow really record? A postback answered 200 can still be dropped (allow-list, duplicate,
// expired click); the outcome shows only in Everflow's reporting, which this asks per transaction id.
import { parseArgs } from 'util'
import { createEverflowApi, REGION_NAMES, regionOf } from '../everflow-api'
import type { ApiAnswer, EverflowApi } from '../everflow-api'
import type { Settings } from '../generated-types'
import { readEvents, readText } from './shared/events'
import { EXIT, UsageError, requestOf, stopCause, stoppedCode } from './shared/io'
import type { Io } from './shared/io'
import { readSettings, testTransport } from './shared/settings'
import { dryRun } from './preview'

/** Well below the ~30 requests/s a network's keys share, so a verify run never starves the network's other tools. */
export const DEFAULT_REQUESTS_PER_SECOND = 5
const RETRIES_ON_RATE_LIMIT = 5

export const VERIFY_OPTIONS = {
  rate: { type: 'string' },
  'verify-wait': { type: 'string' },
  'verify-tries': { type: 'string' }
} as const

export const VERIFY_HELP = `  --ids FILE       transaction ids, one per line (or give them as arguments)
  --event FILE     or: the events a backfill or --send took (a file as backfill reads it); only those that
                   would have been sent are looked up, as a dry run with the same settings decides
  --subscription FQL, --mapping FILE  with --event: as given to that backfill
  --rate N         Everflow API requests per second (default ${DEFAULT_REQUESTS_PER_SECOND}; a network's keys share about 30)
  --json           one JSON object per transaction on stdout`

/** What Everflow's error codes mean and what to change (Everflow help desk, Conversion Report error codes). */
const ERROR_CODES: Record<number, string> = {
  1: 'throttled: the offer or partner is capped or throttled in Everflow; check the caps and throttle settings',
  2: "blocked: the sender's IP is not on the advertiser's allow-list; add the server's IP or turn off Enforce Advertiser Whitelist",
  3: "blocked: the sending domain is not on the advertiser's allow-list; add it or turn off Enforce Advertiser Whitelist",
  4: 'a cap was reached on the offer; raise or reset the cap in Everflow',
  5: "outside the offer's conversion lookback window (30 days by default): send conversions sooner or widen the window",
  6: 'the postback did not use HTTPS; use the https Postback URL',
  7: 'invalid protocol in the postback; use the Global Postback URL as Everflow shows it',
  8: 'duplicate: this click already has a conversion and the offer does not allow duplicates; nothing to resend',
  10: "the conversion came from another domain than the click's; check the Postback URL's tracking domain",
  11: 'wrong network id (nid): use the Postback URL (or Network ID) of the network that owns the click',
  12: 'invalid transaction id: context.referrer.id must be the Everflow transaction id of the click, unchanged',
  13: 'click not found or expired (raw clicks are kept about 90 days): the transaction id is unknown or too old',
  20: "outside the offer's conversion lookback window (30 days by default): send conversions sooner or widen the window",
  21: 'invalid verification token: set Verification Token to the token of the offer in Everflow',
  25: "the event id does not belong to the offer: check the Event Mapping ids against the offer's events"
}

export function explainErrorCode(code: number): string {
  return ERROR_CODES[code] ?? "see Everflow's Conversion Report error codes reference"
}

/** One conversion or post-conversion event as Everflow recorded it. */
export interface Recorded {
  conversionId: string
  what: string
  recorded: boolean
  status?: string
  amount?: number
  orderId?: string
  at?: string
  errorCode?: number
  errorMessage?: string
  explanation?: string
}

export interface TransactionReport {
  transactionId: string
  click: 'found' | 'not found' | 'unknown'
  clickAt?: string
  entries: Recorded[]
  problems: string[]
}

const utc = (seconds: unknown) =>
  typeof seconds === 'number' && seconds > 0
    ? `${new Date(seconds * 1000)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, '')} UTC`
    : undefined

const text = (value: unknown) =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined

type Row = Record<string, unknown>

function recordedOf(row: Row): Recorded {
  const status = text(row.status)
  const errorCode = typeof row.error_code === 'number' && row.error_code > 0 ? row.error_code : undefined
  const rejected = errorCode !== undefined || status === 'rejected' || status === 'invalid'
  const event = text(row.event)
  return {
    conversionId: text(row.conversion_id) ?? '?',
    what: row.is_event ? `event ${event ? JSON.stringify(event) : '(unnamed)'}` : 'base conversion',
    recorded: !rejected,
    status,
    amount: typeof row.sale_amount === 'number' ? row.sale_amount : undefined,
    orderId: text(row.order_id),
    at: utc(row.conversion_unix_timestamp),
    errorCode,
    errorMessage: text(row.error_message),
    explanation: errorCode !== undefined ? explainErrorCode(errorCode) : undefined
  }
}

function rowsOf(body: unknown, key: string): Row[] {
  const rows = (body as Record<string, unknown> | undefined)?.[key]
  return Array.isArray(rows) ? rows.filter((row): row is Row => !!row && typeof row === 'object') : []
}

/** A 401/403 ends the run: every other lookup would fail the same way. */
function refusal(answer: ApiAnswer, region: string): UsageError | undefined {
  if (answer.kind === 'unauthorized') {
    return new UsageError(
      `Everflow's ${region} API refused the API Key (401): it is invalid or revoked, or the account is on the other region's API (API Region). Create a network API key under Control Center > Security.`
    )
  }
  if (answer.kind === 'forbidden') {
    return new UsageError(
      `Everflow's ${region} API answered 403: this API Key cannot read network reporting. verify needs a network API key with reporting access (Control Center > Security), not an advertiser or partner key.`
    )
  }
  return undefined
}

function failureOf(answer: ApiAnswer): string {
  switch (answer.kind) {
    case 'rate-limited':
      return "Everflow's API rate limit was still hit after backing off; run verify again later with a lower --rate"
    case 'unreachable':
      return `Everflow's API could not be reached (${answer.reason}); run verify again later`
    case 'unexpected':
      return `Everflow's API answered ${answer.status}`
    default:
      return `Everflow's API answered ${answer.kind}`
  }
}

/** Asks Everflow about one transaction: its click, then its conversions and events. */
export async function lookUp(api: EverflowApi, transactionId: string): Promise<TransactionReport> {
  const region = REGION_NAMES[api.region]
  const report: TransactionReport = { transactionId, click: 'unknown', entries: [], problems: [] }
  const id = encodeURIComponent(transactionId)
  const overview = await api.get(`/networks/reporting/transactions/${id}`)
  const refused = refusal(overview, region)
  if (refused) throw refused
  const click = overview.kind === 'ok' ? (overview.body as { click?: Row } | undefined)?.click : undefined
  if (
    (overview.kind === 'unexpected' && overview.status === 404) ||
    (overview.kind === 'ok' && !click?.transaction_id)
  ) {
    report.click = 'not found'
    report.problems.push(
      'click not found: Everflow has no click with this transaction id. Check that context.referrer.id holds the id the Everflow SDK or the _ef_transaction_id URL parameter gave (clicks are purged after about 90 days).'
    )
    return report
  }
  if (overview.kind !== 'ok') {
    report.problems.push(failureOf(overview))
    return report
  }
  report.click = 'found'
  report.clickAt = utc(click?.unix_timestamp)
  const events = await api.get(`/networks/reporting/events/${id}`)
  const eventsRefused = refusal(events, region)
  if (eventsRefused) throw eventsRefused
  if (events.kind !== 'ok') report.problems.push(`events could not be read: ${failureOf(events)}`)

  const seen = new Set<string>()
  for (const row of [
    ...rowsOf(overview.body, 'conversions'),
    ...(events.kind === 'ok' ? rowsOf(events.body, 'events') : [])
  ]) {
    const entry = recordedOf(row)
    if (seen.has(entry.conversionId)) continue
    seen.add(entry.conversionId)
    report.entries.push(entry)
  }
  if (report.entries.length === 0) {
    report.problems.push(
      'no conversion recorded for this click yet (Everflow reports within minutes; if it stays empty, the postback did not reach Everflow)'
    )
  }
  for (const entry of report.entries.filter((e) => !e.recorded)) {
    report.problems.push(`${entry.what} ${entry.conversionId} rejected`)
  }
  const byOrder = new Map<string, Recorded[]>()
  for (const entry of report.entries.filter((e) => e.recorded && e.orderId)) {
    const key = `${entry.what}\u0000${entry.orderId}`
    byOrder.set(key, [...(byOrder.get(key) ?? []), entry])
  }
  for (const same of byOrder.values()) {
    if (same.length < 2) continue
    report.problems.push(
      `order id ${same[0].orderId} recorded ${same.length} times as ${same[0].what} (${same.map((e) => e.conversionId).join(', ')}): ` +
        'Segment delivers at least once and a retried postback can count twice on an offer that allows duplicates; ' +
        "reject the extra one in Everflow's Conversion Report"
    )
  }
  return report
}

export function describeReport(report: TransactionReport): string {
  const lines = [
    `transaction ${report.transactionId}: ${
      report.click === 'found'
        ? `click found${report.clickAt ? ` (${report.clickAt})` : ''}`
        : report.click === 'not found'
          ? 'click not found'
          : 'not checked'
    }`
  ]
  for (const entry of report.entries) {
    const facts = [
      entry.amount !== undefined ? `amount ${entry.amount}` : undefined,
      entry.orderId ? `order ${entry.orderId}` : undefined,
      entry.at ? `at ${entry.at}` : undefined
    ].filter(Boolean)
    if (entry.recorded) {
      lines.push(
        `  ${entry.what} ${entry.conversionId}: recorded${entry.status ? ` (${entry.status})` : ''}${facts.length ? `; ${facts.join(', ')}` : ''}`
      )
    } else {
      const code = entry.errorCode !== undefined ? `error code ${entry.errorCode}` : `status ${entry.status}`
      lines.push(
        `  ${entry.what} ${entry.conversionId}: REJECTED, ${code}${entry.errorMessage ? ` ("${entry.errorMessage}")` : ''}${facts.length ? `; ${facts.join(', ')}` : ''}`
      )
      if (entry.explanation) lines.push(`    what it means: ${entry.explanation}`)
    }
  }
  for (const problem of report.problems.filter((p) => !/ rejected$/.test(p))) lines.push(`  problem: ${problem}`)
  return lines.join('\n')
}

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isFinite(number) || number < 0)
    throw new UsageError(`${name} must be a number of 0 or more, not ${value}.`)
  return number
}

export function apiFor(io: Io, settings: Settings, rate?: string): EverflowApi {
  const apiKey = settings.apiKey?.trim()
  if (!apiKey) throw new UsageError('verify needs the API Key: set apiKey in the settings file or EVERFLOW_API_KEY.')
  const requestsPerSecond = positiveNumber(rate, '--rate', DEFAULT_REQUESTS_PER_SECOND)
  return createEverflowApi({
    request: requestOf(io),
    apiKey,
    region: regionOf(settings.apiRegion),
    apiOrigin: testTransport(io).apiOrigin,
    requestsPerSecond: requestsPerSecond || undefined,
    retriesOnRateLimit: RETRIES_ON_RATE_LIMIT,
    sleep: io.sleep,
    onRateLimited: (waitMs, retry) =>
      io.stderr.write(
        `Everflow's API rate limit was hit (429): waiting ${Math.ceil(waitMs / 1000)} s before retry ${retry} of ${RETRIES_ON_RATE_LIMIT}.\n`
      )
  })
}

async function report(io: Io, api: EverflowApi, ids: string[], json: boolean): Promise<TransactionReport[]> {
  const reports: TransactionReport[] = []
  for (const id of ids) {
    if (io.signal?.aborted) {
      io.stderr.write(`${stopCause(io)}: stopped; ${ids.length - reports.length} transaction(s) not looked up.\n`)
      break
    }
    const one = await lookUp(api, id)
    reports.push(one)
    io.stdout.write(`${json ? JSON.stringify(one) : describeReport(one)}\n`)
  }
  const bad = reports.filter((r) => r.problems.length > 0).length
  io.stderr.write(
    `verify summary: ${reports.length} transactions, ${reports.length - bad} as expected, ${bad} with problems\n`
  )
  return reports
}

/**
 * After --send: Everflow's reports lag behind its postback answers, so wait, look up, and look again (a bounded
 * number of times) for the transactions whose conversions do not show yet. Returns whether problems remain.
 */
export async function verifySent(
  io: Io,
  settings: Settings,
  sentIds: string[],
  options: { rate?: string; 'verify-wait'?: string; 'verify-tries'?: string; json?: boolean }
): Promise<boolean> {
  if (sentIds.length === 0) {
    io.stderr.write('verify: nothing was sent, so there is nothing to look up.\n')
    return false
  }
  const api = apiFor(io, settings, options.rate)
  const waitMs = positiveNumber(options['verify-wait'], '--verify-wait', 30) * 1000
  const tries = Math.max(1, Math.floor(positiveNumber(options['verify-tries'], '--verify-tries', 5)))
  const expected = new Map<string, number>()
  for (const id of sentIds) expected.set(id, (expected.get(id) ?? 0) + 1)
  let pending = [...expected.keys()]
  const done = new Map<string, TransactionReport>()
  for (let attempt = 1; attempt <= tries && pending.length > 0; attempt++) {
    io.stderr.write(
      `verify: waiting ${waitMs / 1000} s for Everflow's reporting (check ${attempt} of ${tries}, ${pending.length} transactions)...\n`
    )
    await (io.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))))(waitMs)
    const still: string[] = []
    for (const id of pending) {
      const found = await lookUp(api, id)
      done.set(id, found)
      const complete = found.click === 'not found' || found.entries.length >= (expected.get(id) ?? 1)
      if (!complete) still.push(id)
    }
    pending = still
  }
  const reports = [...expected.keys()].map((id) => done.get(id) as TransactionReport)
  for (const id of pending) {
    const found = done.get(id) as TransactionReport
    found.problems.push(
      `${expected.get(id)} conversion(s) sent but ${found.entries.length} in Everflow's report after ${tries} checks`
    )
  }
  for (const one of reports) io.stdout.write(`${options.json ? JSON.stringify(one) : describeReport(one)}\n`)
  const bad = reports.filter((r) => r.problems.length > 0).length
  io.stderr.write(
    `verify summary: ${reports.length} transactions, ${reports.length - bad} as expected, ${bad} with problems\n`
  )
  return bad > 0
}

export async function verify(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      settings: { type: 'string' },
      ids: { type: 'string' },
      event: { type: 'string' },
      subscription: { type: 'string' },
      mapping: { type: 'string' },
      rate: { type: 'string' },
      json: { type: 'boolean', default: false }
    },
    strict: true,
    allowPositionals: true
  })
  const ids = [...positionals]
  if (values.ids) {
    ids.push(
      ...readText(io, values.ids)
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== '')
    )
  }
  if ((values.subscription !== undefined || values.mapping !== undefined) && !values.event) {
    throw new UsageError(
      '--subscription and --mapping choose which events of --event FILE were sent: use them with --event.'
    )
  }
  const settings = readSettings(io, values.settings, {
    sends: 'verify',
    required: values.event ? undefined : ['apiKey']
  })
  if (values.event) {
    // Only what would have been sent: not subscribed events, other calls and refused events never reached Everflow.
    const results = await dryRun(io, settings, readEvents(io, values.event), values)
    let skipped = 0
    for (const result of results) {
      if (result.outcome === 'dry-run' && result.transactionId) ids.push(result.transactionId)
      else skipped++
    }
    if (skipped > 0) {
      io.stderr.write(
        `verify: ${skipped} of ${results.length} event(s) not looked up: they would not have been sent (not subscribed, not a track call, refused, or with no transaction id; a dry run of the file shows why)\n`
      )
    }
    if (ids.length === 0 && positionals.length === 0 && !values.ids) {
      io.stderr.write('verify: no event of the file would have been sent, so there is nothing to look up.\n')
      return EXIT.ok
    }
  }
  if (ids.length === 0) {
    throw new UsageError('verify needs transaction ids: as arguments, --ids FILE, or --event FILE.')
  }
  const api = apiFor(io, settings, values.rate)
  const unique = [...new Set(ids)]
  const reports = await report(io, api, unique, values.json)
  if (reports.length < unique.length) return stoppedCode(io)
  return reports.some((r) => r.problems.length > 0) ? EXIT.someFailed : EXIT.ok
}
