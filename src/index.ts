import { defaultValues } from '@segment/actions-core'
import type { DestinationDefinition } from '@segment/actions-core'
import type { Settings } from './generated-types'
import { testAuthentication } from './authentication'
import { createTrackConversion } from './trackConversion'
import { createRefundConversion } from './refundConversion'
import type { Transport } from './trackConversion/send'
import type { ApiTransport } from './everflow-api'
import { dnsLookup } from './addresses'
import { ConnectionGuard } from './connection-guard'
import { ORDER_COMPLETED_SUBSCRIPTION } from './subscriptions'

/**
 * The destination. A `transport` other than the default is for tests only (see Transport); `lookup` answers for
 * DNS, in the settings check and when postbacks connect.
 */
export function createDestination(transport: Transport & ApiTransport = {}): DestinationDefinition<Settings> {
  const lookup = transport.lookup ?? dnsLookup
  // One set of connections for every postback of this destination, each refused if it would reach a private address.
  const guard = new ConnectionGuard({ lookup, allowAddress: transport.allowAddress })
  const trackConversion = createTrackConversion(transport, guard)
  const refundConversion = createRefundConversion(transport)
  return {
    name: 'Everflow (Actions)',
    slug: 'actions-everflow',
    mode: 'cloud',
    description: 'Send conversions and post-conversion events from Segment to Everflow as server-side postbacks.',
    authentication: {
      scheme: 'custom',
      fields: {
        apiKey: {
          label: 'API Key',
          description:
            "Your Everflow network API key (Control Center > Security). It checks these settings and, for Refund Conversion, finds and changes conversions through Everflow's Network API (that needs Full Access to Reporting). It is never sent with conversion postbacks.",
          type: 'password',
          required: true
        },
        eventMapping: {
          label: 'Event Mapping',
          description:
            'Which Everflow advertiser event each Segment event is: Event Name=ID pairs separated by commas, for example Order Completed=0, Signed Up=12 (semicolons and new lines separate too), or a JSON object such as {"Order Completed": 0}. 0 is the base conversion. Names must match the Segment event names exactly, case included; a name that contains a comma or semicolon needs the JSON form.',
          type: 'string',
          required: true
        },
        postbackUrl: {
          label: 'Postback URL',
          description:
            'The Global Postback URL from Everflow (Control Center > Configuration > Global Postback), pasted as shown, for example https://www.trkexample.com/?nid=123&transaction_id={transaction_id}. Your tracking domain alone also works. A verification_token in it is used as the Verification Token; adv_event_id or event_id in it is refused (events come from Event Mapping).',
          type: 'string',
          required: true
        },
        networkId: {
          label: 'Network ID',
          description:
            'Your Everflow network ID (nid). Needed only when the Postback URL has no nid parameter, or only a placeholder such as nid={network_id}; when both are given they must agree.',
          type: 'string',
          required: false
        },
        verificationToken: {
          label: 'Verification Token',
          description:
            "The verification token, if the advertiser enforces one: the verification_token of the postback URL on the offer's Tracking card in Everflow (8 characters or more). It is sent as verification_token with every postback. Leave it empty when the Postback URL already contains it.",
          type: 'password',
          required: false
        },
        apiRegion: {
          label: 'API Region',
          description:
            "Where your Everflow account is hosted: US, or EU for accounts on the EU API host. Used for the API key's calls: the settings check and refunds.",
          type: 'string',
          required: false,
          choices: [
            { label: 'US', value: 'us' },
            { label: 'EU', value: 'eu' }
          ],
          default: 'us'
        }
      },
      testAuthentication: (request, { settings }) => testAuthentication(request, settings, lookup, transport.apiOrigin)
    },
    presets: [
      {
        name: 'Order Completed',
        subscribe: ORDER_COMPLETED_SUBSCRIPTION,
        partnerAction: 'trackConversion',
        mapping: defaultValues(trackConversion.fields),
        type: 'automatic'
      },
      {
        name: 'Order Refunded',
        subscribe: 'type = "track" and event = "Order Refunded"',
        partnerAction: 'refundConversion',
        mapping: defaultValues(refundConversion.fields),
        type: 'automatic'
      }
    ],
    actions: {
      trackConversion,
      refundConversion
    }
  }
}

export default createDestination()
