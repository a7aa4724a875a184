// Generated file. DO NOT MODIFY IT BY HAND.

export interface Settings {
  /**
   * Your Everflow network API key (Control Center > Security). It checks these settings and, for Refund Conversion, finds and changes conversions through Everflow's Network API (that needs Full Access to Reporting). It is never sent with conversion postbacks.
   */
  apiKey: string
  /**
   * Which Everflow advertiser event each Segment event is: Event Name=ID pairs separated by commas, for example Order Completed=0, Signed Up=12 (semicolons and new lines separate too), or a JSON object such as {"Order Completed": 0}. 0 is the base conversion. Names must match the Segment event names exactly, case included; a name that contains a comma or semicolon needs the JSON form.
   */
  eventMapping: string
  /**
   * The Global Postback URL from Everflow (Control Center > Configuration > Global Postback), pasted as shown, for example https://www.trkexample.com/?nid=123&transaction_id={transaction_id}. Your tracking domain alone also works. A verification_token in it is used as the Verification Token; adv_event_id or event_id in it is refused (events come from Event Mapping).
   */
  postbackUrl: string
  /**
   * Your Everflow network ID (nid). Needed only when the Postback URL has no nid parameter, or only a placeholder such as nid={network_id}; when both are given they must agree.
   */
  networkId?: string
  /**
   * The verification token, if the advertiser enforces one: the verification_token of the postback URL on the offer's Tracking card in Everflow (8 characters or more). It is sent as verification_token with every postback. Leave it empty when the Postback URL already contains it.
   */
  verificationToken?: string
  /**
   * Where your Everflow account is hosted: US, or EU for accounts on the EU API host. Used for the API key's calls: the settings check and refunds.
   */
  apiRegion?: string
}
