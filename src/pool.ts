import { ErrorCodes, getErrorCodeFromHttpStatus, PayloadValidationError, RetryableError } from '@segment/actions-core'
import type { ModifiedResponse, RequestClient } from '@segment/actions-core'
import type { ParsedSettings } from '../settings'
import type { Payload } from './generated-types'
import { buildPostback } from './postback'
import type { HostCheck } from '../hosts'
import { redactUrl, redactError } from '../secrets'
import { isRetryableStatus, sendPostback } from './send'
import type { Transport } from './send'

export type { Transport }

/**
 * Postbacks of one batch in flight at once. 16 hides the round trip to a tracking domain (a batch of
 * 1,000 at 50 ms a postback takes about 3 s instead of 50 s) while staying far below what would look
 * like a flood to Everflow and keeping one worker's open sockets few.
 */
export const MAX_POSTBACKS_IN_FLIGHT = 16

/** One conversion, start to end: the single code path of perform and performBatch. */
export async function deliverConversion(
  request: RequestClient,
  payload: Payload,
  settings: ParsedSettings,
  secrets: string[],
  transport: Transport = {},
  hostCheck?: HostCheck
): Promise<{ sent: string; response: ModifiedResponse }> {
  try {
    const postback = buildPostback(payload, settings)
    await hostCheck?.beforePostback(settings.postbackHost)
    const response = await sendPostback(request, postback, transport)
    return { sent: redactUrl(postback.url, secrets), response }
  } catch (error) {
    // Messages quote event data, which can hold a secret by mistake; none is ever echoed.
    throw redactError(error, secrets)
  }
}

/** The batch result of an event that failed, with the status Segment uses to decide on a retry. */
export function errorResponse(error: unknown): {
  status: number
  errortype: keyof typeof ErrorCodes
  errormessage: string
} {
  const { status, message } = error as { status?: number; message?: string }
  const code = typeof status === 'number' ? status : 500
  const errortype =
    error instanceof PayloadValidationError
      ? 'PAYLOAD_VALIDATION_FAILED'
      : error instanceof RetryableError
        ? 'RETRYABLE_ERROR'
        : getErrorCodeFromHttpStatus(code)
  return { status: code, errortype, errormessage: message ?? String(error) }
}

/** Whether Segment retries an event that failed with this error: a RetryableError, 408, 423, 429 or 5xx. */
export function isRetryable(error: unknown): boolean {
  return error instanceof RetryableError || isRetryableStatus(errorResponse(error).status)
}

/** Runs fn over items with at most `limit` calls pending at once, in order of the items. */
export async function forEachBounded<T>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      await fn(items[index], index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
