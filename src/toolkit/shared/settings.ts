// Where a run's settings come from: --settings FILE, the EVERFLOW_* variables over it, or (for dry runs and the
// local fake only) the example settings; and the test-only loopback origins. Nothing real is ever sent with settings
// that are not the user's.
import path from 'path'
import type { Settings } from '../../generated-types'
import { readJsonObject } from './events'
import { UsageError } from './io'
import type { Io } from './io'
import { commandLine } from './command-line'

export const EXAMPLES = path.join(__dirname, '..', '..', '..', 'examples')
const EXAMPLE_SETTINGS = 'examples/settings.json'

const SETTINGS_FROM_ENV: Array<[keyof Settings, string]> = [
  ['apiKey', 'EVERFLOW_API_KEY'],
  ['eventMapping', 'EVERFLOW_EVENT_MAPPING'],
  ['postbackUrl', 'EVERFLOW_POSTBACK_URL'],
  ['networkId', 'EVERFLOW_NETWORK_ID'],
  ['verificationToken', 'EVERFLOW_VERIFICATION_TOKEN'],
  ['apiRegion', 'EVERFLOW_API_REGION']
]

/** Test-only: aim postbacks and API calls at servers on this machine. Only loopback http origins are taken. */
const TEST_POSTBACK_ORIGIN = 'EVERFLOW_CLI_TEST_POSTBACK_ORIGIN'
const TEST_API_ORIGIN = 'EVERFLOW_CLI_TEST_API_ORIGIN'

const KNOWN_VARIABLES = [...SETTINGS_FROM_ENV.map(([, variable]) => variable), TEST_POSTBACK_ORIGIN, TEST_API_ORIGIN]

/** The settings every run needs when they come from EVERFLOW_* variables alone (the settings form's required ones). */
const REQUIRED: Array<keyof Settings> = ['apiKey', 'eventMapping', 'postbackUrl']

export const SETTINGS_HELP = `  --settings FILE  JSON with the destination settings: apiKey, eventMapping (text, one Event Name=ID per
                   line), postbackUrl, networkId, verificationToken, apiRegion. Settings may instead come
                   from EVERFLOW_API_KEY, EVERFLOW_EVENT_MAPPING, EVERFLOW_POSTBACK_URL, EVERFLOW_NETWORK_ID,
                   EVERFLOW_VERIFICATION_TOKEN and EVERFLOW_API_REGION, which win over a --settings FILE
                   (alone, they must include the first three). Any other EVERFLOW_* name is refused.
                   examples/settings.json is used only when neither is given, and only for dry runs (or the
                   local fake): --send, verify and check-settings refuse to run on it.
                   A "settings:" line on stderr says where each setting came from.`

/** What a command does with the settings beyond a dry run: it sends (postbacks, API calls) or it does not. */
export interface SettingsUse {
  /** How the refusal names what would have used them: "--send", "verify", "check-settings". */
  sends?: string
  /** The settings this command needs from EVERFLOW_* variables alone (default: the required three). */
  required?: Array<keyof Settings>
}

/** The EVERFLOW_* settings variables set for this run. */
export function settingsVariables(io: Io): string[] {
  return SETTINGS_FROM_ENV.map(([, variable]) => variable).filter((variable) => io.env[variable] !== undefined)
}

/** An EVERFLOW_* name the toolkit does not read is a typo until shown otherwise: it would leave a setting unset. */
function refuseUnknownVariables(io: Io): void {
  const unknown = Object.keys(io.env).filter(
    (name) => name.startsWith('EVERFLOW_') && !KNOWN_VARIABLES.includes(name) && io.env[name] !== undefined
  )
  if (unknown.length === 0) return
  throw new UsageError(
    `Unknown variable${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: the toolkit reads no such setting. ` +
      `The settings variables are ${SETTINGS_FROM_ENV.map(([, variable]) => variable).join(', ')}. ` +
      `Rename ${unknown.length > 1 ? 'them' : 'it'}, or unset ${unknown.length > 1 ? 'them' : 'it'} (unset ${unknown.join(' ')}). Nothing was sent.`
  )
}

function refuseIncompleteVariables(fromEnv: Array<[keyof Settings, string]>, use: SettingsUse): void {
  const missing = SETTINGS_FROM_ENV.filter(
    ([key]) => (use.required ?? REQUIRED).includes(key) && !fromEnv.some(([name]) => name === key)
  ).map(([, variable]) => variable)
  if (missing.length === 0) return
  throw new UsageError(
    `Settings from EVERFLOW_* variables alone must be complete: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set ` +
      `(set: ${fromEnv.map(([, variable]) => variable).join(', ')}). Set ${missing.length > 1 ? 'them' : 'it'}, or give ` +
      `--settings FILE with the rest (the variables go over it). The example settings are never mixed with yours. Nothing was sent.`
  )
}

/** The example settings serve dry runs, and runs whose every request goes to the local fake (both test origins). */
function refuseExampleSettings(io: Io, use: SettingsUse): void {
  if (!use.sends) return
  const { postbackOrigin, apiOrigin } = testTransport(io)
  if (postbackOrigin && apiOrigin) return
  throw new UsageError(
    `${use.sends} needs your settings, and none were given: the example settings (${EXAMPLE_SETTINGS}) serve dry runs only, ` +
      'and with them your events would go to the example tracking domain with the example token. Nothing was sent. ' +
      `Give --settings FILE (JSON with apiKey, eventMapping, postbackUrl, ...), e.g. ${commandLine(io, { add: ['--settings', 'my-settings.json'] })}, ` +
      'or set EVERFLOW_API_KEY, EVERFLOW_EVENT_MAPPING and EVERFLOW_POSTBACK_URL.'
  )
}

/**
 * The settings and where each came from: --settings FILE with the environment's values over it, or the
 * environment alone (complete), or (only when neither is given, and only for what sends nothing real) the example
 * file. The example is never mixed with the environment: its token would go to a real tracking domain. API Region
 * is read in any case (EU, eu).
 */
export function readSettings(io: Io, file: string | undefined, use: SettingsUse = {}): Settings {
  refuseUnknownVariables(io)
  const fromEnv = SETTINGS_FROM_ENV.filter(([, variable]) => io.env[variable] !== undefined)
  if (!file && fromEnv.length > 0) refuseIncompleteVariables(fromEnv, use)
  if (!file && fromEnv.length === 0) refuseExampleSettings(io, use)
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
  refuseObjectMapping(settings.eventMapping, source)
  return settings as unknown as Settings
}

/** Segment's settings form holds Event Mapping as text; an object would be refused there. */
function refuseObjectMapping(mapping: unknown, source: string | undefined): void {
  if (mapping === null || typeof mapping !== 'object') return
  const lines = Array.isArray(mapping) ? [] : Object.entries(mapping).map(([name, id]) => `${name}=${String(id)}`)
  throw new UsageError(
    `Settings file ${source}: eventMapping is ${Array.isArray(mapping) ? 'an array' : 'an object'}, but Segment's Event Mapping setting is text. ` +
      `Write it as one Event Name=ID per line${lines.length ? `: "eventMapping": ${JSON.stringify(lines.join('\n'))}` : ', e.g. "eventMapping": "Order Completed=0"'}.`
  )
}

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
