import { IntegrationError } from '@segment/actions-core'
import type { Settings } from './generated-types'
import { redactError, secretsOf } from './secrets'

/** Code of every error that means "a setting is wrong": the user fixes it in the settings form. */
export const INVALID_SETTINGS = 'INVALID_SETTINGS'

/** Settings as the postback needs them, after parsing and validation. */
export interface ParsedSettings {
  /** Origin and path of the tracking domain, e.g. `https://www.trkexample.com/`, with no query. */
  postbackBase: string
  networkId: string
  eventIds: ReadonlyMap<string, number>
  verificationToken?: string
}

function settingsError(message: string): IntegrationError {
  return new IntegrationError(message, INVALID_SETTINGS, 400)
}

const POSTBACK_URL_HELP =
  'Paste the Global Postback URL from Everflow (Control Center > Configuration > Global Postback), ' +
  'e.g. https://www.trkexample.com/?nid=123&transaction_id={transaction_id}, or just its tracking domain.'

// Names that never resolve to a public tracking domain (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal).
const RESERVED_SUFFIXES = [
  'localhost',
  'local',
  'localdomain',
  'internal',
  'intranet',
  'lan',
  'home.arpa',
  'arpa',
  'invalid',
  'test',
  'onion'
]

// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const SPACE_OR_CONTROL = /[\s\x00-\x1f\x7f]/

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
const DIGITS = /^[0-9]+$/
const PLACEHOLDER = /^\{[^{}]*\}$/

function parseNetworkId(value: string, source: string, help = ''): string {
  if (!DIGITS.test(value) || Number(value) === 0 || !Number.isSafeInteger(Number(value))) {
    throw settingsError(
      `${source}: "${value}" is not an Everflow network ID. A network ID is a positive whole number, such as 123.${help}`
    )
  }
  return String(Number(value))
}

/**
 * The Postback URL as a message quotes it: without its query (which can hold a verification token) or
 * user-info (which can hold a password), with control characters escaped.
 */
function shown(input: string): string {
  const withoutSecrets = input.replace(/[?#][\s\S]*$/, '').replace(/^((?:[a-z][a-z0-9+.-]*:)?\/\/)?[^/@]*@/i, '$1…@')
  return JSON.stringify(withoutSecrets.length > 200 ? `${withoutSecrets.slice(0, 200)}…` : withoutSecrets)
}

/**
 * Reads the Postback URL setting. Only https to a public DNS name is allowed, because the
 * destination sends conversions (and the verification token) there.
 */
export function parsePostbackUrl(raw: string): { postbackBase: string; networkId?: string } {
  const input = raw.trim()
  if (input === '') throw settingsError(`Postback URL is empty. ${POSTBACK_URL_HELP}`)
  // Checked on the raw text: the URL parser would silently drop or rewrite these.
  if (SPACE_OR_CONTROL.test(input) || input.includes('\\')) {
    throw settingsError(
      `Postback URL ${shown(input)} contains spaces, control characters or backslashes. ${POSTBACK_URL_HELP}`
    )
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(input)?.[1]?.toLowerCase()
  const hasScheme = scheme !== undefined && input.slice(scheme.length + 1).startsWith('//')
  if (hasScheme && scheme !== 'https') {
    throw settingsError(
      `Postback URL ${shown(input)} uses ${scheme}; Everflow postbacks must use https. ${POSTBACK_URL_HELP}`
    )
  }
  const withScheme = hasScheme ? input : `https://${input}`
  const authority = /^https:\/\/([^/?#]*)/i.exec(withScheme)?.[1] ?? ''
  if (authority.includes('@')) {
    throw settingsError(
      `Postback URL ${shown(input)} contains a user name or password; remove everything before "@". ${POSTBACK_URL_HELP}`
    )
  }
  if (/:[^\]]*$/.test(authority)) {
    throw settingsError(
      `Postback URL ${shown(input)} names a port; Everflow tracking domains use the default https port. ${POSTBACK_URL_HELP}`
    )
  }

  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw settingsError(`Postback URL ${shown(input)} is not a URL or hostname. ${POSTBACK_URL_HELP}`)
  }

  const host = url.hostname.replace(/\.$/, '')
  if (host.startsWith('[') || /^[0-9.]+$/.test(host)) {
    throw settingsError(
      `Postback URL ${shown(input)} points at an IP address; use your Everflow tracking domain. ${POSTBACK_URL_HELP}`
    )
  }
  const labels = host.split('.')
  if (labels.length < 2 || !labels.every((label) => DNS_LABEL.test(label)) || DIGITS.test(labels[labels.length - 1])) {
    throw settingsError(
      `Postback URL ${shown(input)} does not name a public tracking domain such as www.trkexample.com. ${POSTBACK_URL_HELP}`
    )
  }
  if (RESERVED_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))) {
    throw settingsError(
      `Postback URL ${shown(input)} names a local or reserved host; use your public Everflow tracking domain. ${POSTBACK_URL_HELP}`
    )
  }

  const nid = url.searchParams.get('nid')?.trim()
  const networkId =
    nid && !PLACEHOLDER.test(nid)
      ? parseNetworkId(nid, 'Postback URL (its nid parameter)', ` ${POSTBACK_URL_HELP}`)
      : undefined
  return { postbackBase: `https://${host}${url.pathname}`, networkId }
}

/**
 * Reads the Event Mapping setting: a JSON object, or one `Event Name=ID` per line.
 * Event names are matched exactly as Segment sends them.
 */
export function parseEventMapping(raw: string): Map<string, number> {
  const text = raw.trim()
  const entries: Array<{ name: string; id: unknown; entry: string }> = []
  if (text.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw settingsError(
        `Event Mapping looks like JSON but does not parse (${(error as Error).message}). Write it as {"Order Completed": 0} or as one Event Name=ID per line.`
      )
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw settingsError(
        'Event Mapping must be a JSON object such as {"Order Completed": 0}, or one Event Name=ID per line.'
      )
    }
    for (const [name, id] of Object.entries(parsed as Record<string, unknown>)) {
      entries.push({ name: name.trim(), id, entry: JSON.stringify({ [name]: id }).slice(1, -1) })
    }
  } else {
    for (const line of text.split(/\r?\n/)) {
      const entry = line.trim()
      if (entry === '') continue
      const separator = entry.lastIndexOf('=')
      if (separator < 0) {
        throw settingsError(
          `Event Mapping entry "${entry}" has no "=". Write each mapping as Event Name=ID, e.g. Order Completed=0.`
        )
      }
      entries.push({ name: entry.slice(0, separator).trim(), id: entry.slice(separator + 1).trim(), entry })
    }
  }
  if (entries.length === 0) {
    throw settingsError(
      'Event Mapping is empty. Add one Event Name=ID per line, e.g. Order Completed=0 (0 is the base conversion).'
    )
  }

  const eventIds = new Map<string, number>()
  for (const { name, id, entry } of entries) {
    if (name === '') {
      throw settingsError(
        `Event Mapping entry "${entry}" has no event name. Write it as Event Name=ID, e.g. Order Completed=0.`
      )
    }
    const eventId = typeof id === 'number' ? id : typeof id === 'string' && DIGITS.test(id) ? Number(id) : NaN
    if (!Number.isSafeInteger(eventId) || eventId < 0) {
      throw settingsError(
        `Event Mapping entry "${entry}" has an invalid ID. IDs are whole numbers of 0 or more: 0 for the base conversion, otherwise the advertiser event ID from Everflow.`
      )
    }
    const previous = eventIds.get(name)
    if (previous !== undefined && previous !== eventId) {
      throw settingsError(`Event Mapping maps "${name}" twice, to ${previous} and to ${eventId}. Keep one of them.`)
    }
    eventIds.set(name, eventId)
  }
  return eventIds
}

function parseVerificationToken(raw: string | undefined): string | undefined {
  const token = raw?.trim()
  if (!token) return undefined
  if (SPACE_OR_CONTROL.test(token)) {
    throw settingsError(
      'Verification Token contains spaces or control characters. Copy it again from the offer in Everflow.'
    )
  }
  return token
}

function parseSettingsUncached(settings: Settings): ParsedSettings {
  const { postbackBase, networkId: urlNetworkId } = parsePostbackUrl(settings.postbackUrl ?? '')
  const settingNetworkId = settings.networkId?.trim()
    ? parseNetworkId(settings.networkId.trim(), 'Network ID')
    : undefined
  if (urlNetworkId && settingNetworkId && urlNetworkId !== settingNetworkId) {
    throw settingsError(
      `Network ID is ${settingNetworkId} but the Postback URL has nid=${urlNetworkId}. Clear Network ID or make the two agree.`
    )
  }
  const networkId = urlNetworkId ?? settingNetworkId
  if (!networkId) {
    throw settingsError(
      'Network ID is missing: the Postback URL has no nid parameter. Paste the full Global Postback URL from Everflow or fill in Network ID.'
    )
  }
  return {
    postbackBase,
    networkId,
    eventIds: parseEventMapping(settings.eventMapping ?? ''),
    verificationToken: parseVerificationToken(settings.verificationToken)
  }
}

// Segment passes the settings with every event, and parsing them costs about 5 µs, twice what building the
// postback does (measured with the benchmark's settings). Parsed settings are immutable, so equal settings
// share one result.
const PARSED_CACHE_SIZE = 100
const parsedCache = new Map<string, ParsedSettings>()

/** Parses and validates every setting the postback needs; one code path for the action and the settings check. */
export function parseSettings(settings: Settings): ParsedSettings {
  const key = JSON.stringify([
    settings.postbackUrl,
    settings.networkId,
    settings.eventMapping,
    settings.verificationToken
  ])
  let parsed = parsedCache.get(key)
  if (parsed === undefined) {
    try {
      parsed = parseSettingsUncached(settings)
    } catch (error) {
      // A message may quote what was typed; a secret pasted into the wrong field must not be echoed.
      throw redactError(error, secretsOf(settings))
    }
    if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.clear()
    parsedCache.set(key, parsed)
  }
  return parsed
}
