// The destination's errors in one place: every error code it reports, the one rule for what Segment retries, and
// how an error becomes an event's result in a batch.
import {
  ErrorCodes,
  getErrorCodeFromHttpStatus,
  IntegrationError,
  PayloadValidationError,
  RetryableError
} from '@segment/actions-core'

/** A setting is wrong: the user fixes it in the settings form. */
export const INVALID_SETTINGS = 'INVALID_SETTINGS'
/** Everflow answered the postback but did not record the conversion (204, or an "error" body). */
export const CONVERSION_REJECTED = 'EVERFLOW_CONVERSION_REJECTED'
/** The postback got an answer that is not a postback answer: a redirect, a web page, a 4xx. */
export const POSTBACK_FAILED = 'EVERFLOW_POSTBACK_FAILED'
/** The settings check could not look up the Postback URL host, for a reason that is not the settings'. */
export const POSTBACK_HOST_LOOKUP_FAILED = 'POSTBACK_HOST_LOOKUP_FAILED'
/** Everflow's Network API could not be reached, or answered unexpectedly, while checking the API Key. */
export const EVERFLOW_API_UNAVAILABLE = 'EVERFLOW_API_UNAVAILABLE'
/** Everflow's Network API rate limit was hit while checking the API Key. */
export const EVERFLOW_API_RATE_LIMITED = 'EVERFLOW_API_RATE_LIMITED'
/** A refund found no conversion of its order in Everflow (final: the refund is too old to wait for the report). */
export const CONVERSION_NOT_FOUND = 'EVERFLOW_CONVERSION_NOT_FOUND'
/** A partial refund found several conversions of its order and cannot tell which one to lower. */
export const REFUND_AMBIGUOUS = 'EVERFLOW_REFUND_AMBIGUOUS'
/** Everflow's Network API answered a refund's lookup or change unexpectedly. */
export const REFUND_FAILED = 'EVERFLOW_REFUND_FAILED'

/** The error of every wrong setting: a 400 with the code INVALID_SETTINGS. */
export function settingsError(message: string): IntegrationError {
  return new IntegrationError(message, INVALID_SETTINGS, 400)
}

/** The statuses Segment retries: timeouts, locks, rate limits and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 423 || status === 429
}

/** The status Segment reads from a thrown error, as core does: its status, else its response's, else 500. */
function statusOf(error: unknown): number {
  const { status, response } = (error ?? {}) as { status?: unknown; response?: { status?: unknown } }
  if (typeof status === 'number') return status
  return typeof response?.status === 'number' ? response.status : 500
}

/** Whether Segment retries an event that failed with this error: a RetryableError, 408, 423, 429 or 5xx. */
export function isRetryable(error: unknown): boolean {
  return error instanceof RetryableError || isRetryableStatus(statusOf(error))
}

/** Whether Segment retries an event whose batch result is this: the same rule, read from the result. */
export function isRetryableResult(result: { status?: number; errortype?: string }): boolean {
  return result.errortype === 'RETRYABLE_ERROR' || isRetryableStatus(result.status ?? 500)
}

/** The batch result of an event that failed, with the status Segment uses to decide on a retry. */
export function batchErrorResult(error: unknown): {
  status: number
  errortype: keyof typeof ErrorCodes
  errormessage: string
} {
  const status = statusOf(error)
  const errortype =
    error instanceof PayloadValidationError
      ? 'PAYLOAD_VALIDATION_FAILED'
      : error instanceof RetryableError
        ? 'RETRYABLE_ERROR'
        : getErrorCodeFromHttpStatus(status)
  const { message } = (error ?? {}) as { message?: string }
  return { status, errortype, errormessage: message ?? String(error) }
}

/**
 * What a failed request or lookup says about why, without its text: a network error's message can quote the URL
 * (and with it a secret), its code (ECONNRESET, ENOTFOUND ...) or class name cannot.
 */
export function failureReason(error: unknown, fallback: string): string {
  const { code, name } = (error ?? {}) as { code?: string; name?: string }
  return code ?? name ?? fallback
}
