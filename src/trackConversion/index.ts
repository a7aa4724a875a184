import { MultiStatusResponse } from '@segment/actions-core'
import type { ActionDefinition } from '@segment/actions-core'
import type { Settings } from '../generated-types'
import { parseSettings } from '../settings'
import type { ParsedSettings } from '../settings'
import { secretsOf } from '../secrets'
import type { Payload } from './generated-types'
import { fields } from './fields'
import { deliverConversion, errorResponse, forEachBounded, MAX_POSTBACKS_IN_FLIGHT } from './deliver'
import type { Transport } from './deliver'
import type { HostCheck } from '../hosts'

/** The action; `transport` is for tests and the benchmark only (see Transport), hostCheck guards the Postback URL host. */
export function createTrackConversion(
  transport: Transport = {},
  hostCheck?: HostCheck
): ActionDefinition<Settings, Payload> {
  return {
    title: 'Track Conversion',
    description:
      'Send a conversion, or a post-conversion event from Event Mapping, to Everflow as a postback for the click in context.referrer.id.',
    defaultSubscription: 'type = "track" and event = "Order Completed"',
    fields,
    perform: async (request, { payload, settings }) => {
      const { response } = await deliverConversion(
        request,
        payload,
        parseSettings(settings),
        secretsOf(settings),
        transport,
        hostCheck
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
        payloads.forEach((_, index) => results.setErrorResponseAtIndex(index, errorResponse(error)))
        return results
      }
      const secrets = secretsOf(settings)
      await forEachBounded(payloads, MAX_POSTBACKS_IN_FLIGHT, async (payload, index) => {
        try {
          const { sent, response } = await deliverConversion(request, payload, parsed, secrets, transport, hostCheck)
          results.setSuccessResponseAtIndex(index, { status: response.status, sent, body: response.content ?? '' })
        } catch (error) {
          results.setErrorResponseAtIndex(index, errorResponse(error))
        }
      })
      return results
    }
  }
}

export default createTrackConversion()
