// The action, read top to bottom: perform and performBatch here, one conversion's path and its request in
// send.ts, the postback's parameters in postback.ts, the mapping's fields in fields.ts.
import { MultiStatusResponse } from '@segment/actions-core'
import type { ActionDefinition } from '@segment/actions-core'
import type { Settings } from '../generated-types'
import { batchErrorResult } from '../errors'
import type { ConnectionGuard } from '../connection-guard'
import { forEachBounded } from '../pool'
import { redactUrl, secretsOf } from '../secrets'
import { ORDER_COMPLETED_SUBSCRIPTION } from '../subscriptions'
import { parseSettings } from '../settings'
import type { ParsedSettings } from '../settings'
import { fields } from './fields'
import type { Payload } from './generated-types'
import { sendConversion } from './send'
import type { Transport } from './send'

/**
 * Postbacks of one batch in flight at once. 16 hides the round trip to a tracking domain (a batch of
 * 1,000 at 50 ms a postback takes about 3 s instead of 50 s) while staying far below what would look
 * like a flood to Everflow and keeping one worker's open sockets few.
 */
export const MAX_POSTBACKS_IN_FLIGHT = 16

/** The action; `transport` is for tests only (see Transport), `guard` carries its connections. */
export function createTrackConversion(
  transport: Transport = {},
  guard?: ConnectionGuard
): ActionDefinition<Settings, Payload> {
  return {
    title: 'Track Conversion',
    description:
      'Send a conversion, or a post-conversion event from Event Mapping, to Everflow as a postback for the click in context.referrer.id.',
    defaultSubscription: ORDER_COMPLETED_SUBSCRIPTION,
    fields,
    perform: async (request, { payload, settings }) => {
      const { response } = await sendConversion(
        request,
        payload,
        parseSettings(settings),
        secretsOf(settings),
        transport,
        guard
      )
      return response
    },
    performBatch: async (request, { payload: payloads, settings }) => {
      const results = new MultiStatusResponse()
      let parsed: ParsedSettings
      try {
        parsed = parseSettings(settings)
      } catch (error) {
        // Alone, every event would fail on the same setting; so does each one here.
        payloads.forEach((_, index) => results.setErrorResponseAtIndex(index, batchErrorResult(error)))
        return results
      }
      const secrets = secretsOf(settings)
      await forEachBounded(payloads, MAX_POSTBACKS_IN_FLIGHT, async (payload, index) => {
        try {
          const { url, response } = await sendConversion(request, payload, parsed, secrets, transport, guard)
          results.setSuccessResponseAtIndex(index, {
            status: response.status,
            sent: redactUrl(url, secrets),
            body: response.content
          })
        } catch (error) {
          results.setErrorResponseAtIndex(index, batchErrorResult(error))
        }
      })
      return results
    }
  }
}

export default createTrackConversion()
