// Generated file. DO NOT MODIFY IT BY HAND.

export interface Payload {
  /**
   * The refunded order, exactly as it was sent with the conversion (its order_id in Everflow). The conversion whose order ID matches it exactly is changed.
   */
  order_id: string
  /**
   * The Everflow click (transaction) ID of the order, when the refund event has it (context.referrer.id). With it, that click's conversions are searched first; without it, or when they hold none of the order, Everflow's conversion report is searched by order ID.
   */
  transaction_id?: string
  /**
   * How much of the order has been refunded in all, a plain decimal such as 20.00 (for a second partial refund: both together). Empty, or at least Order Total (without Order Total: at least the recorded sale amount), is a full refund: the conversion is rejected. Less is a partial refund, which needs Order Total.
   */
  refund_amount?: string
  /**
   * The order's total before any refund, as sent with the conversion (Segment's Order Refunded has no such property: add it). A partial refund sets the sale amount to Order Total minus Refunded Amount, so a refund delivered twice lowers it only once.
   */
  order_total?: string
  /**
   * When the order was refunded. The conversion is looked for in the Lookback Days before it; a refund younger than 4 hours whose conversion is not found yet is retried, as Everflow reports conversions with a delay.
   */
  timestamp: string | number
  /**
   * How many days before the refund the conversion report is searched by order ID, 1 to 365 (the report reaches back 365 days).
   */
  lookback_days?: number
  /**
   * When on, Segment hands refunds over in batches; each refund still gets its own lookup, change and result, paced within Everflow's API rate limit.
   */
  enable_batching?: boolean
  /**
   * The most refunds Segment hands over in one batch when Batch Events is on.
   */
  batch_size?: number
}
