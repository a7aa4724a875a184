// Shared plumbing of the toolkit's commands: where output goes, reading events and settings, the test-only
// loopback origins, and how outcomes are reported. Every command takes an Io, so tests run them in-process.
import { readFileSync } from 'fs'
import path from 'path'
import { createRequestClient, defaultValues, Destination, Headers } from '@segment/actions-core'
import { parseFql, validate } from '@segment/destination-subscriptions'
import type { Subscription as ParsedFql } from '@segment/destination-subscriptions'
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
import { NOT_SUBSCRIBED_BECAUSE, orderKind, PRESET_EVENT_NAME } from '../subscriptions'
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

/** 130 after Ctrl-C: the shell's convention for a command stopped by SIGINT (128 + 2). */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, interrupted: 130 } as const

/** The abort reason the command line gives when stdout is closed (a reader such as head went away). */
export const OUTPUT_CLOSED = 'output closed'

/** What stopped the run: Ctrl-C, or stdout closed under it. */
export function stopCause(io: Io): string {
  return io.signal?.reason === OUTPUT_CLOSED ? OUTPUT_CLOSED : 'Ctrl-C'
}

/** The exit code of a run that was stopped before its end: 130 after Ctrl-C; 1 when its output was closed. */
export function stoppedCode(io: Io): number {
  return stopCause(io) === OUTPUT_CLOSED ? EXIT.someFailed : EXIT.interrupted
}

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
  /** Where it is in the file read: the line of NDJSON, or the position in a JSON array or batch body. */
  line: number
  /** The line it had in the file it first came from, when it is replayed from a failed file. */
  origin?: number
  event?: SegmentEvent
  error?: string
  text?: string
}

/** One line of NDJSON (or one element of an array) as an input. */
function inputOf(line: number, value: unknown, text: string): Input {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { line, error: 'not a JSON object: each line must hold one event object', text }
  }
  const failure = (value as { everflowFailure?: { line?: unknown; text?: unknown } }).everflowFailure
  // A failed-file record of a line that was not an event: read its original text again, as it was.
  if (Object.keys(value).length === 1 && failure && typeof failure.text === 'string') {
    const origin = typeof failure.line === 'number' ? failure.line : undefined
    return { ...inputOfText(line, failure.text), ...(origin !== undefined ? { origin } : {}) }
  }
  return { line, event: value as SegmentEvent }
}

function inputOfText(line: number, text: string): Input {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return { line, error: `not JSON: ${(error as Error).message}`, text }
  }
  return inputOf(line, value, text)
}

/**
 * The events of a file: one JSON event, a JSON array of events, a Segment HTTP API batch body
 * ({"batch": [...]}), or NDJSON (one event per line, each line judged on its own).
 */
export function readEvents(io: Io, file: string): Input[] {
  const text = readText(io, file)
  let whole: unknown
  try {
    whole = JSON.parse(text)
  } catch {
    whole = undefined // Not one JSON document: read it as NDJSON.
  }
  const batch = (whole as { batch?: unknown } | undefined)?.batch
  const list = Array.isArray(whole)
    ? whole
    : Array.isArray(batch) && (whole as { type?: unknown }).type === undefined
      ? batch
      : undefined
  if (list) return list.map((value, index) => inputOf(index + 1, value, JSON.stringify(value) ?? String(value)))
  if (whole !== undefined) return [inputOf(1, whole, text.trim())]
  const inputs: Input[] = []
  text.split(/\r?\n/).forEach((content, index) => {
    if (content.trim() !== '') inputs.push(inputOfText(index + 1, content))
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

export const SETTINGS_HELP = `  --settings FILE  JSON with the destination settings: apiKey, eventMapping (text, one Event Name=ID per
                   line), postbackUrl, networkId, verificationToken, apiRegion. Settings may instead come
                   from EVERFLOW_API_KEY, EVERFLOW_EVENT_MAPPING, EVERFLOW_POSTBACK_URL, EVERFLOW_NETWORK_ID,
                   EVERFLOW_VERIFICATION_TOKEN and EVERFLOW_API_REGION, which win over a --settings FILE.
                   examples/settings.json is used only when neither is given: it is never mixed with yours.
                   A "settings:" line on stderr says where each setting came from.`

const EXAMPLE_SETTINGS = 'examples/settings.json'

/**
 * The settings and where each came from: --settings FILE with the environment's values over it, or the
 * environment alone, or (only when neither is given) the example file. The example is never mixed with the
 * environment: its token would go to a real tracking domain. API Region is read in any case (EU, eu).
 */
export function readSettings(io: Io, file: string | undefined): Settings {
  const fromEnv = SETTINGS_FROM_ENV.filter(([, variable]) => io.env[variable] !== undefined)
  const source = file ?? (fromEnv.length > 0 ? undefined : EXAMPLE_SETTINGS)
  const settings = (
    source ? { ...readJsonObject(io, file ?? path.join(EXAMPLES, 'settings.json'), 'Settings') } : {}
  ) as Record<string, unknown>
  const where: string[] = []
  const fileKeys = Object.keys(settings).filter((key) => !fromEnv.some(([name]) => name === key))
  if (source && fileKeys.length > 0) {
    where.push(`${fileKeys.join(', ')} from ${source}${file ? '' : ' (the example settings)'}`)
  }
  for (const [key, variable] of fromEnv) {
    settings[key] = io.env[variable]
    where.push(`${key} from ${variable}`)
  }
  io.stderr.write(
    `settings: ${where.join('; ') || 'none'}${
      !file && fromEnv.length > 0 ? ` (${EXAMPLE_SETTINGS} is not used when EVERFLOW_* variables are set)` : ''
    }\n`
  )
  if (typeof settings.apiRegion === 'string') settings.apiRegion = settings.apiRegion.trim().toLowerCase()
  const mapping = settings.eventMapping
  if (mapping !== null && typeof mapping === 'object') {
    // Segment's settings form holds Event Mapping as text; an object would be refused there.
    const lines = Array.isArray(mapping) ? [] : Object.entries(mapping).map(([name, id]) => `${name}=${String(id)}`)
    throw new UsageError(
      `Settings file ${source}: eventMapping is ${Array.isArray(mapping) ? 'an array' : 'an object'}, but Segment's Event Mapping setting is text. ` +
        `Write it as one Event Name=ID per line${lines.length ? `: "eventMapping": ${JSON.stringify(lines.join('\n'))}` : ', e.g. "eventMapping": "Order Completed=0"'}.`
    )
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
    throw new UsageError(`${variable} is not a URL: give a loopback http origin, such as http://127.0.0.1:8080.`)
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new UsageError(`${variable} may only name a loopback http origin, such as http://127.0.0.1:8080.`)
  }
  return url.origin
}

export function testTransport(io: Io): { postbackOrigin?: string; apiOrigin?: string } {
  return { postbackOrigin: loopbackOrigin(io, TEST_POSTBACK_ORIGIN), apiOrigin: loopbackOrigin(io, TEST_API_ORIGIN) }
}

/** A subscription the toolkit runs events through: a preset's, or --subscription's. */
export interface ActiveSubscription {
  /** How the output names it: preset "Name", or --subscription. */
  name: string
  subscribe: string
  partnerAction: string
  mapping: JSONObject
  /** The --mapping file the mapping came from, if it did. */
  mappingFile?: string
  /** The action's default mapping, to tell what a --mapping file leaves out. */
  defaults: JSONObject
  parsed: ParsedFql
}

/** Segment's FQL, parsed as Segment parses it; a clear UsageError for text it cannot read or that ends early. */
function parseSubscription(fql: string, what: string): ParsedFql {
  let parsed: ReturnType<typeof parseFql>
  try {
    parsed = parseFql(fql)
  } catch (error) {
    parsed = { error: error as Error }
  }
  const incomplete = (node: unknown): boolean => {
    const { children, value, operator } = node as { children?: unknown[]; value?: unknown; operator?: string }
    return children ? children.some(incomplete) : value === 'eos' && operator !== 'exists' && operator !== 'not_exists'
  }
  if ('error' in parsed || incomplete(parsed)) {
    throw new UsageError(
      `${what} ${JSON.stringify(fql)} is not a subscription Segment can read. Write FQL conditions joined by and/or, ` +
        'with text values in double quotes, e.g. type = "track" and event = "Order Completed".'
    )
  }
  return parsed
}

/**
 * What Segment runs events through: with --subscription, that FQL (with --mapping or the default mapping);
 * otherwise every preset of the definition, as Segment creates them when the destination is added, each with its
 * own mapping (or --mapping).
 */
export function subscriptionsOf(
  io: Io,
  definition: DestinationDefinition<Settings>,
  fql?: string,
  mappingFile?: string
): ActiveSubscription[] {
  const mapping = mappingFile ? readJsonObject(io, mappingFile, 'Mapping') : undefined
  const defaults = defaultValues(definition.actions.trackConversion.fields)
  if (fql !== undefined) {
    return [
      {
        name: '--subscription',
        subscribe: fql,
        partnerAction: 'trackConversion',
        mapping: mapping ?? defaults,
        mappingFile,
        defaults,
        parsed: parseSubscription(fql, '--subscription')
      }
    ]
  }
  return presetsOf(definition).map((preset) => ({
    ...preset,
    mapping: mapping ?? preset.mapping,
    mappingFile,
    defaults,
    parsed: parseSubscription(preset.subscribe, preset.name)
  }))
}

/**
 * The definition's Track Conversion presets that subscribe by FQL, named as the output names them. (Refunds have
 * their own path in the preview.)
 */
export function presetsOf(definition: DestinationDefinition<Settings>) {
  return (definition.presets ?? []).flatMap((preset) =>
    'subscribe' in preset && preset.subscribe && preset.partnerAction === 'trackConversion'
      ? [
          {
            name: `preset ${JSON.stringify(preset.name ?? preset.partnerAction)}`,
            subscribe: preset.subscribe,
            partnerAction: preset.partnerAction,
            mapping: preset.mapping ?? defaultValues(definition.actions.trackConversion.fields)
          }
        ]
      : []
  )
}

/** The first subscription the event matches, as Segment's own FQL evaluation decides. */
export function matchOf(subscriptions: ActiveSubscription[], event: SegmentEvent): ActiveSubscription | undefined {
  return subscriptions.find((subscription) => validate(subscription.parsed, event))
}

/** Why an event is not subscribed, in words a customer can act on: which subscriptions it misses. */
export function notSubscribedReason(subscriptions: ActiveSubscription[], event: SegmentEvent): string {
  const names = subscriptions.map((s) => `${s.name} (${s.subscribe})`)
  if (subscriptions[0]?.name === '--subscription') {
    return `matches no --subscription (${subscriptions[0].subscribe}): Segment would not send it; not a failure`
  }
  // An order the preset leaves out: say whether it has a coupon that a clickless mapping could send.
  const kind =
    event.type === 'track' && event.event === PRESET_EVENT_NAME
      ? orderKind(event as Parameters<typeof orderKind>[0])
      : 'everflow-click'
  const why = kind === 'everflow-click' ? '' : ` (${NOT_SUBSCRIBED_BECAUSE[kind]})`
  return `matches no preset${why}: ${names.join('; ') || 'the destination has none'}. Segment sends it to no action; not a failure`
}

/**
 * An event that matches a subscription but is not a track call (an identify or page call subscribed by
 * --subscription): Track Conversion cannot send it.
 */
export function wrongType(event: SegmentEvent, subscription: ActiveSubscription): string | undefined {
  const type = (event as { type?: unknown }).type
  if (type === 'track') return undefined
  return `${callOf(type)} matches ${subscription.name} (${subscription.subscribe}), but Track Conversion sends track calls only: subscribe it to track events`
}

function callOf(type: unknown): string {
  if (typeof type !== 'string') return `an event with "type" ${JSON.stringify(type)}`
  return `${/^[aeiou]/i.test(type) ? 'an' : 'a'} ${type} call`
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
export function destinationFor(io: Io, lookups?: { hosts: string[] }): DestinationDefinition<Settings> {
  const resolve = io.lookup ?? dnsLookup
  // check-settings watches the lookups, to tell a failed Postback URL check from a failed API Key check.
  const lookup: HostLookup = lookups
    ? (host) => {
        lookups.hosts.push(host)
        return resolve(host)
      }
    : resolve
  return createDestination({ ...testTransport(io), lookup })
}

/**
 * The event as Segment would route it: a body without `type` but with `event` (as Segment's HTTP API takes it) is a
 * track call, and `note` says so. A body with neither is no Segment call at all (`notEvent`).
 */
export function asTrack(event: SegmentEvent): { event: SegmentEvent; note?: string; notEvent?: string } {
  const type = (event as { type?: unknown }).type
  if (type === undefined && typeof event.event === 'string') {
    return { event: { ...event, type: 'track' }, note: 'no "type" given; read as a track call because it has "event"' }
  }
  if (type === undefined) {
    return {
      event,
      notEvent: 'an event with no "type" and no "event" is not a Segment call; Track Conversion takes track calls'
    }
  }
  return { event }
}

/** Where a value stood in a grouped reason. */
const PLACE = '\u0000'
const VALUE = /"(?:[^"\\]|\\.)*"|\b[0-9a-f]{16,}\b/gi

/**
 * Failure reasons for a summary: the first sentence of each message, grouped with the values of single events
 * left out, so equal reasons count together. A value that every event of a group shares (the "google" of
 * `referrer_type is "google", not everflow` when every event says google) is shown; the others become "…".
 */
export class Reasons {
  private readonly groups = new Map<string, { times: number; values: string[] }>()

  add(message: string): void {
    const values: string[] = []
    const key = message
      .split(/(?<=\.)\s/)[0]
      .split(': ')[0]
      .replace(VALUE, (value) => {
        values.push(value)
        return PLACE
      })
    const group = this.groups.get(key)
    if (!group) this.groups.set(key, { times: 1, values })
    else {
      group.times++
      group.values = group.values.map((value, index) =>
        value === values[index] ? value : value.startsWith('"') ? '"…"' : '…'
      )
    }
  }

  /** One line per reason, the most frequent first: `  3 x amount "…" is not a sale amount.` */
  lines(): string[] {
    return [...this.groups]
      .sort((a, b) => b[1].times - a[1].times)
      .map(([key, { times, values }]) => {
        const text = key
          .split(PLACE)
          .map((part, index) => (index === 0 ? part : `${values[index - 1]}${part}`))
          .join('')
        return `  ${times} x ${text}`
      })
  }
}

/**
 * A message that says a field is missing, when a --mapping file does not map that field: the mapping is to blame,
 * not the event, and the message says so.
 */
export function blameMapping(message: string, subscription: ActiveSubscription | undefined): string {
  const field = /^(\w+) is missing\b/.exec(message)?.[1]
  if (!field || !subscription?.mappingFile || field in subscription.mapping || !(field in subscription.defaults)) {
    return message
  }
  return (
    `${field} is missing because --mapping ${subscription.mappingFile} does not map it ` +
    `(the default mapping takes it from ${JSON.stringify(subscription.defaults[field])}). ` +
    'Add it to the mapping file, or leave --mapping out to use the default mapping.'
  )
}

/** The line a retryable failure gets in the CLI, which (unlike Segment) does not retry. */
export const NOT_RETRIED =
  'Segment would retry this; the CLI did not. Replay it by running the same command again, or with backfill --send --failed FILE and then backfill --send --event FILE.'
