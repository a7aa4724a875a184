// check-settings: the destination's own settings check (testAuthentication, as Segment runs it when the settings
// form is saved), on a settings file, saying what passed and what to fix. Sends no postback.
import { parseArgs } from 'util'
import { Destination, getAuthData, IntegrationError, InvalidAuthenticationError } from '@segment/actions-core'
import type { JSONObject } from '@segment/actions-core'
import { REGION_NAMES, regionOf } from '../everflow-api'
import { EVERFLOW_API_RATE_LIMITED, EVERFLOW_API_UNAVAILABLE } from '../errors'
import { parseSettings } from '../settings'
import { redact, secretsOf } from '../secrets'
import { destinationFor, EXIT, readSettings, requestOf, UsageError } from './io'
import type { Io } from './io'

export async function checkSettings(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { settings: { type: 'string' } },
    strict: true,
    allowPositionals: false
  })
  const settings = readSettings(io, values.settings)
  const secrets = secretsOf(settings)
  const definition = destinationFor(io)
  const destination = new Destination(definition)
  const say = (line: string) => io.stdout.write(`${redact(line, secrets)}\n`)

  try {
    destination.validateSettings(settings)
    const parsed = parseSettings(settings)
    say(
      `ok    settings: Postback URL ${parsed.postbackBase} for network ${parsed.networkId}, ${parsed.eventIds.size} mapped event(s)`
    )
  } catch (error) {
    say(`FAIL  settings: ${(error as Error).message}`)
    say('      fix the setting named above, then run check-settings again.')
    return EXIT.usage
  }
  const region = REGION_NAMES[regionOf(settings.apiRegion)]
  try {
    // The destination's own check with core's request client, called directly rather than through
    // Destination.testAuthentication, which flattens the error to a string and loses its class and code.
    await definition.authentication?.testAuthentication?.(requestOf(io), {
      settings,
      auth: getAuthData(settings as unknown as JSONObject)
    })
    say(`ok    API Key: accepted by Everflow's ${region} API for this network`)
    say('All settings passed. No postback was sent.')
    return EXIT.ok
  } catch (error) {
    const message = (error as Error).message
    const code = (error as { code?: string }).code
    if (code === EVERFLOW_API_UNAVAILABLE || code === EVERFLOW_API_RATE_LIMITED) {
      say(`??    API Key: not checked: ${message}`)
      return EXIT.someFailed
    }
    if (error instanceof InvalidAuthenticationError || error instanceof IntegrationError) {
      say(`FAIL  API Key / settings: ${message}`)
      return EXIT.usage
    }
    throw new UsageError(`Settings check failed: ${message}`)
  }
}
