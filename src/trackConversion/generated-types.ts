// Generated file. DO NOT MODIFY IT BY HAND.

export interface Payload {
  /**
   * Required, except for a clickless coupon conversion. The Everflow click (transaction) ID that the conversion belongs to, sent by the source as context.referrer.id. The Everflow SDK returns it from EF.getAdvertiserTransactionId(); it is also the _ef_transaction_id URL parameter of the landing page.
   */
  transaction_id?: string
  /**
   * Required, except for a clickless coupon conversion. Where the transaction ID came from, sent by the source as context.referrer.type. Only events whose referrer type is "everflow" (any case) are sent as clicks; the Order Completed preset subscribes to "everflow" written in lower case.
   */
  referrer_type?: string
  /**
   * Required. The Segment event name, looked up in the Event Mapping setting to find the Everflow advertiser event ID.
   */
  event_name?: string
  /**
   * Everflow advertiser event ID to use instead of the Event Mapping lookup. 0 means the base conversion. Leave unmapped to use Event Mapping.
   */
  adv_event_id?: number
  /**
   * The sale amount, a plain decimal such as 76.00 with no currency symbol. Needed for revenue-share payouts. Numeric text is accepted.
   */
  amount?: string
  /**
   * Your order reference. Everflow shows it in reports and uses it to match refunds.
   */
  order_id?: string
  /**
   * The converting user's IPv4 or IPv6 address.
   */
  user_ip?: string
  /**
   * Free-form value shown in Everflow reports as adv1.
   */
  adv1?: string
  /**
   * Free-form value shown in Everflow reports as adv2.
   */
  adv2?: string
  /**
   * Free-form value shown in Everflow reports as adv3.
   */
  adv3?: string
  /**
   * Free-form value shown in Everflow reports as adv4.
   */
  adv4?: string
  /**
   * Free-form value shown in Everflow reports as adv5.
   */
  adv5?: string
  /**
   * The coupon used for the order. Everflow credits a conversion without a click to the partner a coupon code in Everflow (Partners > Coupon Codes) belongs to; see Clickless Coupon Conversions.
   */
  coupon_code?: string
  /**
   * When on, an order without an Everflow click (context.referrer.type is not "everflow", or there is no transaction ID) but with a Coupon Code is sent as a clickless coupon conversion: the postback carries coupon_code and no transaction_id, and Everflow credits the partner the code belongs to. A code that is not set up in Everflow (a store discount code) credits no partner, so turn this on only in a mapping subscribed to orders with a coupon and no Everflow click. When off, such an order is refused. Orders with a click are sent the same either way.
   */
  clickless_coupons?: boolean
  /**
   * The Everflow offer ID, sent as oid. Needed for a clickless coupon conversion when the coupon code is used on several offers of the same partner. Not mapped by default; map it to a fixed ID or a property. With a click, Everflow takes the offer from the click; an oid of another offer can be refused (error code 14, click and conversion offer not matching).
   */
  offer_id?: number
  /**
   * The customer's email address in plain text (Everflow attributes by email; it is sent trimmed and lower-cased).
   */
  email?: string
  /**
   * The three-letter ISO 4217 currency code of the amount, such as USD. It is sent upper-cased.
   */
  currency?: string
  /**
   * When the conversion happened: an ISO 8601 date and time such as 2026-01-31T12:00:00Z (one without a time zone is read as UTC), or Unix seconds or milliseconds. It is sent to Everflow as Unix seconds.
   */
  timestamp?: string | number
  /**
   * Extra query parameters for the postback, such as sub IDs used by Everflow Postback Controls. Names may use letters, digits and underscores.
   */
  custom_parameters?: {
    [k: string]: unknown
  }
  /**
   * When on, Segment hands events over in batches; each event still becomes its own postback and gets its own result.
   */
  enable_batching?: boolean
  /**
   * The most events Segment hands over in one batch when Batch Events is on.
   */
  batch_size?: number
}
