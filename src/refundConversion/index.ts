// The refund action, read top to bottom: perform and performBatch here, one refund's path in send.ts, its rules as
// pure functions in refund.ts, the mapping's fields in fields.ts.
import { MultiStatusResponse } from '@segment/actions-core'
import type { ActionDefinition } from '@segment/actions-core'
import type { Settings } from '../generated-types'
import type { ApiTransport } from '../everflow-api'
import { batchErrorResult } from '../errors'
import { forEachBounded } from '../pool'
import { redactError, secretsOf } from '../secrets'
import { fields } from './fields'
import type { Payload } from './generated-types'
import { refundApi, refundConversion } from './send'

/** Refunds of one batch in flight at once: with two calls each, enough to keep the batch's paced calls busy. */
export const MAX_REFUNDS_IN_FLIGHT = 4

/** The action; `transport.apiOrigin` aims its API calls at a test server (see ApiTransport). */
export function createRefundConversion(transport: ApiTransport = {}): ActionDefinition<Settings, Payload> {
  return {
    title: 'Refund Conversion',
    description:
      "Reject the Everflow conversion of a fully refunded order, or lower its sale amount for a partial refund, through Everflow's Network API (needs an API Key that may change conversions).",
    defaultSubscription: 'type = "track" and event = "Order Refunded"',
    fields,
    perform: async (request, { payload, settings }) => {
      try {
        return await refundConversion(refundApi(request, settings, transport.apiOrigin), payload, Date.now())
      } catch (error) {
        // Messages quote event data, which could hold a secret by mistake; none is ever echoed.
        throw redactError(error, secretsOf(settings))
      }
    },
    performBatch: async (request, { payload: payloads, settings }) => {
      const results = new MultiStatusResponse()
      const secrets = secretsOf(settings)
      let api: ReturnType<typeof refundApi>
      try {
        // One client for the batch, so its pacing spans every refund in it.
        api = refundApi(request, settings, transport.apiOrigin)
      } catch (error) {
        payloads.forEach((_, index) => results.setErrorResponseAtIndex(index, batchErrorResult(error)))
        return results
      }
      await forEachBounded(payloads, MAX_REFUNDS_IN_FLIGHT, async (payload, index) => {
        try {
          const result = await refundConversion(api, payload, Date.now())
          results.setSuccessResponseAtIndex(index, { status: 200, sent: result.message, body: { ...result } })
        } catch (error) {
          results.setErrorResponseAtIndex(index, batchErrorResult(redactError(error, secrets)))
        }
      })
      return results
    }
  }
}

export default createRefundConversion()
