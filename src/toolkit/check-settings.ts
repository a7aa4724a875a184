// check-settings: the destination's own settings check (testAuthentication, as Segment runs it when the settings
// form is saved), on a settings file, saying what passed and what to fix. Sends no postback.
import { parseArgs } from 'util'
import { Destination, getAuthData, IntegrationError, InvalidAuthenticationError } from '@segment/actions-core'
import type { JSONObject, RequestClient } from '@segment/actions-core'
import { parseFql } from '@segment/destination-subscriptions'
import type { Settings } from '../generated-types'
import { REGION_NAMES, regionOf } from '../everflow-api'
import { EVERFLOW_API_RATE_LIMITED, EVERFLOW_API_UNAVAILABLE, POSTBACK_HOST_LOOKUP_FAILED } from '../errors'
import { parseSettings } from '../settings'
import { redact, secretsOf } from '../secrets'
import { destinationFor } from './shared/destination'
import { EXIT, UsageError, requestOf } from './shared/io'
import type { Io } from './shared/io'
import { readSettings } from './shared/settings'
import { presetsOf } from './shared/subscriptions'

/** The event names a subscription picks by `event = "..."`. */
function eventsOf(fql: string): string[] {
  const names: string[] = []
  const walk = (node: unknown): void => {
    const { children, type, operator, value } = node as {
      children?: unknown[]
      type?: string
      operator?: string
      value?: unknown
    }
    children?.forEach(walk)
    if (type === 'event' && operator === '=' && typeof value === 'string') names.push(value)
  }
  walk(parseFql(fql))
  return names
}

/** Letters changed, added or removed to turn one text into the other. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}

/** A mapped name close enough to be a typo of the wanted one. */
function closest(wanted: string, names: string[]): string | undefined {
  const near = names
    .map((name) => ({ name, d: distance(wanted.toLowerCase(), name.toLowerCase()) }))
    .filter(({ d }) => d <= Math.max(2, Math.floor(wanted.length / 4)))
    .sort((x, y) => x.d - y.d)
  return near[0]?.name
}

/** Warnings for events the presets send that Event Mapping does not map: every such event would be refused. */
function unmappedPresetEvents(io: Io, eventIds: ReadonlyMap<string, number>): string[] {
  const sentBy = new Map<string, string[]>()
  for (const preset of presetsOf(destinationFor(io))) {
    for (const name of eventsOf(preset.subscribe)) sentBy.set(name, [...(sentBy.get(name) ?? []), preset.name])
  }
  return [...sentBy]
    .filter(([name]) => !eventIds.has(name))
    .map(([name, presets]) => {
      const near = closest(name, [...eventIds.keys()])
      return (
        `warn  Event Mapping: ${JSON.stringify(name)} is not mapped, but ${presets.join(' and ')} send${presets.length > 1 ? '' : 's'} it: ` +
        `every ${JSON.stringify(name)} event would be refused. ` +
        `${near !== undefined ? `Did you mean ${JSON.stringify(near)}? Event names must match exactly. ` : ''}` +
        `Add the line ${name}=0 (0 is the base conversion) or ${name}=<its advertiser event ID>.`
      )
    })
}

export async function checkSettings(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { settings: { type: 'string' } },
    strict: true,
    allowPositionals: false
  })
  let settings: Settings
  try {
    settings = readSettings(io, values.settings, { sends: 'check-settings' })
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    io.stdout.write(
      `FAIL  settings: ${error.message}\n      fix the setting named above, then run check-settings again.\n`
    )
    return EXIT.usage
  }
  const secrets = secretsOf(settings)
  const lookups = { hosts: [] as string[] }
  const definition = destinationFor(io, lookups)
  const destination = new Destination(definition)
  const say = (line: string) => io.stdout.write(`${redact(line, secrets)}\n`)

  let warnings: string[]
  try {
    destination.validateSettings(settings)
    const parsed = parseSettings(settings)
    say(
      `ok    settings: Postback URL ${parsed.postbackBase} for network ${parsed.networkId}, ${parsed.eventIds.size} mapped event(s)`
    )
    warnings = unmappedPresetEvents(io, parsed.eventIds)
    warnings.forEach(say)
  } catch (error) {
    say(`FAIL  settings: ${(error as Error).message}`)
    say('      fix the setting named above, then run check-settings again.')
    return EXIT.usage
  }
  const region = REGION_NAMES[regionOf(settings.apiRegion)]
  // Which check failed: the Postback URL host lookup comes first, the API Key check after it.
  let apiCalled = false
  const base = requestOf(io)
  const request = ((url: string, options?: object) => {
    apiCalled = true
    return base(url, options)
  }) as RequestClient
  try {
    // The destination's own check with core's request client, called directly rather than through
    // Destination.testAuthentication, which flattens the error to a string and loses its class and code.
    await definition.authentication?.testAuthentication?.(request, {
      settings,
      auth: getAuthData(settings as unknown as JSONObject)
    })
    if (lookups.hosts.length > 0) say(`ok    Postback URL: ${lookups.hosts[0]} resolves to a public address`)
    say(`ok    API Key: accepted by Everflow's ${region} API for this network`)
    say(
      `All settings passed${warnings.length ? `, with ${warnings.length} warning(s) above` : ''}. No postback was sent.`
    )
    return EXIT.ok
  } catch (error) {
    const message = (error as Error).message
    const code = (error as { code?: string }).code
    const label = lookups.hosts.length > 0 && !apiCalled ? 'Postback URL' : 'API Key'
    if (label === 'API Key' && lookups.hosts.length > 0) {
      say(`ok    Postback URL: ${lookups.hosts[0]} resolves to a public address`)
    }
    if (
      code === EVERFLOW_API_UNAVAILABLE ||
      code === EVERFLOW_API_RATE_LIMITED ||
      code === POSTBACK_HOST_LOOKUP_FAILED
    ) {
      say(`??    ${label}: not checked: ${message}`)
      return EXIT.someFailed
    }
    if (error instanceof InvalidAuthenticationError || error instanceof IntegrationError) {
      say(`FAIL  ${label === 'API Key' ? 'API Key / settings' : label}: ${message}`)
      return EXIT.usage
    }
    throw new UsageError(`Settings check failed: ${message}`)
  }
}
