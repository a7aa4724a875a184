// The small client for Everflow's Network API: the host by region, the key in its header only, what an answer means, and politeness (request spacing, backoff on 429).
import type { ModifiedResponse, RequestClient } from '@segment/actions-core'
import { failureReason } from './errors'

export const API_HOSTS = {
  us: 'https://api.eflow.team/v1',
  eu: 'https://api-eu.eflow.team/v1'
} as const
export type Region = keyof typeof API_HOSTS
export const REGION_NAMES: Record<Region, string> = { us: 'US', eu: 'EU' }

/** The API Region setting as a host key; anything but EU (in any case) is the US host, as the setting's default. */
export function regionOf(apiRegion: string | undefined): Region {
  return apiRegion?.trim().toLowerCase() === 'eu' ? 'eu' : 'us'
}

/** Test-only: aims the API calls at a server on this machine (see Transport). No setting can reach this. */
export interface ApiTransport {
  apiOrigin?: string
}

/** What one answer of Everflow's Network API means. */
export type ApiAnswer =
  | { kind: 'ok'; status: number; body: unknown }
  | { kind: 'unauthorized' }
  | { kind: 'forbidden' }
  | { kind: 'rate-limited'; retryAfterMs?: number }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'unexpected'; status: number }

export interface ApiClientOptions {
  request: RequestClient
  apiKey: string
  region: Region
  /** Test-only loopback origin (ApiTransport). */
  apiOrigin?: string
  /** At most this many requests start per second; unlimited when unset. */
  requestsPerSecond?: number
  /** How often a 429 is waited out and retried before it is returned; 0 (the settings check) returns it at once. */
  retriesOnRateLimit?: number
  /** A 429 that asks for a longer wait than this is returned at once instead of waited out (an action cannot wait long). */
  maxWaitMs?: number
  /** Told before each wait after a 429, so a tool can say it is backing off. */
  onRateLimited?: (waitMs: number, retry: number) => void
  sleep?: (ms: number) => Promise<void>
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH'

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Spaces calls so at most `perSecond` start each second; each caller awaits its own turn. */
export function createPacer(perSecond: number | undefined, wait: (ms: number) => Promise<void> = sleep) {
  // No rate, or 0, spaces nothing. (A negative, NaN or infinite rate would space nothing either.)
  const rate = perSecond ?? 0
  if (!(rate > 0)) return () => Promise.resolve()
  const interval = 1000 / rate
  let nextSlot = 0
  return (): Promise<void> => {
    const now = Date.now()
    const slot = Math.max(now, nextSlot)
    nextSlot = slot + interval
    return slot > now ? wait(slot - now) : Promise.resolve()
  }
}

/** Retry-After in milliseconds: seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterOf(response: ModifiedResponse): number | undefined {
  // Header values arrive trimmed.
  const value = response.headers.get('retry-after')
  if (!value) return undefined
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

function bodyOf(response: ModifiedResponse): unknown {
  try {
    return JSON.parse(response.content)
  } catch {
    return undefined
  }
}

export function classify(response: ModifiedResponse): ApiAnswer {
  const { status } = response
  if (status === 401) return { kind: 'unauthorized' }
  if (status === 403) return { kind: 'forbidden' }
  if (status === 429) return { kind: 'rate-limited', retryAfterMs: retryAfterOf(response) }
  if (status >= 500) return { kind: 'unreachable', reason: `HTTP ${status}` }
  // fetch hands over no 1xx answer, so below 300 is a success.
  if (status >= 300) return { kind: 'unexpected', status }
  return { kind: 'ok', status, body: bodyOf(response) }
}

/** Longest wait after a 429 without a Retry-After: 1 s, 2 s, 4 s ... up to this. */
const MAX_BACKOFF_MS = 30_000

export function createEverflowApi(options: ApiClientOptions) {
  const wait = options.sleep ?? sleep
  const pace = createPacer(options.requestsPerSecond, wait)
  const base = options.apiOrigin ? `${new URL(options.apiOrigin).origin}/v1` : API_HOSTS[options.region]

  async function once(method: Method, path: string, body?: object): Promise<ApiAnswer> {
    await pace()
    try {
      const response = await options.request(`${base}${path}`, {
        method,
        // The key travels only in this header: never in the URL, a message or a log line.
        headers: { 'X-Eflow-API-Key': options.apiKey },
        ...(body === undefined ? {} : { json: body }),
        throwHttpErrors: false,
        redirect: 'manual'
      })
      return classify(response)
    } catch (error) {
      // The error text may quote the request; only its code is kept.
      return { kind: 'unreachable', reason: failureReason(error, 'network error') }
    }
  }

  /** One call to a path under /v1, waiting out up to retriesOnRateLimit 429s. */
  async function call(method: Method, path: string, body?: object): Promise<ApiAnswer> {
    const retries = options.retriesOnRateLimit ?? 0
    for (let retry = 1; ; retry++) {
      const answer = await once(method, path, body)
      if (answer.kind !== 'rate-limited' || retry > retries) return answer
      const waitMs = answer.retryAfterMs ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (retry - 1))
      if (options.maxWaitMs !== undefined && waitMs > options.maxWaitMs) return answer
      options.onRateLimited?.(waitMs, retry)
      await wait(waitMs)
    }
  }

  return {
    region: options.region,
    /** GET a path under /v1 (for example /networks). */
    get: (path: string): Promise<ApiAnswer> => call('GET', path),
    /** POST, PUT or PATCH a JSON body to a path under /v1. */
    send: (method: Exclude<Method, 'GET'>, path: string, body: object): Promise<ApiAnswer> => call(method, path, body)
  }
}

export type EverflowApi = ReturnType<typeof createEverflowApi>
