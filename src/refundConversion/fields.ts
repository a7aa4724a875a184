import type { InputField } from '@segment/actions-core'
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from '../trackConversion/fields'

/**
 * How far before the refund the conversion is looked for, by default. Stores refund within their return window,
 * mostly 30 to 90 days after the order; Everflow's own conversion lookback defaults to 30 days and it keeps raw
 * clicks about 90 days. 90 days covers those while keeping Everflow's report query short.
 */
export const DEFAULT_LOOKBACK_DAYS = 90
/** Everflow's conversion report reaches back over the prior 365 days only. */
export const MAX_LOOKBACK_DAYS = 365

/**
 * A refund whose conversion is not found is retried while it is younger than this. Everflow's reports show a
 * conversion within minutes of its postback, so a refund sent right after its order can arrive first; Segment
 * retries a failed event for about 4 hours, and past that a missing conversion is missing for good.
 */
export const RETRY_NOT_FOUND_HOURS = 4

export const fields: Record<string, InputField> = {
  order_id: {
    label: 'Order ID',
    description:
      'The refunded order, exactly as it was sent with the conversion (its order_id in Everflow). The conversion whose order ID matches it exactly is changed.',
    type: 'string',
    required: true,
    default: {
      '@if': {
        exists: { '@path': '$.properties.order_id' },
        then: { '@path': '$.properties.order_id' },
        else: { '@path': '$.properties.orderId' }
      }
    }
  },
  transaction_id: {
    label: 'Transaction ID',
    description:
      "The Everflow click (transaction) ID of the order, when the refund event has it (context.referrer.id). With it, that click's conversions are searched first; without it, or when they hold none of the order, Everflow's conversion report is searched by order ID.",
    type: 'string',
    required: false,
    default: { '@path': '$.context.referrer.id' }
  },
  refund_amount: {
    label: 'Refunded Amount',
    description:
      'How much of the order has been refunded in all, a plain decimal such as 20.00 (for a second partial refund: both together). Empty, or at least Order Total (without Order Total: at least the recorded sale amount), is a full refund: the conversion is rejected. Less is a partial refund, which needs Order Total.',
    // Text, as trackConversion's amount: a value such as "$20" reaches the action, which says what is wrong with it.
    type: 'string',
    required: false,
    default: { '@path': '$.properties.total' }
  },
  order_total: {
    label: 'Order Total',
    description:
      "The order's total before any refund, as sent with the conversion (Segment's Order Refunded has no such property: add it). A partial refund sets the sale amount to Order Total minus Refunded Amount, so a refund delivered twice lowers it only once.",
    type: 'string',
    required: false,
    default: { '@path': '$.properties.order_total' }
  },
  timestamp: {
    label: 'Refund Time',
    description: `When the order was refunded. The conversion is looked for in the Lookback Days before it; a refund younger than ${RETRY_NOT_FOUND_HOURS} hours whose conversion is not found yet is retried, as Everflow reports conversions with a delay.`,
    type: 'datetime',
    required: true,
    default: { '@path': '$.timestamp' }
  },
  lookback_days: {
    label: 'Lookback Days',
    description: `How many days before the refund the conversion report is searched by order ID, 1 to ${MAX_LOOKBACK_DAYS} (the report reaches back ${MAX_LOOKBACK_DAYS} days).`,
    type: 'integer',
    required: false,
    default: DEFAULT_LOOKBACK_DAYS,
    minimum: 1,
    maximum: MAX_LOOKBACK_DAYS
  },
  enable_batching: {
    label: 'Batch Events',
    description:
      "When on, Segment hands refunds over in batches; each refund still gets its own lookup, change and result, paced within Everflow's API rate limit.",
    type: 'boolean',
    required: false,
    default: true
  },
  batch_size: {
    label: 'Batch Size',
    description: 'The most refunds Segment hands over in one batch when Batch Events is on.',
    type: 'integer',
    required: false,
    minimum: 1,
    maximum: MAX_BATCH_SIZE,
    default: DEFAULT_BATCH_SIZE,
    unsafe_hidden: true
  }
}
