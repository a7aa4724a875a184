// npm start: what exactly will Everflow get for this event? Runs events through the very path Segment uses
// (Destination.onEvent: subscription, mapping, validation, settings, the action) and prints the resolved
// payload and the postback URL. Nothing is sent without --send.
import { readFileSync } from 'fs'
import path from 'path'
import { parseArgs } from 'util'
import { defaultValues, Destination, Headers, IntegrationError } from '@segment/actions-core'
import type { ActionDefinition, JSONObject, ModifiedResponse, RequestClient, SegmentEvent } from '@segment/actions-core'
import { createDestination } from './index'
import type { Settings } from './generated-types'
import { parseSettings } from './settings'
import { redact, secretsOf } from './secrets'
import { isRetryable } from './trackConversion/deliver'
import type { Payload } from './trackConversion/generated-types'
import type { Transport } from './trackConversion/send'

const EXAMPLES = path.join(__dirname, '..', 'examples')
const USAGE = `Usage: npm start -- [options]

Shows the Everflow postback that Segment would send for each event, through the same code Segment runs.

Options:
  --event FILE     a Segment event as JSON, or NDJSON with one event per line; "-" reads stdin
                   (default: examples/order-completed.json)
  --settings FILE  JSON with the destination settings: apiKey, eventMapping, postbackUrl, networkId,
                   verificationToken, apiRegion (default: examples/settings.json). Each may instead come
                   from EVERFLOW_API_KEY, EVERFLOW_EVENT_MAPPING, EVERFLOW_POSTBACK_URL, EVERFLOW_NETWORK_ID,
                   EVERFLOW_VERIFICATION_TOKEN or EVERFLOW_API_REGION, which win over the file.
  --mapping FILE   JSON mapping for Track Conversion that replaces the default mapping
  --send           really send the postbacks (without it, nothing leaves the machine)
  --json           one JSON result object per event on stdout
  --help           this text

Exit codes: 0 every event ok; 1 some events failed; 2 bad usage or bad settings.`

const SETTINGS_FROM_ENV: Array<[keyof Settings, string]> = [
  ['apiKey', 'EVERFLOW_API_KEY'],
  ['eventMapping', 'EVERFLOW_EVENT_MAPPING'],
  ['postbackUrl', 'EVERFLOW_POSTBACK_URL'],
  ['networkId', 'EVERFLOW_NETWORK_ID'],
  ['verificationToken', 'EVERFLOW_VERIFICATION_TOKEN'],
  ['apiRegion', 'EVERFLOW_API_REGION']
]

// Test-only: aims --send at a server on this machine. Only loopback addresses are taken.
const TEST_ORIGIN_VARIABLE = 'EVERFLOW_CLI_TEST_POSTBACK_ORIGIN'

class UsageError extends Error {}

type Outcome = 'dry-run' | 'sent' | 'rejected' | 'retryable'

interface EventResult {
  line: number
  outcome: Outcome
  event?: string
  payload?: Payload
  url?: string
  status?: number
  error?: string
}

interface Input {
  line: number
  event?: SegmentEvent
  error?: string
}

function readText(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`Cannot read ${file === '-' ? 'standard input' : file}: ${(error as Error).message}`)
  }
}

function readJsonObject(file: string, what: string): JSONObject {
  let value: unknown
  try {
    value = JSON.parse(readText(file))
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`${what} file ${file} is not JSON: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${what} file ${file} must hold one JSON object.`)
  }
  return value as JSONObject
}

/** One JSON event, or NDJSON: one event per line, each line judged on its own. */
function readEvents(file: string): Input[] {
  const text = readText(file)
  try {
    const whole = JSON.parse(text) as unknown
    if (whole !== null && typeof whole === 'object' && !Array.isArray(whole)) {
      return [{ line: 1, event: whole as SegmentEvent }]
    }
  } catch {
    // Not one JSON document: read it as NDJSON.
  }
  const inputs: Input[] = []
  text.split(/\r?\n/).forEach((content, index) => {
    if (content.trim() === '') return
    const line = index + 1
    try {
      const event = JSON.parse(content) as unknown
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        inputs.push({ line, error: 'not a JSON object: each line must hold one event object' })
      } else {
        inputs.push({ line, event: event as SegmentEvent })
      }
    } catch (error) {
      inputs.push({ line, error: `not JSON: ${(error as Error).message}` })
    }
  })
  return inputs
}

function readSettings(file: string): Settings {
  const settings = { ...readJsonObject(file, 'Settings') } as unknown as Record<string, string | undefined>
  for (const [key, variable] of SETTINGS_FROM_ENV) {
    if (process.env[variable] !== undefined) settings[key] = process.env[variable]
  }
  return settings as unknown as Settings
}

function testTransport(): Transport {
  const origin = process.env[TEST_ORIGIN_VARIABLE]
  if (!origin) return {}
  const url = new URL(origin)
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new UsageError(`${TEST_ORIGIN_VARIABLE} may only name a loopback http origin, such as http://127.0.0.1:8080.`)
  }
  return { postbackOrigin: url.origin }
}

/** Stands in for the framework's request in a dry run: records the URL and answers as Everflow does. */
function dryRunRequest(seen: { url?: string }): RequestClient {
  return ((url: string) => {
    seen.url = url
    return Promise.resolve({ status: 200, statusText: 'OK (dry run)', headers: new Headers(), content: '', data: '' })
  }) as unknown as RequestClient
}

function recordingRequest(request: RequestClient, seen: { url?: string }): RequestClient {
  return (url: string, options?: object) => {
    seen.url = url
    return request(url, options)
  }
}

/** A reason without the values of one event, so equal reasons group in the summary. */
function reasonOf(message: string): string {
  const first = message.split(/(?<=\.)\s/)[0].split(': ')[0]
  return first.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\b[0-9a-f]{16,}\b/gi, '…')
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      event: { type: 'string' },
      settings: { type: 'string' },
      mapping: { type: 'string' },
      send: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    },
    strict: true,
    allowPositionals: false
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const settings = readSettings(values.settings ?? path.join(EXAMPLES, 'settings.json'))
  parseSettings(settings)
  const secrets = secretsOf(settings)
  const inputs = readEvents(values.event ?? path.join(EXAMPLES, 'order-completed.json'))

  const definition = createDestination(testTransport())
  const action = definition.actions.trackConversion as ActionDefinition<Settings, Payload>
  const seen: { payload?: Payload; url?: string } = {}
  // The same action, observed: it records the payload the framework resolved and the URL it requests.
  const observed: ActionDefinition<Settings, Payload> = {
    ...action,
    perform: (request, data) => {
      seen.payload = data.payload
      const result: unknown = action.perform(values.send ? recordingRequest(request, seen) : dryRunRequest(seen), data)
      return result
    }
  }
  const destination = new Destination({ ...definition, actions: { trackConversion: observed } })
  try {
    destination.validateSettings(settings)
  } catch (error) {
    throw new UsageError(`Settings: ${(error as Error).message}`)
  }
  const subscription = {
    subscribe: 'type = "track"',
    partnerAction: 'trackConversion',
    mapping: values.mapping
      ? readJsonObject(values.mapping, 'Mapping')
      : defaultValues(definition.actions.trackConversion.fields)
  }

  const results: EventResult[] = []
  const progress = inputs.length > 1
  for (const input of inputs) {
    const result = await runOne(input)
    results.push(result)
    print(result)
    if (progress) {
      const failed = results.filter((r) => r.outcome === 'rejected' || r.outcome === 'retryable').length
      process.stderr.write(`progress: ${results.length}/${inputs.length} events, ${failed} failed\n`)
    }
  }
  summarize(results)
  return results.every((result) => result.outcome === 'sent' || result.outcome === 'dry-run') ? 0 : 1

  async function runOne(input: Input): Promise<EventResult> {
    if (input.error || !input.event) return { line: input.line, outcome: 'rejected', error: input.error }
    const event = input.event
    seen.payload = undefined
    seen.url = undefined
    const base = { line: input.line, event: typeof event.event === 'string' ? event.event : event.type }
    if (event.type !== 'track') {
      return {
        ...base,
        outcome: 'rejected',
        error: `a ${JSON.stringify(event.type)} call is not a track event; Track Conversion takes track events only`
      }
    }
    try {
      const output = await destination.onEvent(event, { ...settings, subscription })
      destination.responses.length = 0
      const response = output.find((r) => r.output === 'Action Executed')?.data as ModifiedResponse | undefined
      return {
        ...base,
        outcome: values.send ? 'sent' : 'dry-run',
        payload: seen.payload,
        url: seen.url && redact(seen.url, secrets),
        status: response?.status
      }
    } catch (error) {
      destination.responses.length = 0
      return {
        ...base,
        outcome: isRetryable(error) ? 'retryable' : 'rejected',
        payload: seen.payload,
        url: seen.url && redact(seen.url, secrets),
        error: redact((error as Error).message, secrets)
      }
    }
  }

  function print(result: EventResult): void {
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`)
      return
    }
    const lines = [`line ${result.line}${result.event ? ` (${result.event})` : ''}: ${result.outcome}`]
    if (result.payload) lines.push(`  payload: ${JSON.stringify(result.payload, null, 2).replace(/\n/g, '\n  ')}`)
    if (result.url) {
      const how = result.outcome === 'dry-run' ? 'would send (dry run; --send sends it)' : 'sent'
      lines.push(`  ${how}: GET ${result.url}`)
    }
    if (result.status !== undefined && result.outcome === 'sent') lines.push(`  Everflow answered ${result.status}`)
    if (result.error) lines.push(`  error: ${result.error}`)
    process.stdout.write(`${lines.join('\n')}\n`)
  }

  function summarize(all: EventResult[]): void {
    const count = (outcome: Outcome) => all.filter((r) => r.outcome === outcome).length
    const reasons = new Map<string, number>()
    for (const r of all) {
      if (r.outcome === 'rejected' && r.error) reasons.set(reasonOf(r.error), (reasons.get(reasonOf(r.error)) ?? 0) + 1)
    }
    const lines = [
      `summary: ${values.send ? `sent ${count('sent')}` : `would send ${count('dry-run')}`}, ` +
        `rejected ${count('rejected')}, retryable ${count('retryable')}`
    ]
    for (const [reason, times] of [...reasons].sort((a, b) => b[1] - a[1])) lines.push(`  ${times} x ${reason}`)
    process.stderr.write(`${lines.join('\n')}\n`)
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message =
      error instanceof UsageError ||
      error instanceof IntegrationError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
        ? (error as Error).message
        : `unexpected error: ${(error as Error).stack ?? String(error)}`
    process.stderr.write(`${message}\n${error instanceof IntegrationError ? '' : 'Run with --help for usage.\n'}`)
    process.exit(2)
  }
)
