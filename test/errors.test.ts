// The one retry rule and how an error becomes a batch result (src/errors.ts), read as Segment's runtime reads them.
import { IntegrationError, PayloadValidationError, RetryableError } from '@segment/actions-core'
import { batchErrorResult, failureReason, isRetryable, isRetryableResult, isRetryableStatus } from '../src/errors'

describe('the retry rule', () => {
  it.each([
    [408, true],
    [423, true],
    [429, true],
    [500, true],
    [503, true],
    [599, true],
    [400, false],
    [401, false],
    [404, false],
    [409, false],
    [422, false],
    [499, false]
  ])('status %i is retried: %s', (status, retried) => {
    expect(isRetryableStatus(status)).toBe(retried)
    expect(isRetryable(new IntegrationError('x', 'CODE', status))).toBe(retried)
    expect(isRetryableResult({ status, errortype: 'BAD_REQUEST' })).toBe(retried)
  })

  it('reads the status as core does: the error status, else its response status, else 500', () => {
    expect(isRetryable(Object.assign(new Error('http'), { response: { status: 429 } }))).toBe(true)
    expect(isRetryable(Object.assign(new Error('http'), { response: { status: 404 } }))).toBe(false)
    expect(isRetryable(new Error('no status'))).toBe(true)
    expect(isRetryable(new RetryableError('later', 429))).toBe(true)
    expect(isRetryable(new PayloadValidationError('bad field'))).toBe(false)
    expect(isRetryableResult({ errortype: 'RETRYABLE_ERROR', status: 400 })).toBe(true)
    expect(isRetryableResult({})).toBe(true)
  })
})

describe('batchErrorResult', () => {
  it('keeps the status and message, and names the kind of error', () => {
    expect(batchErrorResult(new PayloadValidationError('amount "$76" is not a sale amount.'))).toEqual({
      status: 400,
      errortype: 'PAYLOAD_VALIDATION_FAILED',
      errormessage: 'amount "$76" is not a sale amount.'
    })
    expect(batchErrorResult(new RetryableError('Segment will retry.', 503))).toEqual({
      status: 503,
      errortype: 'RETRYABLE_ERROR',
      errormessage: 'Segment will retry.'
    })
    expect(batchErrorResult(new IntegrationError('wrong setting', 'INVALID_SETTINGS', 400))).toEqual({
      status: 400,
      errortype: 'BAD_REQUEST',
      errormessage: 'wrong setting'
    })
    expect(batchErrorResult('thrown text')).toEqual({
      status: 500,
      errortype: 'INTERNAL_SERVER_ERROR',
      errormessage: 'thrown text'
    })
  })
})

describe('failureReason', () => {
  it('keeps the code or class name of a failure, never its message', () => {
    const secretInMessage = 'request to https://x.example/?verification_token=tok-SECRET failed'
    expect(failureReason(Object.assign(new Error(secretInMessage), { code: 'ECONNRESET' }), 'network error')).toBe(
      'ECONNRESET'
    )
    const timeout = new Error(secretInMessage)
    timeout.name = 'TimeoutError'
    expect(failureReason(timeout, 'network error')).toBe('TimeoutError')
    expect(failureReason({}, 'lookup failed')).toBe('lookup failed')
  })
})
