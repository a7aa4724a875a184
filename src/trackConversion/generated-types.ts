// Generated file. DO NOT MODIFY IT BY HAND.

export interface Payload {
  /**
   * Required. The Everflow click (transaction) ID that the conversion belongs to, sent by the source as context.referrer.id. The Everflow SDK returns it from EF.getAdvertiserTransactionId(); it is also the _ef_transaction_id URL parameter of the landing page.
   */
  transaction_id?: string
  /**
   * Required. Where the transaction ID came from, sent by the source as context.referrer.type. Only events whose referrer type is "everflow" are sent.
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
   * The coupon used for the order, for coupon-code attribution in Everflow.
   */
  coupon_code?: string
  /**
   * The customer's email address in plain text (Everflow attributes by email; it is sent trimmed and lower-cased).
   */
  email?: string
  /**
   * The three-letter ISO 4217 currency code of the amount, such as USD. It is sent upper-cased.
   */
  currency?: string
  /**
   * When the conversion happened. It is sent to Everflow as Unix seconds.
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
