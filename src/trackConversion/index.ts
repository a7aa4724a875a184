import type { ActionDefinition } from '@segment/actions-core'
import type { Settings } from '../generated-types'
import { parseSettings } from '../settings'
import type { Payload } from './generated-types'
import { fields } from './fields'
import { buildPostback } from './postback'
import { sendPostback } from './send'

const action: ActionDefinition<Settings, Payload> = {
  title: 'Track Conversion',
  description:
    'Send a conversion, or a post-conversion event from Event Mapping, to Everflow as a postback for the click in context.referrer.id.',
  defaultSubscription: 'type = "track" and event = "Order Completed"',
  fields,
  perform: (request, { payload, settings }) => {
    const postback = buildPostback(payload, parseSettings(settings))
    return sendPostback(request, postback, [settings.verificationToken, settings.apiKey])
  }
}

export default action
