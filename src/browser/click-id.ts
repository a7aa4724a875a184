// The Everflow click id in the browser: taken from the landing URL, kept first-party for the attribution window,
// or asked of Everflow's SDK. Every touch of cookies, storage and the SDK is guarded: a page that blocks them
// loses the click, never its own script.

/** Everflow's transaction ids are 32 hexadecimal characters; anything else found in a URL is not kept. */
const CLICK_ID = /^[0-9a-f]{32}$/i

export const DEFAULT_PARAMETER = '_ef_transaction_id'
/** Everflow's default conversion lookback. */
export const DEFAULT_WINDOW_DAYS = 30
/** The cookie (or localStorage key) the plugin keeps the click in; Everflow's SDK uses ef_tid_* names of its own. */
export const STORAGE_KEY = 'ef_segment_click'
const PROBE_KEY = 'ef_segment_probe'
const DAY_MS = 86_400_000

/** A click as kept: its id and when the visitor landed with it (milliseconds since 1970). */
export interface Click {
  id: string
  at: number
}

export interface ClickSettings {
  clickIdParameter?: string
  attributionWindowDays?: number
  advertiserId?: string
}

export function isClickId(value: unknown): value is string {
  return typeof value === 'string' && CLICK_ID.test(value)
}

/** The attribution window in days; a missing, zero, negative or non-numeric setting means Everflow's 30. */
export function windowDays(settings: ClickSettings): number {
  const days = Number(settings.attributionWindowDays)
  return Number.isFinite(days) && days > 0 ? days : DEFAULT_WINDOW_DAYS
}

export function parameterName(settings: ClickSettings): string {
  const name = typeof settings.clickIdParameter === 'string' ? settings.clickIdParameter.trim() : ''
  return name || DEFAULT_PARAMETER
}

/** How a click is kept: `<id>.<landing time in ms>`. */
export function formatClick(click: Click): string {
  return `${click.id}.${click.at}`
}

export function parseClick(text: string | null | undefined): Click | undefined {
  const match = /^([0-9a-f]{32})\.(\d{1,15})$/i.exec(text ?? '')
  return match ? { id: match[1], at: Number(match[2]) } : undefined
}

/** A click counts from its landing until the window has passed (a landing time ahead of the clock does not). */
export function isCurrent(click: Click, now: number, days: number): boolean {
  const age = now - click.at
  return age >= 0 && age < days * DAY_MS
}

/** The click the landing URL carries in the parameter, if it is a valid Everflow click id. */
export function clickFromUrl(search: string, parameter: string, now: number): Click | undefined {
  const id = new URLSearchParams(search).get(parameter)
  return isClickId(id) ? { id, at: now } : undefined
}

/** The newest of the clicks given that is still inside the window. */
export function newestCurrent(clicks: Array<Click | undefined>, now: number, days: number): Click | undefined {
  let newest: Click | undefined
  for (const click of clicks) {
    if (click && isCurrent(click, now, days) && (!newest || click.at > newest.at)) newest = click
  }
  return newest
}

/** Runs fn; a browser that throws (cookies or storage blocked, a sandboxed frame) gives the fallback instead. */
function guarded<T>(fn: () => T, fallback: T): T {
  try {
    return fn()
  } catch {
    return fallback
  }
}

function cookieValues(name: string): string[] {
  return guarded(() => {
    const values: string[] = []
    for (const part of document.cookie.split(';')) {
      const index = part.indexOf('=')
      if (index > 0 && part.slice(0, index).trim() === name) values.push(part.slice(index + 1).trim())
    }
    return values
  }, [])
}

function writeCookie(name: string, value: string, maxAgeSeconds: number, domain: string | undefined): void {
  const attributes = [`Max-Age=${maxAgeSeconds}`, 'Path=/', 'SameSite=Lax']
  if (domain) attributes.push(`Domain=${domain}`)
  if (location.protocol === 'https:') attributes.push('Secure')
  document.cookie = `${name}=${value}; ${attributes.join('; ')}`
}

let knownTopDomain: { host: string; domain: string | undefined } | undefined

/**
 * The widest domain this page may set a cookie on (example.com for shop.example.com, example.co.uk for
 * www.example.co.uk), found by trying ever longer suffixes: the browser refuses public suffixes such as com or
 * co.uk. Undefined (a cookie for this host only) for IP addresses, single-label hosts, or when none sticks.
 */
export function topDomain(host: string = location.hostname): string | undefined {
  if (knownTopDomain?.host === host) return knownTopDomain.domain
  let domain: string | undefined
  if (!/^[\d.]+$/.test(host) && !host.includes(':') && host.includes('.')) {
    const labels = host.split('.')
    for (let count = 2; count <= labels.length && !domain; count++) {
      const candidate = labels.slice(-count).join('.')
      guarded(() => writeCookie(PROBE_KEY, '1', 10, candidate), undefined)
      if (cookieValues(PROBE_KEY).includes('1')) {
        domain = candidate
        guarded(() => writeCookie(PROBE_KEY, '', 0, candidate), undefined)
      }
    }
  }
  knownTopDomain = { host, domain }
  return domain
}

/**
 * Keeps the click for the rest of its window: in a cookie on the top domain, or in localStorage when the cookie
 * does not stick (cookies blocked). Returns where it went, or undefined when neither worked.
 */
export function saveClick(click: Click, days: number, now: number): 'cookie' | 'localStorage' | undefined {
  const value = formatClick(click)
  const maxAge = Math.ceil((click.at + days * DAY_MS - now) / 1000)
  if (maxAge <= 0) return undefined
  guarded(() => writeCookie(STORAGE_KEY, value, maxAge, topDomain()), undefined)
  if (cookieValues(STORAGE_KEY).includes(value)) return 'cookie'
  return guarded(() => {
    window.localStorage.setItem(STORAGE_KEY, value)
    return 'localStorage' as const
  }, undefined)
}

/** The newest click kept in a cookie or in localStorage that is still inside the window. */
export function storedClick(now: number, days: number): Click | undefined {
  const kept = cookieValues(STORAGE_KEY).map(parseClick)
  kept.push(parseClick(guarded(() => window.localStorage.getItem(STORAGE_KEY), null)))
  return newestCurrent(kept, now, days)
}

/** The shape of Everflow's SDK this plugin relies on (the global EF that the tracking domain's script defines). */
interface EverflowSdk {
  getAdvertiserTransactionId?: (advertiserId: string | number) => unknown
}

/** What Everflow's SDK on the page holds for the advertiser, when the SDK is there and holds a valid click id. */
export function sdkClickId(advertiserId: string | undefined): string | undefined {
  const advertiser = typeof advertiserId === 'string' ? advertiserId.trim() : ''
  if (!advertiser) return undefined
  return guarded(() => {
    const sdk = (window as unknown as { EF?: EverflowSdk }).EF
    const id = typeof sdk?.getAdvertiserTransactionId === 'function' ? sdk.getAdvertiserTransactionId(advertiser) : ''
    return isClickId(id) ? id : undefined
  }, undefined)
}
