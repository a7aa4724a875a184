import type { BrowserActionDefinition } from '@segment/browser-destination-runtime/types'
import type { Settings } from '../generated-types'
import type { Payload } from './generated-types'
import type { EverflowClient } from '../client'
import { newestCurrent, sdkClickId, storedClick, windowDays } from '../click-id'

/**
 * Whether the event may be given the Everflow click: it has no referrer, or an Everflow one without an id
 * (page code that wrote `EF.getAdvertiserTransactionId(...)` when the SDK knew no click). Any other referrer
 * is the event's own and stays as it is.
 */
function referrerToFill(referrer: unknown): 'referrer' | 'id' | undefined {
  if (referrer === undefined || referrer === null) return 'referrer'
  if (typeof referrer !== 'object') return undefined
  const { type, id } = referrer as { type?: unknown; id?: unknown }
  if (type === undefined && id === undefined && Object.keys(referrer).length === 0) return 'referrer'
  if (type === 'everflow' && (id === undefined || id === null || id === '')) return 'id'
  return undefined
}

const action: BrowserActionDefinition<Settings, EverflowClient, Payload> = {
  title: 'Everflow Click ID',
  description:
    'Adds the Everflow click (context.referrer = { type: "everflow", id }) to events that have no referrer of their own, while a click from an Everflow tracking link or the Everflow SDK is inside the attribution window.',
  platform: 'web',
  hidden: false,
  defaultSubscription: 'type = "track" or type = "page" or type = "identify"',
  fields: {},
  lifecycleHook: 'enrichment',
  perform: (client, { context, settings }) => {
    // Nothing here may throw into the customer's page: a failure costs the click, not the event.
    try {
      const fill = referrerToFill(context.event.context?.referrer)
      if (!fill) return
      const now = Date.now()
      const days = windowDays(settings)
      const id =
        sdkClickId(settings.advertiserId) ?? newestCurrent([client?.landed, storedClick(now, days)], now, days)?.id
      if (!id) return
      if (fill === 'referrer') context.updateEvent('context.referrer', { type: 'everflow', id })
      else context.updateEvent('context.referrer.id', id)
    } catch {
      return
    }
  }
}

export default action
