// One conversion's path, start to end (the single code path of perform and performBatch), and its request.
import { IntegrationError, RetryableError } from '@segment/actions-core'
import type { ModifiedResponse, RequestClient } from '@segment/actions-core'
import type { HostLookup } from '../addresses'
import { PRIVATE_ADDRESS_REFUSED } from '../connection-guard'
import type { ConnectionGuard } from '../connection-guard'
import { CONVERSION_REJECTED, failureReason, isRetryableStatus, POSTBACK_FAILED, settingsError } from '../errors'
import { privateHostMessage } from '../hosts'
import { redactError } from '../secrets'
import type { ParsedSettings } from '../settings'
import type { Payload } from './generated-types'
import { buildPostback } from './postback'
import type { Postback } from './postback'

/**
 * Where postbacks really go. In production (createDestination's default, `{}`) the Postback URL setting decides:
 * it only allows https public hosts, and a connection to an address that is private is refused when it is made.
 * Tests pass their own transport: `postbackOrigin` aims the very same code at a server on 127.0.0.1 (and `timeout`
 * shortens the wait), `lookup` answers for DNS, `allowAddress` lets a loopback server through; no setting can
 * reach this.
 */
export interface Transport {
  postbackOrigin?: string
  /** Request timeout in milliseconds; the framework's default (10 s) when unset. */
  timeout?: number
  /** Resolves the Postback URL host, for the settings check and for every connection; Node's resolver by default. */
  lookup?: HostLookup
  /** Test-only: private addresses a connection may reach anyway (a test's server on 127.0.0.1). */
  allowAddress?: (address: string) => boolean
}

/** One conversion: build its postback and send it. Returns its URL, which holds secrets: redactUrl it to show it. */
export async function sendConversion(
  request: RequestClient,
  payload: Payload,
  settings: ParsedSettings,
  secrets: string[],
  transport: Transport = {},
  guard?: ConnectionGuard
): Promise<{ url: string; response: ModifiedResponse }> {
  try {
    const postback = buildPostback(payload, settings)
    const response = await sendPostback(request, postback, transport, guard)
    return { url: postback.url, response }
  } catch (error) {
    // Messages quote event data, which can hold a secret by mistake; none is ever echoed.
    throw redactError(error, secrets)
  }
}

/** Sends one postback through the framework's request client and checks Everflow's answer. */
export async function sendPostback(
  request: RequestClient,
  postback: Postback,
  transport: Transport = {},
  guard?: ConnectionGuard
): Promise<ModifiedResponse> {
  let url = postback.url
  if (transport.postbackOrigin) {
    const target = new URL(postback.url)
    const origin = new URL(transport.postbackOrigin)
    target.protocol = origin.protocol
    target.host = origin.host
    url = target.toString()
  }
  let response: ModifiedResponse
  try {
    // Redirects are not followed: a postback, with its verification token, goes only to the configured domain.
    // The guard's agent refuses private addresses when connecting and keeps connections alive across postbacks.
    // skipResponseCloning reads the body once instead of twice.
    response = await request(url, {
      method: 'GET',
      redirect: 'manual',
      throwHttpErrors: false,
      skipResponseCloning: true,
      timeout: transport.timeout,
      agent: guard?.agentFor(url)
    })
  } catch (error) {
    if ((error as { code?: string }).code === PRIVATE_ADDRESS_REFUSED) {
      // node-fetch keeps only the code of the guard's error; the guard remembers which address it refused.
      const host = new URL(url).hostname
      throw settingsError(`${privateHostMessage(host, guard?.refusedAddress(host))} The postback was not sent.`)
    }
    // Timeouts, refused or reset connections, failed lookups: transient, so retryable. (node-fetch 2 notices a
    // connection cut in the middle of a body only when the timeout ends.)
    throw new RetryableError(
      `Got no complete answer from Everflow at ${new URL(postback.url).host} (${failureReason(error, 'network error')}) for the conversion with ${postback.subject}. Segment will retry.`
    )
  }
  checkPostbackResponse(response, postback)
  return response
}

const CONVERSION_REPORT =
  "Look up the transaction ID in Everflow's Advertiser Postback report or Conversion Report (Reporting); they show why a conversion was rejected."
const COUPON_REPORT =
  "Look up the order in Everflow's Advertiser Postback report (Reporting): a coupon code Everflow does not know (Partners > Coupon Codes), or one outside its dates, credits no partner."

/** Everflow's answer to a postback, as Segment should treat it: returns on success, throws otherwise. */
export function checkPostbackResponse(response: ModifiedResponse, postback: Postback): void {
  const { status } = response
  const what = `the conversion for ${postback.subject}`
  const report = postback.transactionId === '' ? COUPON_REPORT : CONVERSION_REPORT
  if (status === 204) {
    throw new IntegrationError(
      `Everflow answered 204 No Content: it did not record ${what}. ${report}`,
      CONVERSION_REJECTED,
      400
    )
  }
  // fetch hands over no 1xx answer, so below 300 is a success.
  if (status < 300) {
    // A tracking domain answers a postback with a tiny body; a web page means the Postback URL is a website's.
    if (response.headers.get('content-type')?.includes('text/html')) {
      throw new IntegrationError(
        `Everflow's tracking domain answered ${status} with a web page for ${what}, which is not a postback answer: ` +
          'the Postback URL probably points at a website, not at your Everflow tracking domain. Check the Postback URL setting.',
        POSTBACK_FAILED,
        400
      )
    }
    // Some refusals come with 200; one whose body says "error" must not count as a success.
    if (jsonError(response.content) !== undefined) {
      throw new IntegrationError(
        `Everflow refused ${what}${errorDetail(response)}. ${report}`,
        CONVERSION_REJECTED,
        400
      )
    }
    return
  }
  if (status < 400) {
    const location = response.headers.get('location') ?? 'nowhere'
    throw new IntegrationError(
      `Everflow answered ${status} with a redirect to ${location} for ${what}; postbacks are not sent on to other addresses. Check the Postback URL setting against the Global Postback URL in Everflow.`,
      POSTBACK_FAILED,
      400
    )
  }
  const message = `Everflow answered ${status} ${response.statusText} for ${what}${errorDetail(response)}`
  if (isRetryableStatus(status)) {
    throw new RetryableError(`${message}. Segment will retry.`, status as RetryableError['status'])
  }
  throw new IntegrationError(
    `${message}. Check the Postback URL and Verification Token settings.`,
    POSTBACK_FAILED,
    status
  )
}

/** The `error` field of a JSON body, which is how Everflow words a refusal. */
function jsonError(content: string): string | undefined {
  // Only an object can hold "error"; a failed JSON.parse throws, which is costly on every plain-text success.
  // Stryker disable next-line all: a shortcut for speed, JSON.parse below gives the same answer without it
  if (!content.trimStart().startsWith('{')) return undefined
  try {
    // JSON null makes this throw, which is caught below.
    const { error } = JSON.parse(content) as { error?: unknown }
    if (!error) return undefined
    return typeof error === 'string' ? error : JSON.stringify(error)
  } catch {
    return undefined
  }
}

/** What Everflow said, for a message: ": " and the body's error (or the body), on one line and cut at 300 characters. */
function errorDetail(response: ModifiedResponse): string {
  const content = response.content.trim()
  const detail = jsonError(content) ?? content
  // Cut, then trimmed again: a cut after a space would leave it before the message's full stop.
  return detail === '' ? '' : `: ${detail.replace(/\s+/g, ' ').slice(0, 300).trimEnd()}`
}
