import type { BrowserDestinationDefinition } from '@segment/browser-destination-runtime/types'
import { browserDestination } from '@segment/browser-destination-runtime/shim'
import type { Settings } from './generated-types'
import type { EverflowClient } from './client'
import { clickFromUrl, DEFAULT_PARAMETER, DEFAULT_WINDOW_DAYS, parameterName, saveClick, windowDays } from './click-id'
import everflowPlugin from './everflowPlugin'

export const destination: BrowserDestinationDefinition<Settings, EverflowClient> = {
  name: 'Everflow Plugins',
  slug: 'actions-everflow-plugins',
  mode: 'device',
  description:
    'Keeps the Everflow click id of visitors who arrive from an Everflow tracking link, and adds it to their events as context.referrer, so that Everflow (Actions) can send their conversions.',
  settings: {
    clickIdParameter: {
      label: 'Click ID URL Parameter',
      description: `The URL parameter your Everflow tracking links put the click id (transaction id) in when they send visitors to your site. Everflow's default is ${DEFAULT_PARAMETER}.`,
      type: 'string',
      default: DEFAULT_PARAMETER
    },
    attributionWindowDays: {
      label: 'Attribution Window (days)',
      description: `How many days after the click an event still gets the click id. Everflow's default conversion lookback is ${DEFAULT_WINDOW_DAYS} days; use your offer's if it differs.`,
      type: 'number',
      default: DEFAULT_WINDOW_DAYS
    },
    advertiserId: {
      label: 'Everflow Advertiser ID',
      description:
        "Only if your site loads Everflow's JavaScript SDK (direct linking): your advertiser id in Everflow. The click id is then what EF.getAdvertiserTransactionId(advertiser id) answers, so this plugin agrees with the SDK.",
      type: 'string'
    }
  },
  // Runs once per page load: a landing with a valid click id in the URL keeps it, replacing an older click.
  initialize: ({ settings }) => {
    const client: EverflowClient = {}
    try {
      const now = Date.now()
      const click = clickFromUrl(window.location.search, parameterName(settings), now)
      if (click) {
        client.landed = click
        saveClick(click, windowDays(settings), now)
      }
    } catch {
      // A page that blocks storage still loads; this page's events keep the click through client.landed.
    }
    return Promise.resolve(client)
  },
  actions: {
    everflowPlugin
  }
}

export default browserDestination(destination)
