import type { Settings } from './generated-types'
import { isIP } from 'net'
import { isPrivateAddress } from './addresses'
import { settingsError } from './errors'
import { MIN_SECRET_LENGTH_MASKED_ANYWHERE, redact, secretsOf } from './secrets'

/** Settings as the postback needs them, after parsing and validation. */
export interface ParsedSettings {
  /** Origin and path of the tracking domain, e.g. `https://www.trkexample.com/`, with no query. */
  postbackBase: string
  /** The tracking domain's host name, e.g. `www.trkexample.com`. */
  postbackHost: string
  networkId: string
  eventIds: ReadonlyMap<string, number>
  verificationToken?: string
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
  // Stryker disable next-line StringLiteral: equivalent, every name under home.arpa is also under arpa
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

function parseNetworkId(value: string, source: string, secrets: string[], help = ''): string {
  if (!DIGITS.test(value) || Number(value) === 0 || !Number.isSafeInteger(Number(value))) {
    throw settingsError(
      `${source}: ${JSON.stringify(redact(value, secrets))} is not an Everflow network ID. A network ID is a positive whole number, such as 123.${help}`
    )
  }
  return String(Number(value))
}

/**
 * The Postback URL as a message quotes it: without its query (which can hold a verification token) or
 * user-info (which can hold a password), with control characters escaped.
 */
function quotedPostbackUrl(input: string, secrets: string[]): string {
  const withoutSecrets = redact(
    input.replace(/[?#][\s\S]*$/, '').replace(/^((?:[a-z][a-z0-9+.-]*:)?\/+)?[^/@]*@/i, '$1…@'),
    secrets
  )
  return JSON.stringify(withoutSecrets.length > 200 ? `${withoutSecrets.slice(0, 200)}…` : withoutSecrets)
}

/**
 * Reads the Postback URL setting. Only https to a public DNS name is allowed, because the
 * destination sends conversions (and the verification token) there.
 */
export function parsePostbackUrl(
  raw: string,
  secrets: string[] = []
): {
  postbackBase: string
  postbackHost: string
  networkId?: string
  /** The nid parameter when it is a placeholder such as {network_id}, which Everflow shows before it is filled in. */
  nidPlaceholder?: string
  /** A verification_token written into the URL, as an offer's Tracking card shows it. */
  verificationToken?: string
} {
  const input = raw.trim()
  if (input === '') throw settingsError(`Postback URL is empty. ${POSTBACK_URL_HELP}`)
  // Checked on the raw text: the URL parser would silently drop or rewrite these.
  if (SPACE_OR_CONTROL.test(input) || input.includes('\\')) {
    throw settingsError(
      `Postback URL ${quotedPostbackUrl(input, secrets)} contains spaces, control characters or backslashes. ${POSTBACK_URL_HELP}`
    )
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(input)?.[1].toLowerCase()
  const hasScheme = scheme !== undefined && input.slice(scheme.length + 1).startsWith('//')
  if (hasScheme && scheme !== 'https') {
    throw settingsError(
      `Postback URL ${quotedPostbackUrl(input, secrets)} uses ${scheme}; Everflow postbacks must use https. ${POSTBACK_URL_HELP}`
    )
  }
  // The URL parser skips any number of slashes before the host, so the authority is read after all of them.
  const withScheme = hasScheme ? input : `https://${input.replace(/^\/+/, '')}`
  const authority = /^https:\/+([^/?#]*)/i.exec(withScheme)?.[1] ?? ''
  if (authority.includes('@')) {
    throw settingsError(
      `Postback URL ${quotedPostbackUrl(input, secrets)} contains a user name or password; remove everything before "@". ${POSTBACK_URL_HELP}`
    )
  }
  if (/:[^\]]*$/.test(authority)) {
    throw settingsError(
      `Postback URL ${quotedPostbackUrl(input, secrets)} names a port; Everflow tracking domains use the default https port. ${POSTBACK_URL_HELP}`
    )
  }

  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw settingsError(
      `Postback URL ${quotedPostbackUrl(input, secrets)} is not a URL or hostname. ${POSTBACK_URL_HELP}`
    )
  }

  const host = url.hostname.replace(/\.$/, '')
  // The URL parser writes every IPv4 form (0x7f.1, 2130706433 ...) as dotted decimal and IPv6 in brackets.
  const address = host.startsWith('[') ? host.slice(1, -1) : host
  if (isIP(address) !== 0) {
    const kind = isPrivateAddress(address) ? 'a private or local IP address' : 'an IP address'
    throw settingsError(
      `Postback URL ${quotedPostbackUrl(input, secrets)} points at ${kind}; use your Everflow tracking domain. ${POSTBACK_URL_HELP}`
    )
  }
  const labels = host.split('.')
  // A last label of digits never gets here: the URL parser reads such a host as an IPv4 address or refuses it.
  if (labels.length < 2 || !labels.every((label) => DNS_LABEL.test(label))) {
    throw settingsError(
      `Postback URL ${quotedPostbackUrl(input, secrets)} does not name a public tracking domain such as www.trkexample.com. ${POSTBACK_URL_HELP}`
    )
  }
  // A name of one label was refused above, so a reserved name always follows a dot.
  if (RESERVED_SUFFIXES.some((suffix) => host.endsWith(`.${suffix}`))) {
    throw settingsError(
      `Postback URL ${quotedPostbackUrl(input, secrets)} names a local or reserved host; use your public Everflow tracking domain. ${POSTBACK_URL_HELP}`
    )
  }

  const nid = url.searchParams.get('nid')?.trim()
  const networkId =
    nid && !PLACEHOLDER.test(nid)
      ? parseNetworkId(nid, 'Postback URL (its nid parameter)', secrets, ` ${POSTBACK_URL_HELP}`)
      : undefined
  // An event postback copied from an offer's Tracking card names one event for every conversion; here the event
  // of each conversion comes from Event Mapping, and the URL's query is not sent, so the ID would be lost silently.
  const advertiserEventId = literalParameter(url.searchParams, 'adv_event_id')
  if (advertiserEventId !== undefined) {
    throw settingsError(
      redact(
        `Postback URL contains adv_event_id=${advertiserEventId}, which would make every conversion that one event, but the event of each conversion comes from Event Mapping. ` +
          `Remove adv_event_id from the Postback URL and add the event to Event Mapping instead, e.g. Order Completed=${DIGITS.test(advertiserEventId) ? advertiserEventId : 'ID'}.`,
        secrets
      )
    )
  }
  const offerEventId = literalParameter(url.searchParams, 'event_id')
  if (offerEventId !== undefined) {
    throw settingsError(
      redact(
        `Postback URL contains event_id=${offerEventId}, an offer event ID, which would make every conversion that one event; this destination sends the advertiser event ID of each event from Event Mapping. ` +
          'Remove event_id from the Postback URL and add the Segment event with its advertiser event ID to Event Mapping, e.g. Order Completed=0 for the base conversion.',
        secrets
      )
    )
  }
  return {
    postbackBase: `https://${host}${url.pathname}`,
    postbackHost: host,
    networkId,
    nidPlaceholder: nid && PLACEHOLDER.test(nid) ? nid : undefined,
    verificationToken: literalParameter(url.searchParams, 'verification_token')
  }
}

/** A query parameter's value as typed, unless it is blank or a placeholder such as {transaction_id}. */
function literalParameter(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name)?.trim()
  return value && !PLACEHOLDER.test(value) ? value : undefined
}

const EVENT_ID_HELP =
  'IDs are whole numbers of 0 or more: 0 for the base conversion, otherwise the advertiser event ID from Everflow.'

const PAIRS_HELP =
  'Write Event Name=ID pairs separated by commas, semicolons or new lines, e.g. Order Completed=0, Signed Up=12.'

/**
 * Reads the Event Mapping setting: Event Name=ID pairs separated by commas, semicolons or new lines (Segment's
 * settings form is one line of text), the same as JSON text, or an object (what a settings file or the classic
 * destination's map holds). IDs may be numbers or digit strings. Event names are matched exactly as Segment sends
 * them; a name with a comma or semicolon needs the JSON form.
 */
export function parseEventMapping(raw: unknown, secrets: string[] = []): Map<string, number> {
  const quoteMasked = (value: unknown): string =>
    typeof value === 'string'
      ? JSON.stringify(redact(value, secrets))
      : redact(JSON.stringify(value) ?? 'nothing', secrets)
  const entries: Array<{ name: string; id: unknown }> = []
  const text = typeof raw === 'string' ? raw.trim() : undefined
  let mapping: unknown = raw
  if (text?.startsWith('{')) {
    try {
      mapping = JSON.parse(text)
    } catch (error) {
      throw settingsError(
        `Event Mapping looks like JSON but does not parse (${redact((error as Error).message, secrets)}). Write it as {"Order Completed": 0} or as Event Name=ID pairs separated by commas.`
      )
    }
  } else if (text !== undefined) {
    for (const line of text.split(/\r?\n/)) {
      for (const part of line.split(/[,;]/)) {
        const entry = part.trim()
        if (entry === '') continue
        const separator = entry.lastIndexOf('=')
        if (separator < 0) {
          throw settingsError(
            `Event Mapping entry ${quoteMasked(entry)} has no "=". ${PAIRS_HELP}${redact(asJsonHint(line), secrets)}`
          )
        }
        entries.push({ name: entry.slice(0, separator).trim(), id: entry.slice(separator + 1).trim() })
      }
    }
    mapping = undefined
  }
  if (mapping !== undefined) {
    if (mapping === null || typeof mapping !== 'object' || Array.isArray(mapping)) {
      throw settingsError(
        'Event Mapping must be text of Event Name=ID pairs, or an object such as {"Order Completed": 0}.'
      )
    }
    for (const [name, id] of Object.entries(mapping)) entries.push({ name: name.trim(), id })
  }
  if (entries.length === 0) {
    throw settingsError(
      'Event Mapping is empty. Add Event Name=ID pairs separated by commas, e.g. Order Completed=0, Signed Up=12 (0 is the base conversion).'
    )
  }

  const eventIds = new Map<string, number>()
  for (const { name, id } of entries) {
    if (name === '') {
      throw settingsError(
        `Event Mapping has an entry with the ID ${quoteMasked(id)} but no event name. Write it as Event Name=ID, e.g. Order Completed=0.`
      )
    }
    const digits = typeof id === 'string' ? id.trim() : undefined
    const eventId = typeof id === 'number' ? id : digits !== undefined && DIGITS.test(digits) ? Number(digits) : NaN
    if (!Number.isSafeInteger(eventId) || eventId < 0) {
      throw settingsError(
        digits === ''
          ? `Event Mapping has no ID for the event ${quoteMasked(name)}. ${EVENT_ID_HELP}`
          : `Event Mapping gives the event ${quoteMasked(name)} the ID ${quoteMasked(id)}, which is not an Everflow event ID. ${EVENT_ID_HELP}`
      )
    }
    const previous = eventIds.get(name)
    if (previous !== undefined && previous !== eventId) {
      throw settingsError(
        `Event Mapping maps ${quoteMasked(name)} twice, to ${previous} and to ${eventId}. Keep one of them.`
      )
    }
    eventIds.set(name, eventId)
  }
  return eventIds
}

/**
 * For a line such as "Order Completed, Shipped=3", whose name holds a comma or semicolon: how to write it as JSON.
 * Only the event name and ID are quoted, which the user typed into this setting.
 */
function asJsonHint(line: string): string {
  const separator = line.lastIndexOf('=')
  const name = line.slice(0, separator).trim()
  const id = line.slice(separator + 1).trim()
  if (separator < 0 || !/[,;]/.test(name) || /[,;]/.test(id) || !DIGITS.test(id)) return ''
  return ` For an event name that contains a comma or semicolon, write the mapping as JSON: {${JSON.stringify(name)}: ${Number(id)}}.`
}

function parseVerificationToken(raw: string | undefined, source: string): string | undefined {
  const token = raw?.trim()
  if (!token) return undefined
  if (SPACE_OR_CONTROL.test(token)) {
    throw settingsError(
      `${source} contains spaces or control characters. Copy it again from the offer's Tracking card in Everflow.`
    )
  }
  // Everflow generates verification tokens; one this short is not one of them, and could not be told apart from
  // event data (an amount of 76, an order ID) to keep it out of messages.
  if (token.length < MIN_SECRET_LENGTH_MASKED_ANYWHERE) {
    throw settingsError(
      `${source} is ${token.length} characters long, shorter than any token Everflow generates (at least ${MIN_SECRET_LENGTH_MASKED_ANYWHERE}). ` +
        "Copy it again from the offer's Tracking card in Everflow (the verification_token of its postback URL)."
    )
  }
  return token
}

function parseSettingsUncached(settings: Settings): ParsedSettings {
  // Messages quote what was typed, masked where it holds a secret (one pasted into the wrong field).
  const secrets = secretsOf(settings)
  const {
    postbackBase,
    postbackHost,
    networkId: urlNetworkId,
    nidPlaceholder,
    verificationToken: urlToken
  } = parsePostbackUrl(settings.postbackUrl ?? '', secrets)
  const settingNetworkId = settings.networkId?.trim()
    ? parseNetworkId(settings.networkId.trim(), 'Network ID', secrets)
    : undefined
  if (urlNetworkId && settingNetworkId && urlNetworkId !== settingNetworkId) {
    throw settingsError(
      redact(
        `Network ID is ${settingNetworkId} but the Postback URL has nid=${urlNetworkId}. Clear Network ID or make the two agree.`,
        secrets
      )
    )
  }
  const networkId = urlNetworkId ?? settingNetworkId
  if (!networkId) {
    throw settingsError(
      nidPlaceholder
        ? redact(
            `Network ID is missing: the Postback URL has nid=${nidPlaceholder}, a placeholder. Replace ${nidPlaceholder} with your network ID (a whole number such as 123, ` +
              'shown in the Global Postback URL in Everflow), or fill in Network ID.',
            secrets
          )
        : 'Network ID is missing: the Postback URL has no nid parameter. Paste the full Global Postback URL from Everflow or fill in Network ID.'
    )
  }
  const eventIds = parseEventMapping(settings.eventMapping ?? '', secrets)
  const settingToken = parseVerificationToken(settings.verificationToken, 'Verification Token')
  const tokenInUrl = parseVerificationToken(urlToken, 'The verification_token in the Postback URL')
  if (settingToken && tokenInUrl && settingToken !== tokenInUrl) {
    throw settingsError(
      'Verification Token and the verification_token in the Postback URL differ. Keep the token in one of them, or make the two the same.'
    )
  }
  return {
    postbackBase,
    postbackHost,
    networkId,
    eventIds,
    verificationToken: settingToken ?? tokenInUrl
  }
}

// Segment passes the settings with every event, and parsing them costs about 5 µs, twice what building the
// postback does. Parsed settings are immutable, so equal settings
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
    parsed = parseSettingsUncached(settings)
    if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.clear()
    parsedCache.set(key, parsed)
  }
  return parsed
}
