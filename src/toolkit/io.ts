// Shared plumbing of the toolkit's commands: where output goes, reading events and settings, the test-only
// loopback origins, and how outcomes are reported. Every command takes an Io, so tests run them in-process.
import { readFileSync } from 'fs'
import path from 'path'
import { createRequestClient, defaultValues, Destination, Headers } from '@segment/actions-core'
import type {
  ActionDefinition,
  DestinationDefinition,
  JSONObject,
  RequestClient,
  SegmentEvent
} from '@segment/actions-core'
import { createDestination } from '../index'
import { dnsLookup } from '../addresses'
import type { HostLookup } from '../addresses'
import type { Settings } from '../generated-types'
import type { Payload } from '../trackConversion/generated-types'

export const EXAMPLES = path.join(__dirname, '..', '..', 'examples')

/** Where a command writes and what it reads from its surroundings; the real process or a test's stand-ins. */
export interface Io {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown; isTTY?: boolean }
  env: Record<string, string | undefined>
  readStdin: () => string
  /** Aborted on Ctrl-C: a long run stops starting new work. */
  signal?: AbortSignal
  /** Waiting, replaceable so tests need not wait for real. */
  sleep?: (ms: number) => Promise<void>
  /** The request client for Everflow's Network API: core's client, as the settings check gets from the framework. */
  request?: RequestClient
  /** Resolves hosts for the private-address check; Node's resolver unless a test answers instead. */
  lookup?: HostLookup
}

export function requestOf(io: Io): RequestClient {
  return io.request ?? createRequestClient()
}

/** Bad usage, a bad file or bad settings: exit code 2, with this message. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, someFailed: 1, usage: 2 } as const

export function readText(io: Io, file: string): string {
  try {
    return file === '-' ? io.readStdin() : readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`Cannot read ${file === '-' ? 'standard input' : file}: ${(error as Error).message}`)
  }
}

export function readJsonObject(io: Io, file: string, what: string): JSONObject {
  let value: unknown
  try {
    value = JSON.parse(readText(io, file))
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`${what} file ${file} is not JSON: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${what} file ${file} must hold one JSON object.`)
  }
  return value as JSONObject
}

/** One input line: an event, or why it is not one (kept with its text so nothing is lost). */
export interface Input {
  line: number
  event?: SegmentEvent
  error?: string
  text?: string
}

/** One JSON event, or NDJSON: one event per line, each line judged on its own. */
export function readEvents(io: Io, file: string): Input[] {
  const text = readText(io, file)
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
        inputs.push({ line, error: 'not a JSON object: each line must hold one event object', text: content })
      } else {
        inputs.push({ line, event: event as SegmentEvent })
      }
    } catch (error) {
      inputs.push({ line, error: `not JSON: ${(error as Error).message}`, text: content })
    }
  })
  return inputs
}

const SETTINGS_FROM_ENV: Array<[keyof Settings, string]> = [
  ['apiKey', 'EVERFLOW_API_KEY'],
  ['eventMapping', 'EVERFLOW_EVENT_MAPPING'],
  ['postbackUrl', 'EVERFLOW_POSTBACK_URL'],
  ['networkId', 'EVERFLOW_NETWORK_ID'],
  ['verificationToken', 'EVERFLOW_VERIFICATION_TOKEN'],
  ['apiRegion', 'EVERFLOW_API_REGION']
]

export const SETTINGS_HELP = `  --settings FILE  JSON with the destination settings: apiKey, eventMapping, postbackUrl, networkId,
                   verificationToken, apiRegion (default: examples/settings.json). Each may instead come
                   from EVERFLOW_API_KEY, EVERFLOW_EVENT_MAPPING, EVERFLOW_POSTBACK_URL, EVERFLOW_NETWORK_ID,
                   EVERFLOW_VERIFICATION_TOKEN or EVERFLOW_API_REGION, which win over the file.`

/** The settings file, with the environment's values over it. API Region is read in any case (EU, eu). */
export function readSettings(io: Io, file: string | undefined): Settings {
  const settings = { ...readJsonObject(io, file ?? path.join(EXAMPLES, 'settings.json'), 'Settings') } as Record<
    string,
    unknown
  >
  for (const [key, variable] of SETTINGS_FROM_ENV) {
    if (io.env[variable] !== undefined) settings[key] = io.env[variable]
  }
  if (typeof settings.apiRegion === 'string') settings.apiRegion = settings.apiRegion.trim().toLowerCase()
  // A settings file may hold Event Mapping as an object (the classic destination's map); Segment's form holds
  // text, so it goes in as the same mapping written as JSON.
  if (settings.eventMapping !== null && typeof settings.eventMapping === 'object') {
    settings.eventMapping = JSON.stringify(settings.eventMapping)
  }
  return settings as unknown as Settings
}

/** Test-only: aim postbacks and API calls at servers on this machine. Only loopback http origins are taken. */
const TEST_POSTBACK_ORIGIN = 'EVERFLOW_CLI_TEST_POSTBACK_ORIGIN'
const TEST_API_ORIGIN = 'EVERFLOW_CLI_TEST_API_ORIGIN'

function loopbackOrigin(io: Io, variable: string): string | undefined {
  const value = io.env[variable]
  if (!value) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`${variable} is not a URL.`)
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new UsageError(`${variable} may only name a loopback http origin, such as http://127.0.0.1:8080.`)
  }
  return url.origin
}

export function testTransport(io: Io): { postbackOrigin?: string; apiOrigin?: string } {
  return { postbackOrigin: loopbackOrigin(io, TEST_POSTBACK_ORIGIN), apiOrigin: loopbackOrigin(io, TEST_API_ORIGIN) }
}

/** The preset's subscription: what Segment sends to the action when a user adds the destination. */
export function presetSubscription(definition: DestinationDefinition<Settings>): string {
  return definition.presets?.[0] && 'subscribe' in definition.presets[0]
    ? definition.presets[0].subscribe
    : 'type = "track"'
}

export function subscriptionOf(io: Io, definition: DestinationDefinition<Settings>, fql?: string, mapping?: string) {
  return {
    subscribe: fql ?? presetSubscription(definition),
    partnerAction: 'trackConversion',
    mapping: mapping ? readJsonObject(io, mapping, 'Mapping') : defaultValues(definition.actions.trackConversion.fields)
  }
}

/** Stands in for the framework's request in a dry run: records the URL and answers as Everflow does. */
export function dryRunRequest(seen: { url?: string }): RequestClient {
  return ((url: string) => {
    seen.url = url
    return Promise.resolve({ status: 200, statusText: 'OK', headers: new Headers(), content: '', data: '' })
  }) as unknown as RequestClient
}

function recordingRequest(request: RequestClient, seen: Seen): RequestClient {
  return (async (url: string, options?: object) => {
    seen.url = url
    const response = await request(url, options)
    seen.status = response.status
    return response
  }) as RequestClient
}

/** What the action saw of the event being run: the payload the framework resolved, the URL it requested, the answer. */
export interface Seen {
  payload?: Payload
  url?: string
  status?: number
}

/**
 * The destination as Segment runs it, with the action observed (payload and URL recorded in `seen`) and, in a
 * dry run, its request replaced. One event at a time when `seen` is read.
 */
export function observedDestination(
  definition: DestinationDefinition<Settings>,
  send: boolean,
  seen: Seen
): Destination<Settings> {
  const action = definition.actions.trackConversion as ActionDefinition<Settings, Payload>
  const observed: ActionDefinition<Settings, Payload> = {
    ...action,
    perform: (request, data) => {
      seen.payload = data.payload
      const result: unknown = action.perform(send ? recordingRequest(request, seen) : dryRunRequest(seen), data)
      return result
    },
    // The batch path too, so that a dry run can never send, whichever path runs.
    performBatch: (request, data) =>
      action.performBatch?.(send ? recordingRequest(request, seen) : dryRunRequest(seen), data)
  }
  return new Destination({ ...definition, actions: { trackConversion: observed } })
}

/**
 * The destination for a command, as Segment's: the settings check looks the Postback URL host up, and a postback
 * refuses to connect to a private address. A dry run sends nothing, so it never looks anything up. Aimed at a
 * loopback test origin, postbacks go there (an address, which is not looked up); the settings check still looks up
 * the Postback URL's own host, so a typo in the tracking domain is caught there too.
 */
export function destinationFor(io: Io): DestinationDefinition<Settings> {
  return createDestination({ ...testTransport(io), lookup: io.lookup ?? dnsLookup })
}

/**
 * The event as a track call, or why it is not one (`notTrack`). A body without `type` but with `event` (as
 * Segment's HTTP API takes it) is a track call, and `note` says so.
 */
export function asTrack(event: SegmentEvent): { event: SegmentEvent; note?: string; notTrack?: string } {
  const type = (event as { type?: unknown }).type
  if (type === undefined && typeof event.event === 'string') {
    return { event: { ...event, type: 'track' }, note: 'no "type" given; read as a track call because it has "event"' }
  }
  if (type === 'track') return { event }
  const what = type === undefined ? 'an event with no "type" and no "event"' : `a ${JSON.stringify(type)} call`
  return { event, notTrack: `${what} is not a track event; Track Conversion takes track events only` }
}

/** A reason without the values of one event, so equal reasons group in a summary. */
export function reasonOf(message: string): string {
  const first = message.split(/(?<=\.)\s/)[0].split(': ')[0]
  return first.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\b[0-9a-f]{16,}\b/gi, '…')
}

/** The line a retryable failure gets in the CLI, which (unlike Segment) does not retry. */
export const NOT_RETRIED =
  'Segment would retry this; the CLI did not. Replay it by running the same command again, or with backfill --send --failed FILE and then backfill --send --event FILE.'
