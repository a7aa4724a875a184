import { defaultValues } from '@segment/actions-core'
import type { DestinationDefinition } from '@segment/actions-core'
import type { Settings } from './generated-types'
import { testAuthentication } from './authentication'
import { createTrackConversion } from './trackConversion'
import { createRefundConversion } from './refundConversion'
import type { Transport } from './trackConversion/send'
import type { ApiTransport } from './everflow-api'
import { dnsLookup } from './addresses'
import { HostCheck } from './hosts'

/**
 * The destination. A `transport` other than the default is for tests, the benchmark and the toolkit's loopback
 * runs only (see Transport); without `lookup` it checks no host in DNS.
 */
export function createDestination(
  transport: Transport & ApiTransport = { lookup: dnsLookup }
): DestinationDefinition<Settings> {
  // One cache of DNS answers for the settings check and every postback of this destination.
  const hostCheck = transport.lookup ? new HostCheck({ lookup: transport.lookup }) : undefined
  const trackConversion = createTrackConversion(transport, hostCheck)
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
            'Which Everflow advertiser event each Segment event is. One Event Name=ID per line (for example Order Completed=0), or a JSON object. 0 is the base conversion.',
          type: 'string',
          required: true
        },
        postbackUrl: {
          label: 'Postback URL',
          description:
            'The Global Postback URL from Everflow (Control Center > Configuration > Global Postback), pasted as shown, for example https://www.trkexample.com/?nid=123&transaction_id={transaction_id}. Your tracking domain alone also works.',
          type: 'string',
          required: true
        },
        networkId: {
          label: 'Network ID',
          description:
            'Your Everflow network ID (nid). Needed only when the Postback URL has no nid parameter; when both are given they must agree.',
          type: 'string',
          required: false
        },
        verificationToken: {
          label: 'Verification Token',
          description:
            'The verification token of your offer in Everflow, if it enforces one. It is sent as verification_token with every postback.',
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
      testAuthentication: (request, { settings }) =>
        testAuthentication(request, settings, transport.apiOrigin, hostCheck)
    },
    presets: [
      {
        name: 'Order Completed',
        subscribe: 'type = "track" and event = "Order Completed"',
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
