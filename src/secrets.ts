import type { Settings } from './generated-types'

/**
 * The verification tokens written into a Postback URL (as an offer's Tracking card shows one), as secret as the
 * setting: read as the settings parser reads the query (URLSearchParams, which decodes names and values), and from a
 * fragment too, where the parser ignores one but it is still what the user typed. Placeholders such as
 * {verification_token} are no secret.
 */
function tokensInUrl(postbackUrl: unknown): string[] {
  if (typeof postbackUrl !== 'string') return []
  const queryStart = postbackUrl.indexOf('?')
  if (queryStart < 0) return []
  return postbackUrl
    .slice(queryStart + 1)
    .split('#')
    .flatMap((part) => new URLSearchParams(part).getAll('verification_token'))
    .map((token) => token.trim())
    .filter((token) => !/^\{[^{}]*\}$/.test(token))
}

/** The settings that must never appear in anything the destination reports. */
export function secretsOf(settings: Settings): string[] {
  return [settings.verificationToken?.trim(), ...tokensInUrl(settings.postbackUrl), settings.apiKey?.trim()].filter(
    (secret): secret is string => !!secret
  )
}

/**
 * Secrets at least this long are masked wherever they occur. A shorter one (a verification token such as
 * "123") is masked only where it stands as a word of its own, so that "123456789" or "23.123.123.123"
 * are not mangled by it.
 */
export const MIN_SECRET_LENGTH_MASKED_ANYWHERE = 8

// What separates a word in a message, a URL query or a JSON text. Dots, dashes and slashes do not:
// they are parts of IPs, domains and ids.
const SEPARATOR = `\\s"'\`=&?,;:()[\\]{}<>`

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
}

// The word pattern of each short secret, built once: preview and send mask every postback URL with it.
const wordPatterns = new Map<string, RegExp>()

function wordPattern(secret: string): RegExp {
  let pattern = wordPatterns.get(secret)
  if (pattern === undefined) {
    // A word ends at a separator, at the end, or at a full stop that ends a sentence.
    pattern = new RegExp(
      `(?<![^${SEPARATOR}])${escapeRegExp(secret)}(?=$|[${SEPARATOR}]|[.!](?:$|[${SEPARATOR}]))`,
      'g'
    )
    if (wordPatterns.size >= 100) wordPatterns.clear()
    wordPatterns.set(secret, pattern)
  }
  return pattern
}

/** Replaces every real occurrence of a secret in text with ***: anywhere for a long secret, as a word for a short one. */
export function redact(text: string, secrets: string[]): string {
  return secrets.reduce((result, secret) => {
    if (!result.includes(secret)) return result
    if (secret.length >= MIN_SECRET_LENGTH_MASKED_ANYWHERE) return result.split(secret).join('***')
    return result.replace(wordPattern(secret), '***')
  }, text)
}

// A query whose names and values hold only these characters reads and writes back unchanged through
// URLSearchParams (which decodes "+" and "%XX" and encodes everything else): the postbacks the builder writes.
const PLAIN_QUERY = /^(?:[\w.*-]*=[\w.*-]*)(?:&[\w.*-]*=[\w.*-]*)*$/

/**
 * A postback URL as it may be shown: the verification_token parameter's value is ***, nid (the network ID from the
 * settings) is shown as it is, and every other value (event data, which can hold a secret by mistake) is masked as
 * text is.
 */
export function redactUrl(url: string, secrets: string[]): string {
  const queryStart = url.indexOf('?')
  if (queryStart < 0) return redact(url, secrets)
  const query = url.slice(queryStart + 1)
  const mask = (name: string, value: string) =>
    name === 'verification_token' ? '***' : name === 'nid' ? value : redact(value, secrets)
  let shown: string
  if (PLAIN_QUERY.test(query)) {
    // The same result without URLSearchParams: nothing to decode, and what redact writes needs no encoding.
    shown = query
      .split('&')
      .map((pair) => {
        const equals = pair.indexOf('=')
        const name = pair.slice(0, equals)
        return `${redact(name, secrets)}=${mask(name, pair.slice(equals + 1))}`
      })
      .join('&')
  } else {
    const params = new URLSearchParams()
    for (const [name, value] of new URLSearchParams(query)) params.append(redact(name, secrets), mask(name, value))
    // The query was written by URLSearchParams, so writing it again changes nothing but the masked values.
    shown = params.toString()
  }
  return `${redact(url.slice(0, queryStart), secrets)}?${shown}`
}

/** Removes every secret from an error's message and stack, keeping its class, code and status. */
export function redactError<T>(error: T, secrets: string[]): T {
  if (error instanceof Error) {
    error.message = redact(error.message, secrets)
    if (error.stack) error.stack = redact(error.stack, secrets)
  }
  return error
}
