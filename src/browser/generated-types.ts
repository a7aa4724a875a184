// Generated file. DO NOT MODIFY IT BY HAND.

export interface Settings {
  /**
   * The URL parameter your Everflow tracking links put the click id (transaction id) in when they send visitors to your site. Everflow's default is _ef_transaction_id.
   */
  clickIdParameter?: string
  /**
   * How many days after the click an event still gets the click id. Everflow's default conversion lookback is 30 days; use your offer's if it differs.
   */
  attributionWindowDays?: number
  /**
   * Only if your site loads Everflow's JavaScript SDK (direct linking): your advertiser id in Everflow. The click id is then what EF.getAdvertiserTransactionId(advertiser id) answers, so this plugin agrees with the SDK.
   */
  advertiserId?: string
}
