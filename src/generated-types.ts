// Generated file. DO NOT MODIFY IT BY HAND.

export interface Settings {
  /**
   * Your Everflow network API key (Control Center > Security). It checks these settings and, for Refund Conversion, finds and changes conversions through Everflow's Network API (that needs Full Access to Reporting). It is never sent with conversion postbacks.
   */
  apiKey: string
  /**
   * Which Everflow advertiser event each Segment event is. One Event Name=ID per line (for example Order Completed=0), or a JSON object. 0 is the base conversion.
   */
  eventMapping: string
  /**
   * The Global Postback URL from Everflow (Control Center > Configuration > Global Postback), pasted as shown, for example https://www.trkexample.com/?nid=123&transaction_id={transaction_id}. Your tracking domain alone also works.
   */
  postbackUrl: string
  /**
   * Your Everflow network ID (nid). Needed only when the Postback URL has no nid parameter; when both are given they must agree.
   */
  networkId?: string
  /**
   * The verification token of your offer in Everflow, if it enforces one. It is sent as verification_token with every postback.
   */
  verificationToken?: string
  /**
   * Where your Everflow account is hosted: US, or EU for accounts on the EU API host. Used for the API key's calls: the settings check and refunds.
   */
  apiRegion?: string
}
