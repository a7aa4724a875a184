// One refund, start to end (the single path of perform and performBatch): read it, find the order's conversion, change
// it, and turn each answer of Everflow's Network API into a result or an error under the destination's one rule.
import { IntegrationError, InvalidAuthenticationError, RetryableError } from '@segment/actions-core'
import type { RequestClient } from '@segment/actions-core'
import { createEverflowApi, REGION_NAMES, regionOf } from '../everflow-api'
import type { ApiAnswer, EverflowApi } from '../everflow-api'
import { REFUND_FAILED, settingsError } from '../errors'
import type { Settings } from '../generated-types'
import type { Payload } from './generated-types'
import {
  changeCall,
  clickCall,
  conversionsOf,
  doneMessage,
  notFound,
  planRefund,
  readRefund,
  reportCall,
  rowsOf
} from './refund'
import type { ApiCall, Conversion } from './refund'

/**
 * Calls started per second by one perform or batch. A network's API keys share about 30 per second; 10 leaves room
 * for the settings check and the network's other tools, and a refund takes two calls.
 */
export const REFUND_REQUESTS_PER_SECOND = 10
/** A 429 is waited out twice at most, and only when Everflow asks for 5 s or less; else Segment retries later. */
export const RETRIES_ON_RATE_LIMIT = 2
export const MAX_RATE_LIMIT_WAIT_MS = 5000

/** The API client of one perform or batch: the settings' key and region, paced, with short 429 waits. */
export function refundApi(request: RequestClient, settings: Settings, apiOrigin?: string): EverflowApi {
  const apiKey = settings.apiKey?.trim() ?? ''
  if (apiKey === '') {
    throw new InvalidAuthenticationError(
      "API Key is empty: refunds change conversions through Everflow's Network API. Create a network API key under Control Center > Security and paste it into API Key."
    )
  }
  return createEverflowApi({
    request,
    apiKey,
    region: regionOf(settings.apiRegion),
    apiOrigin,
    requestsPerSecond: REFUND_REQUESTS_PER_SECOND,
    retriesOnRateLimit: RETRIES_ON_RATE_LIMIT,
    maxWaitMs: MAX_RATE_LIMIT_WAIT_MS
  })
}

export interface RefundResult {
  order_id: string
  outcome: 'rejected' | 'lowered' | 'unchanged'
  conversion_ids: string[]
  message: string
}

/** A call as a message shows it: method and path, never the host's key header. */
export const callText = (call: ApiCall) => `${call.method} /v1${call.path.split('?')[0]}`

/** What a failed answer means for the refund, under the destination's one error rule; never quotes the key. */
function failure(answer: Exclude<ApiAnswer, { kind: 'ok' }>, call: ApiCall, api: EverflowApi): Error {
  const region = REGION_NAMES[api.region]
  const writes = call.method === 'PATCH' || call.method === 'PUT'
  switch (answer.kind) {
    case 'unauthorized':
      return new InvalidAuthenticationError(
        `API Key was refused by Everflow's ${region} API (401 to ${callText(call)}): it is invalid or revoked, or the account is on the other region's API (API Region). Create a network API key under Control Center > Security.`
      )
    case 'forbidden':
      return settingsError(
        writes
          ? `API Key may not change conversions: Everflow answered 403 to ${callText(call)}. In Everflow, Control Center > Security > API Keys, give this key Full Access (not Read Only) to Reporting, where conversions are approved, rejected and their sale amounts changed, or paste a key that has it into API Key.`
          : `API Key may not read Everflow's conversion reports: Everflow answered 403 to ${callText(call)}. Refunds need a network API key (Control Center > Security > API Keys, not an advertiser or partner key) with Full Access to Reporting.`
      )
    case 'rate-limited':
      return new RetryableError(
        `Everflow's API rate limit was hit (429 to ${callText(call)})` +
          (answer.retryAfterMs !== undefined ? `; it asked to wait ${Math.ceil(answer.retryAfterMs / 1000)} s` : '') +
          ". A network's API keys share about 30 calls per second; Segment retries this refund.",
        429
      )
    case 'unreachable':
      return new RetryableError(
        `Everflow's ${region} API could not be reached for ${callText(call)} (${answer.reason}); Segment retries this refund.`
      )
    case 'unexpected':
      return new IntegrationError(
        `Everflow's ${region} API answered ${answer.status} to ${callText(call)}.` +
          (writes ? ' The conversion was not changed.' : ' Check API Region and the order ID.'),
        REFUND_FAILED,
        answer.status
      )
  }
}

/**
 * One refund against Everflow: the click's conversions when the refund has the click, else (or when the click shows
 * none) the conversion report by order ID; then, unless there is nothing to change, the change. Returns what was
 * done.
 */
export async function refundConversion(api: EverflowApi, payload: Payload, nowMs: number): Promise<RefundResult> {
  const refund = readRefund(payload)
  let conversions: Conversion[] = []
  if (refund.transactionId !== undefined) {
    const lookup = clickCall(refund.transactionId)
    const found = await api.get(lookup.path)
    // An unknown click may answer 404: it has no conversions, as an empty list says.
    if (found.kind === 'ok') conversions = conversionsOf(rowsOf(found.body), refund, false)
    else if (found.kind !== 'unexpected' || found.status !== 404) throw failure(found, lookup, api)
  }
  // Without the click, or when the click shows none (another click, or base conversions not among its events):
  // the conversion report, by order ID.
  if (conversions.length === 0) {
    const lookup = reportCall(refund, nowMs)
    const found = await api.send('POST', lookup.path, lookup.body as object)
    if (found.kind !== 'ok') throw failure(found, lookup, api)
    conversions = conversionsOf(rowsOf(found.body), refund, true)
  }
  if (conversions.length === 0) throw notFound(refund, nowMs)

  const plan = planRefund(refund, conversions)
  const change = changeCall(plan)
  const result = {
    order_id: refund.orderId,
    conversion_ids:
      plan.kind === 'reject'
        ? plan.conversions.map((c) => c.id)
        : plan.kind === 'lower'
          ? [plan.conversion.id]
          : conversions.map((c) => c.id),
    message: doneMessage(refund, plan)
  }
  if (!change) return { ...result, outcome: 'unchanged' }
  const changed = await api.send(change.method as 'PUT' | 'PATCH', change.path, change.body as object)
  if (changed.kind !== 'ok') throw failure(changed, change, api)
  if ((changed.body as { result?: unknown } | undefined)?.result !== true) {
    // Everflow says true when it takes the change; anything else is a failure worth retrying.
    throw new IntegrationError(
      `Everflow did not confirm ${callText(change)} (no "result": true in its answer); the conversion may be unchanged. Segment retries this refund.`,
      REFUND_FAILED,
      502
    )
  }
  return { ...result, outcome: plan.kind === 'reject' ? 'rejected' : 'lowered' }
}
