import type { InputField } from '@segment/actions-core'

export const DEFAULT_BATCH_SIZE = 100
// Segment's batches are at most this large; a bigger value would only be ignored.
export const MAX_BATCH_SIZE = 1000

/**
 * Fields every event needs, which the action checks itself instead of marking them `required`: the framework's
 * schema check would refuse a missing one before the action runs, with a message that cannot say where the value
 * comes from (context.referrer, the Everflow SDK). The docs list them as required.
 */
export const CHECKED_BY_THE_ACTION: ReadonlySet<string> = new Set(['transaction_id', 'referrer_type', 'event_name'])

export const fields: Record<string, InputField> = {
  transaction_id: {
    label: 'Transaction ID',
    description:
      'Required, except for a clickless coupon conversion. The Everflow click (transaction) ID that the conversion belongs to, sent by the source as context.referrer.id. The Everflow SDK returns it from EF.getAdvertiserTransactionId(); it is also the _ef_transaction_id URL parameter of the landing page.',
    type: 'string',
    required: false,
    default: { '@path': '$.context.referrer.id' }
  },
  referrer_type: {
    label: 'Referrer Type',
    description:
      'Required, except for a clickless coupon conversion. Where the transaction ID came from, sent by the source as context.referrer.type. Only events whose referrer type is "everflow" (any case) are sent as clicks; the Order Completed preset subscribes to "everflow" written in lower case.',
    type: 'string',
    required: false,
    default: { '@path': '$.context.referrer.type' }
  },
  event_name: {
    label: 'Event Name',
    description:
      'Required. The Segment event name, looked up in the Event Mapping setting to find the Everflow advertiser event ID.',
    type: 'string',
    required: false,
    default: { '@path': '$.event' }
  },
  adv_event_id: {
    label: 'Advertiser Event ID',
    description:
      'Everflow advertiser event ID to use instead of the Event Mapping lookup. 0 means the base conversion. Leave unmapped to use Event Mapping.',
    type: 'integer',
    required: false
  },
  amount: {
    label: 'Amount',
    description:
      'The sale amount, a plain decimal such as 76.00 with no currency symbol. Needed for revenue-share payouts. Numeric text is accepted.',
    // Text, not number: a value such as "$76" then reaches the action, which says exactly what is wrong with it,
    // instead of failing a generic type check. Numbers are converted to their decimal text by the framework.
    type: 'string',
    required: false,
    default: {
      '@if': {
        exists: { '@path': '$.properties.total' },
        then: { '@path': '$.properties.total' },
        else: { '@path': '$.properties.revenue' }
      }
    }
  },
  order_id: {
    label: 'Order ID',
    description: 'Your order reference. Everflow shows it in reports and uses it to match refunds.',
    type: 'string',
    required: false,
    default: {
      '@if': {
        exists: { '@path': '$.properties.orderId' },
        then: { '@path': '$.properties.orderId' },
        else: { '@path': '$.properties.order_id' }
      }
    }
  },
  user_ip: {
    label: 'User IP',
    description: "The converting user's IPv4 or IPv6 address.",
    type: 'string',
    required: false,
    default: { '@path': '$.context.ip' }
  },
  adv1: {
    label: 'Advertiser Sub 1 (adv1)',
    description: 'Free-form value shown in Everflow reports as adv1.',
    type: 'string',
    required: false,
    default: { '@path': '$.properties.adv1' }
  },
  adv2: {
    label: 'Advertiser Sub 2 (adv2)',
    description: 'Free-form value shown in Everflow reports as adv2.',
    type: 'string',
    required: false,
    default: { '@path': '$.properties.adv2' }
  },
  adv3: {
    label: 'Advertiser Sub 3 (adv3)',
    description: 'Free-form value shown in Everflow reports as adv3.',
    type: 'string',
    required: false,
    default: { '@path': '$.properties.adv3' }
  },
  adv4: {
    label: 'Advertiser Sub 4 (adv4)',
    description: 'Free-form value shown in Everflow reports as adv4.',
    type: 'string',
    required: false,
    default: { '@path': '$.properties.adv4' }
  },
  adv5: {
    label: 'Advertiser Sub 5 (adv5)',
    description: 'Free-form value shown in Everflow reports as adv5.',
    type: 'string',
    required: false,
    default: { '@path': '$.properties.adv5' }
  },
  coupon_code: {
    label: 'Coupon Code',
    description:
      'The coupon used for the order. Everflow credits a conversion without a click to the partner a coupon code in Everflow (Partners > Coupon Codes) belongs to; see Clickless Coupon Conversions.',
    type: 'string',
    required: false,
    default: { '@path': '$.properties.coupon' }
  },
  clickless_coupons: {
    label: 'Clickless Coupon Conversions',
    description:
      'When on, an order without an Everflow click (context.referrer.type is not "everflow", or there is no transaction ID) but with a Coupon Code is sent as a clickless coupon conversion: the postback carries coupon_code and no transaction_id, and Everflow credits the partner the code belongs to. A code that is not set up in Everflow (a store discount code) credits no partner, so turn this on only in a mapping subscribed to orders with a coupon and no Everflow click. When off, such an order is refused. Orders with a click are sent the same either way.',
    type: 'boolean',
    required: false,
    default: false
  },
  offer_id: {
    label: 'Offer ID',
    description:
      'The Everflow offer ID, sent as oid. Needed for a clickless coupon conversion when the coupon code is used on several offers of the same partner. Not mapped by default; map it to a fixed ID or a property. With a click, Everflow takes the offer from the click; an oid of another offer can be refused (error code 14, click and conversion offer not matching).',
    type: 'integer',
    required: false
  },
  email: {
    label: 'Email',
    description:
      "The customer's email address in plain text (Everflow attributes by email; it is sent trimmed and lower-cased).",
    type: 'string',
    required: false,
    default: {
      '@if': {
        exists: { '@path': '$.context.traits.email' },
        then: { '@path': '$.context.traits.email' },
        else: { '@path': '$.properties.email' }
      }
    }
  },
  currency: {
    label: 'Currency',
    description: 'The three-letter ISO 4217 currency code of the amount, such as USD. It is sent upper-cased.',
    type: 'string',
    required: false,
    default: { '@path': '$.properties.currency' }
  },
  timestamp: {
    label: 'Timestamp',
    description:
      'When the conversion happened: an ISO 8601 date and time such as 2026-01-31T12:00:00Z (one without a time zone is read as UTC), or Unix seconds or milliseconds. It is sent to Everflow as Unix seconds.',
    type: 'datetime',
    required: false,
    default: { '@path': '$.timestamp' }
  },
  custom_parameters: {
    label: 'Custom Parameters',
    description:
      'Extra query parameters for the postback, such as sub IDs used by Everflow Postback Controls. Names may use letters, digits and underscores.',
    type: 'object',
    required: false,
    defaultObjectUI: 'keyvalue',
    additionalProperties: true
  },
  enable_batching: {
    label: 'Batch Events',
    description:
      'When on, Segment hands events over in batches; each event still becomes its own postback and gets its own result.',
    type: 'boolean',
    required: false,
    default: true
  },
  batch_size: {
    label: 'Batch Size',
    description: 'The most events Segment hands over in one batch when Batch Events is on.',
    type: 'integer',
    required: false,
    minimum: 1,
    maximum: MAX_BATCH_SIZE,
    default: DEFAULT_BATCH_SIZE,
    unsafe_hidden: true
  }
}
