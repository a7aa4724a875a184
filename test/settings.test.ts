import { IntegrationError } from '@segment/actions-core'
import { parseEventMapping, parsePostbackUrl, parseSettings } from '../src/settings'
import { settings, thrown } from './support/helpers'

async function settingsError(fn: () => unknown): Promise<Error & { status?: number; code?: string }> {
  const error = await thrown(fn)
  expect(error).toBeInstanceOf(IntegrationError)
  expect(error.code).toBe('INVALID_SETTINGS')
  expect(error.status).toBe(400)
  return error
}

describe('Postback URL', () => {
  it.each([
    ['https://www.trkexample.com/?nid=123&transaction_id={transaction_id}', 'https://www.trkexample.com/', '123'],
    [
      '  https://www.trkexample.com/?transaction_id={transaction_id}&nid=77&adv1={adv1}  ',
      'https://www.trkexample.com/',
      '77'
    ],
    ['https://www.trkexample.com', 'https://www.trkexample.com/', undefined],
    ['www.trkexample.com', 'https://www.trkexample.com/', undefined],
    ['www.trkexample.com/?nid=5', 'https://www.trkexample.com/', '5'],
    ['HTTPS://WWW.TrkExample.COM/postback?nid=9#frag', 'https://www.trkexample.com/postback', '9'],
    ['https://xn--bcher-kva.example/?nid=1', 'https://xn--bcher-kva.example/', '1'],
    ['https://bücher.example/?nid=1', 'https://xn--bcher-kva.example/', '1']
  ])('reads %s', (input, postbackBase, networkId) => {
    expect(parsePostbackUrl(input)).toEqual({ postbackBase, postbackHost: new URL(postbackBase).hostname, networkId })
  })

  it('reads an nid placeholder as no network ID, and keeps the placeholder for the message', () => {
    expect(parsePostbackUrl('https://www.trkexample.com./?nid={network_id}')).toEqual({
      postbackBase: 'https://www.trkexample.com/',
      postbackHost: 'www.trkexample.com',
      nidPlaceholder: '{network_id}'
    })
  })

  it('reads a verification_token written into the URL, but not a placeholder', () => {
    expect(
      parsePostbackUrl('https://www.trkexample.com/?nid=1&verification_token=%20url-token-1234').verificationToken
    ).toBe('url-token-1234')
    expect(
      parsePostbackUrl('https://www.trkexample.com/?nid=1&verification_token={token}').verificationToken
    ).toBeUndefined()
    expect(parsePostbackUrl('https://www.trkexample.com/?nid=1&verification_token=').verificationToken).toBeUndefined()
  })

  it.each(['adv_event_id={adv_event_id}', 'event_id=', 'adv_event_id=%20'])(
    'ignores %s, which names no event',
    (query) => {
      expect(parsePostbackUrl(`https://www.trkexample.com/?nid=1&${query}`).networkId).toBe('1')
    }
  )

  it('refuses adv_event_id and event_id that name one event for every conversion', async () => {
    expect(
      (await settingsError(() => parsePostbackUrl('https://www.trkexample.com/?nid=1&adv_event_id=5'))).message
    ).toBe(
      'Postback URL contains adv_event_id=5, which would make every conversion that one event, but the event of each conversion comes from Event Mapping. ' +
        'Remove adv_event_id from the Postback URL and add the event to Event Mapping instead, e.g. Order Completed=5.'
    )
    expect((await settingsError(() => parsePostbackUrl('https://www.trkexample.com/?nid=1&event_id=7'))).message).toBe(
      'Postback URL contains event_id=7, an offer event ID, which would make every conversion that one event; this destination sends the advertiser event ID of each event from Event Mapping. ' +
        'Remove event_id from the Postback URL and add the Segment event with its advertiser event ID to Event Mapping, e.g. Order Completed=0 for the base conversion.'
    )
  })

  it.each([
    ['', 'is empty'],
    ['http://www.trkexample.com/?nid=1', 'uses http; Everflow postbacks must use https'],
    ['ftp://www.trkexample.com/', 'uses ftp'],
    ['https://user:pass@www.trkexample.com/', 'contains a user name or password'],
    ['https://www.trkexample.com@evil.example/', 'contains a user name or password'],
    // Extra or missing slashes: the URL parser would read the host after them and drop the user-info silently.
    ['//user:pa55@www.trkexample.com/', 'contains a user name or password'],
    ['https:///user:pa55@www.trkexample.com/', 'contains a user name or password'],
    ['https://www.trkexample.com:8443/', 'names a port'],
    ['https://www.trkexample.com:443/', 'names a port'],
    ['https://127.0.0.1/', 'points at a private or local IP address'],
    ['https://2130706433/', 'points at a private or local IP address'],
    ['https://0x7f000001/', 'points at a private or local IP address'],
    ['https://0177.0.0.1/', 'points at a private or local IP address'],
    ['https://[::1]/', 'points at a private or local IP address'],
    ['https://[::ffff:127.0.0.1]/', 'points at a private or local IP address'],
    ['https://169.254.169.254/latest', 'points at a private or local IP address'],
    ['https://93.184.215.14/', 'points at an IP address; use your Everflow tracking domain.'],
    ['https://[2606:4700::1]/', 'points at an IP address; use your Everflow tracking domain.'],
    ['https://localhost/', 'does not name a public tracking domain'],
    ['https://localhost./', 'does not name a public tracking domain'],
    ['https://foo.localhost/', 'names a local or reserved host'],
    ['https://metadata.google.internal/', 'names a local or reserved host'],
    ['https://intranet/', 'does not name a public tracking domain'],
    ['https://www.trkexample.com\\@evil.example/', 'contains spaces, control characters or backslashes'],
    ['https://www.trk example.com/', 'contains spaces, control characters or backslashes'],
    ['https://www.trkexample.com/\u0000', 'contains spaces, control characters or backslashes'],
    ['https://exa_mple.com/', 'does not name a public tracking domain'],
    ['not a url', 'contains spaces'],
    ['https://', 'is not a URL or hostname'],
    ['https://www.trkexample.com/?nid=abc', 'Postback URL (its nid parameter): "abc" is not an Everflow network ID'],
    ['https://www.trkexample.com/?nid=0', 'is not an Everflow network ID']
  ])('refuses %j: %s', async (input, message) => {
    const error = await settingsError(() => parsePostbackUrl(input))
    expect(error.message).toContain(message)
    expect(error.message).toContain('Global Postback')
  })

  it.each([
    '//user:pa55@www.trkexample.com/',
    'https:///user:pa55@www.trkexample.com/',
    '///user:pa55@www.trkexample.com/'
  ])('never quotes the password of %j, whatever the slashes before it', async (input) => {
    const error = await settingsError(() => parsePostbackUrl(input))
    expect(error.message).toContain('contains a user name or password')
    expect(error.message).not.toContain('pa55')
    expect(error.message).toContain('…@www.trkexample.com/')
  })
})

describe('Network ID', () => {
  const base = { ...settings, postbackUrl: 'https://www.trkexample.com' }

  it('comes from Network ID when the Postback URL has no nid', () => {
    expect(parseSettings({ ...base, networkId: ' 42 ' }).networkId).toBe('42')
  })

  it('may repeat the nid of the Postback URL', () => {
    expect(parseSettings({ ...settings, networkId: '123' }).networkId).toBe('123')
  })

  it('is a settings error when it differs from the nid of the Postback URL', async () => {
    const error = await settingsError(() => parseSettings({ ...settings, networkId: '124' }))
    expect(error.message).toBe(
      'Network ID is 124 but the Postback URL has nid=123. Clear Network ID or make the two agree.'
    )
  })

  it('is a settings error when neither gives one', async () => {
    const error = await settingsError(() => parseSettings(base))
    expect(error.message).toContain('Network ID is missing: the Postback URL has no nid parameter.')
  })

  it('must be a positive whole number', async () => {
    const error = await settingsError(() => parseSettings({ ...base, networkId: '12a' }))
    expect(error.message).toBe(
      'Network ID: "12a" is not an Everflow network ID. A network ID is a positive whole number, such as 123.'
    )
  })
})

describe('Event Mapping', () => {
  it('reads one Event Name=ID per line, splitting at the last "=" and trimming', () => {
    const mapping = parseEventMapping('  Order Completed = 0 \r\n\n  Signed Up=12\nA=B (test) v2=7\n\n')
    expect([...mapping]).toEqual([
      ['Order Completed', 0],
      ['Signed Up', 12],
      ['A=B (test) v2', 7]
    ])
  })

  // Segment's settings form is one line of text: "Order Completed=0, Signed Up=12" was read as one event named
  // "Order Completed=0, Signed Up".
  it.each([
    'Order Completed=0, Signed Up=12',
    'Order Completed=0; Signed Up=12',
    'Order Completed=0,Signed Up=12,',
    ' Order Completed = 0 ;\n Signed Up = 12 ',
    'Order Completed=0,\nSigned Up=12'
  ])('reads pairs separated by commas, semicolons or new lines: %j', (input) => {
    expect([...parseEventMapping(input)]).toEqual([
      ['Order Completed', 0],
      ['Signed Up', 12]
    ])
  })

  it('says that a name with a comma needs the JSON form, which reads it', async () => {
    const error = await settingsError(() => parseEventMapping('Order Completed, Shipped=3'))
    expect(error.message).toBe(
      'Event Mapping entry "Order Completed" has no "=". Write Event Name=ID pairs separated by commas, semicolons or new lines, ' +
        'e.g. Order Completed=0, Signed Up=12. For an event name that contains a comma or semicolon, write the mapping as JSON: {"Order Completed, Shipped": 3}.'
    )
    expect([...parseEventMapping('{"Order Completed, Shipped": 3}')]).toEqual([['Order Completed, Shipped', 3]])
  })

  it('reads a JSON object with numbers or digit strings', () => {
    expect([...parseEventMapping(' {"Order Completed": 0, "Signed Up": 12, "Trial": "3"} ')]).toEqual([
      ['Order Completed', 0],
      ['Signed Up', 12],
      ['Trial', 3]
    ])
  })

  it('accepts the same name twice with the same id', () => {
    expect([...parseEventMapping('A=1\nA=1')]).toEqual([['A', 1]])
  })

  it('reads an object, as a settings file or the classic destination holds it, with numbers or digit strings', () => {
    expect([...parseEventMapping({ 'Order Completed': '0', 'Signed Up': 12, ' Trial ': ' 3 ' })]).toEqual([
      ['Order Completed', 0],
      ['Signed Up', 12],
      ['Trial', 3]
    ])
  })

  it.each([
    ['', 'Event Mapping is empty.'],
    ['\n  \n', 'Event Mapping is empty.'],
    [
      'Order Completed 0',
      'Event Mapping entry "Order Completed 0" has no "=". Write Event Name=ID pairs separated by commas, semicolons or new lines'
    ],
    ['=5', 'Event Mapping has an entry with the ID "5" but no event name.'],
    ['Order Completed=', 'Event Mapping has no ID for the event "Order Completed". IDs are whole numbers of 0 or more'],
    [
      'Order Completed=-1',
      'Event Mapping gives the event "Order Completed" the ID "-1", which is not an Everflow event ID.'
    ],
    ['Order Completed=1.5', 'Event Mapping gives the event "Order Completed" the ID "1.5", which is not'],
    ['Order Completed=abc', 'Event Mapping gives the event "Order Completed" the ID "abc", which is not'],
    ['Order Completed=99999999999999999999', 'the ID "99999999999999999999", which is not'],
    ['A=1\nA=2', 'Event Mapping maps "A" twice, to 1 and to 2. Keep one of them.'],
    ['{"A": 1,}', 'Event Mapping looks like JSON but does not parse'],
    ['{"A": -1}', 'Event Mapping gives the event "A" the ID -1, which is not an Everflow event ID.'],
    ['{"A": 1.5}', 'Event Mapping gives the event "A" the ID 1.5, which is not'],
    ['{"A": null}', 'Event Mapping gives the event "A" the ID null, which is not'],
    ['{"A": {"id": 1}}', 'Event Mapping gives the event "A" the ID {"id":1}, which is not'],
    ['{"": 1}', 'Event Mapping has an entry with the ID 1 but no event name.'],
    ['{}', 'Event Mapping is empty.']
  ])('refuses %j', async (input, message) => {
    const error = await settingsError(() => parseEventMapping(input))
    expect(error.message).toContain(message)
  })

  it.each([
    [{ 'Order Completed': 'first' }, 'Event Mapping gives the event "Order Completed" the ID "first", which is not'],
    [{ 'Order Completed': -1 }, 'Event Mapping gives the event "Order Completed" the ID -1, which is not'],
    [{ 'Order Completed': '' }, 'Event Mapping has no ID for the event "Order Completed".'],
    [{ 'Order Completed': true }, 'Event Mapping gives the event "Order Completed" the ID true, which is not'],
    [{}, 'Event Mapping is empty.'],
    [['Order Completed=0'], 'Event Mapping must be text of Event Name=ID pairs, or an object'],
    [12, 'Event Mapping must be text of Event Name=ID pairs, or an object']
  ])('refuses the value %j', async (input, message) => {
    const error = await settingsError(() => parseEventMapping(input))
    expect(error.message).toContain(message)
  })

  // Only text starting with "{" is read as JSON, and that can only be an object; other text is read as lines.
  it('reads text that is a JSON array as lines, and says its entry has no "="', async () => {
    const error = await settingsError(() => parseEventMapping('[{"Order Completed": 0}]'))
    expect(error.message).toBe(
      'Event Mapping entry "[{\\"Order Completed\\": 0}]" has no "=". Write Event Name=ID pairs separated by commas, semicolons or new lines, e.g. Order Completed=0, Signed Up=12.'
    )
  })

  it.each([null, [], [['Order Completed', 0]]])('refuses the value %j, which is not an object', async (input) => {
    const error = await settingsError(() => parseEventMapping(input))
    expect(error.message).toBe(
      'Event Mapping must be text of Event Name=ID pairs, or an object such as {"Order Completed": 0}.'
    )
  })
})

describe('Verification Token', () => {
  it('is trimmed, and blank means none', () => {
    expect(parseSettings({ ...settings, verificationToken: ' tok-12345678 ' }).verificationToken).toBe('tok-12345678')
    expect(parseSettings({ ...settings, verificationToken: '  ' }).verificationToken).toBeUndefined()
  })

  // A 2-character token masked every "76" in messages and postbacks (amount=***); Everflow generates long ones.
  it.each(['76', '1234567'])('refuses the token %j, shorter than 8 characters, without quoting it', async (token) => {
    const error = await settingsError(() => parseSettings({ ...settings, verificationToken: token }))
    expect(error.message).toBe(
      `Verification Token is ${token.length} characters long, shorter than any token Everflow generates (at least 8). ` +
        "Copy it again from the offer's Tracking card in Everflow (the verification_token of its postback URL)."
    )
  })

  it('accepts a token of 8 characters', () => {
    expect(parseSettings({ ...settings, verificationToken: '12345678' }).verificationToken).toBe('12345678')
  })

  it('takes the token from the Postback URL when the setting is empty, and refuses a short one there', async () => {
    const postbackUrl = 'https://www.trkexample.com/?nid=123&verification_token=url-token-1234'
    expect(parseSettings({ ...settings, postbackUrl }).verificationToken).toBe('url-token-1234')
    expect(parseSettings({ ...settings, postbackUrl, verificationToken: 'url-token-1234' }).verificationToken).toBe(
      'url-token-1234'
    )
    const error = await settingsError(() =>
      parseSettings({ ...settings, postbackUrl: 'https://www.trkexample.com/?nid=123&verification_token=ab' })
    )
    expect(error.message).toMatch(/^The verification_token in the Postback URL is 2 characters long/)
  })

  it('refuses inner spaces without echoing the token', async () => {
    const error = await settingsError(() => parseSettings({ ...settings, verificationToken: 'secret token' }))
    expect(error.message).toContain('Verification Token contains spaces')
    expect(error.message).not.toContain('secret')
  })
})

describe('parsed settings cache', () => {
  it('gives equal settings one result and different settings their own', () => {
    const first = parseSettings({ ...settings, verificationToken: 'token-aaaa' })
    expect(parseSettings({ ...settings, verificationToken: 'token-aaaa' })).toBe(first)
    expect(parseSettings({ ...settings, verificationToken: 'token-bbbb' }).verificationToken).toBe('token-bbbb')
    // Other settings parsed in between do not push the first ones out.
    expect(parseSettings({ ...settings, verificationToken: 'token-aaaa' })).toBe(first)
  })

  it('never answers invalid settings from the cache of valid ones', async () => {
    parseSettings({ ...settings, eventMapping: 'A\u0000B=1', verificationToken: 'tok-45678' })
    const error = await settingsError(() =>
      parseSettings({ ...settings, eventMapping: 'A', verificationToken: 'B=1\u0000tok-45678' })
    )
    expect(error.message).toContain('Event Mapping entry "A" has no "="')
  })
})
