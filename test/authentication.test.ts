import nock from 'nock'
import {
  createRequestClient,
  createTestIntegration,
  IntegrationError,
  InvalidAuthenticationError
} from '@segment/actions-core'
import { testAuthentication } from '../src/authentication'
import type { Settings } from '../src/generated-types'
import { checkedDefinition, neverAnswers, publicLookup, settings, thrown } from './support/helpers'
import { expectNoLeak } from './support/hardening'

const testDestination = createTestIntegration(checkedDefinition)
const US = 'https://api.eflow.team'
const EU = 'https://api-eu.eflow.team'
const API_KEY = settings.apiKey
const URL_BASE = 'https://www.trkexample.com/?nid=123&transaction_id={transaction_id}'

afterEach(() => nock.cleanAll())

/** Everflow's API on one host: answers each path once, only when the key is in the header, and records URLs. */
function api(origin: string, answers: Record<string, [number, object?]>) {
  const scope = nock(origin, { reqheaders: { 'x-eflow-api-key': API_KEY } })
  for (const [path, [status, body]] of Object.entries(answers)) {
    scope.get(`/v1${path}`).reply(status, body ?? {}, { 'content-type': 'application/json' })
  }
  return scope
}

const network = (id: number) =>
  [200, { network_id: id, name: 'Example Network', default_currency_id: 'USD' }] as [number, object]
const unauthorized: [number, object] = [401, { error: 'Unauthorized' }]
const outOfRealm: [number, object] = [403, { error: 'Out of realm' }]

function expectNoSecret(error: unknown) {
  expectNoLeak(error, [API_KEY])
}

/** Runs the check directly, so the error class is visible, and through core's wrapper, as Segment's UI shows it. */
async function failure(overrides: Partial<Settings>, mock: () => void, request = createRequestClient()) {
  mock()
  const error = await thrown(() => testAuthentication(request, { ...settings, ...overrides }, publicLookup))
  expect(nock.pendingMocks()).toEqual([])
  expectNoSecret(error)
  return error
}

/** The message a user sees when saving: core's testAuthentication wraps the error. */
async function wrapped(overrides: Partial<Settings>, mock: () => void): Promise<string> {
  mock()
  const error = await thrown(() => testDestination.testAuthentication({ ...settings, ...overrides }))
  expect(nock.pendingMocks()).toEqual([])
  expectNoSecret(error)
  return error.message
}

describe('testAuthentication', () => {
  it('passes a network key of the same network as the Postback URL, without sending a postback', async () => {
    api(US, { '/networks': network(123) })
    await expect(testDestination.testAuthentication(settings)).resolves.toBeUndefined()
    expect(nock.pendingMocks()).toEqual([])
  })

  it('passes an advertiser key (403 on /networks, 200 on /advertisers/advertiser)', async () => {
    api(US, { '/networks': outOfRealm, '/advertisers/advertiser': [200, { network_advertiser_id: 7 }] })
    await expect(testDestination.testAuthentication(settings)).resolves.toBeUndefined()
    expect(nock.pendingMocks()).toEqual([])
  })

  it('checks EU accounts on the EU host', async () => {
    api(EU, { '/networks': network(123) })
    await expect(testDestination.testAuthentication({ ...settings, apiRegion: 'eu' })).resolves.toBeUndefined()
    expect(nock.pendingMocks()).toEqual([])
  })

  it('fails when the key is of another network, showing both ids', async () => {
    const mock = () => api(US, { '/networks': network(456) })
    const message =
      'API Key belongs to Everflow network 456, but the Postback URL (or Network ID) is for network 123. Use the API key and the Global Postback URL of the same Everflow network.'
    const error = await failure({}, mock)
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error.code).toBe('INVALID_SETTINGS')
    expect(error.message).toBe(message)
    expect(await wrapped({}, mock)).toContain(message)
  })

  it('fails a 401 key as invalid or revoked and says where keys are made, after trying the EU host once', async () => {
    const mock = () => {
      api(US, { '/networks': unauthorized })
      api(EU, { '/networks': unauthorized })
    }
    const error = await failure({}, mock)
    expect(error).toBeInstanceOf(InvalidAuthenticationError)
    expect(error.message).toBe(
      'API Key was refused by Everflow (401): it is invalid or has been revoked. Create a network API key in Everflow under Control Center > Security and paste it into API Key.'
    )
    expectNoSecret(error)
    expect(await wrapped({}, mock)).toContain(
      'API Key was refused by Everflow (401): it is invalid or has been revoked.'
    )
  })

  it('tells a user with an EU key checked on the US host to set API Region to EU', async () => {
    const mock = () => {
      api(US, { '/networks': unauthorized })
      api(EU, { '/networks': network(123) })
    }
    const error = await failure({}, mock)
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error.code).toBe('INVALID_SETTINGS')
    expect(error.message).toBe(
      "API Key is not known on Everflow's US API but works on the EU API: set API Region to EU."
    )
    expect(await wrapped({}, mock)).toContain('set API Region to EU')
  })

  it('finds an EU advertiser key too', async () => {
    const mock = () => {
      api(US, { '/networks': unauthorized })
      api(EU, { '/networks': outOfRealm, '/advertisers/advertiser': [200, {}] })
    }
    expect(await wrapped({}, mock)).toContain('set API Region to EU')
  })

  it('fails a key that is refused with 403 on both checks as one of a portal that cannot record conversions', async () => {
    const mock = () => api(US, { '/networks': outOfRealm, '/advertisers/advertiser': outOfRealm })
    const error = await failure({}, mock)
    expect(error).toBeInstanceOf(InvalidAuthenticationError)
    expect(error.message).toContain('API Key belongs to an Everflow portal that cannot record conversions')
    expect(error.message).toContain('Control Center > Security')
    expectNoSecret(error)
    expect(await wrapped({}, mock)).toContain('cannot record conversions')
  })

  it('says the rate limit was hit on 429', async () => {
    const mock = () => api(US, { '/networks': [429, { error: 'Too many requests' }] })
    const error = await failure({}, mock)
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error.code).toBe('EVERFLOW_API_RATE_LIMITED')
    expect(error.status).toBe(429)
    expect(error.message).toBe(
      "Everflow's API rate limit was hit while checking the API Key. Try saving the settings again in a minute."
    )
    expectNoSecret(error)
    expect(await wrapped({}, mock)).toContain('rate limit was hit')
  })

  it.each([500, 502, 503])('says Everflow could not be reached on %i, not that the key is wrong', async (status) => {
    const mock = () => api(US, { '/networks': [status, { error: 'oops' }] })
    const error = await failure({}, mock)
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error).not.toBeInstanceOf(InvalidAuthenticationError)
    expect(error.code).toBe('EVERFLOW_API_UNAVAILABLE')
    expect(error.message).toBe(
      `Everflow's US API could not be reached to check the API Key (HTTP ${status}); this says nothing about the key. Try saving the settings again in a few minutes.`
    )
    expect(await wrapped({}, mock)).toContain('could not be reached')
  })

  it('says Everflow could not be reached on a network failure, without echoing the request', async () => {
    const mock = () =>
      nock(US)
        .get('/v1/networks')
        .replyWithError({ code: 'ECONNREFUSED', message: `connect failed, header ${API_KEY}` })
    const error = await failure({}, mock)
    expect(error.code).toBe('EVERFLOW_API_UNAVAILABLE')
    expect(error.message).toContain('(ECONNREFUSED)')
    expectNoSecret(error)
    const message = await wrapped({}, mock)
    expect(message).toContain('could not be reached')
    expect(message).not.toContain(API_KEY)
  })

  it('says Everflow could not be reached on a timeout', async () => {
    // Everflow takes the request and never answers; a 50 ms timeout instead of the framework's 10 s.
    const mock = () => nock(US).get('/v1/networks').reply(neverAnswers)
    const error = await failure({}, mock, createRequestClient({ timeout: 50 }))
    expect(error.code).toBe('EVERFLOW_API_UNAVAILABLE')
    expect(error.message).toContain('could not be reached')
  })

  it('reports an unexpected answer with its status', async () => {
    const error = await failure({}, () => api(US, { '/networks': [404, { error: 'Not found' }] }))
    expect(error.status).toBe(404)
    expect(error.message).toBe(
      "Everflow's US API answered 404 while checking the API Key. Check API Key and API Region, then save again."
    )
  })

  it.each<[string, Partial<Settings>, string]>([
    [
      'a plain-http Postback URL',
      { postbackUrl: 'http://www.trkexample.com/?nid=123' },
      'Everflow postbacks must use https'
    ],
    ['a Network ID that contradicts the URL', { networkId: '9' }, 'Network ID is 9 but the Postback URL has nid=123.'],
    [
      'a broken Event Mapping',
      { eventMapping: 'Order Completed 0' },
      'Event Mapping entry "Order Completed 0" has no "="'
    ],
    ['a verification token with spaces', { verificationToken: 'a b' }, 'Verification Token contains spaces'],
    // These four passed the check before, and every postback then went without the token or the event.
    [
      'a Postback URL whose verification_token differs from Verification Token',
      { postbackUrl: `${URL_BASE}&verification_token=url-token-1234`, verificationToken: 'setting-token-5678' },
      'Verification Token and the verification_token in the Postback URL differ. Keep the token in one of them, or make the two the same.'
    ],
    [
      'a Postback URL with adv_event_id',
      { postbackUrl: `${URL_BASE}&adv_event_id=5` },
      'Postback URL contains adv_event_id=5, which would make every conversion that one event'
    ],
    [
      'a Postback URL with event_id',
      { postbackUrl: `${URL_BASE}&event_id=7` },
      'Postback URL contains event_id=7, an offer event ID'
    ],
    [
      'a verification token of 2 characters',
      { verificationToken: '76' },
      'Verification Token is 2 characters long, shorter than any token Everflow generates (at least 8).'
    ],
    [
      'an nid placeholder',
      { postbackUrl: 'https://www.trkexample.com/?nid={network_id}&transaction_id={transaction_id}' },
      'Network ID is missing: the Postback URL has nid={network_id}, a placeholder. Replace {network_id} with your network ID'
    ]
  ])('refuses %s with the message the action gives, before calling Everflow', async (_name, overrides, message) => {
    const error = await failure(overrides, () => undefined)
    expect(error.code).toBe('INVALID_SETTINGS')
    expect(error.message).toContain(message)
    expect(await wrapped(overrides, () => undefined)).toContain(message)
  })

  it('passes a Postback URL that holds the verification token, alone or equal to the setting', async () => {
    const postbackUrl = `${URL_BASE}&verification_token=url-token-1234`
    api(US, { '/networks': network(123) })
    await expect(testDestination.testAuthentication({ ...settings, postbackUrl })).resolves.toBeUndefined()
    api(US, { '/networks': network(123) })
    await expect(
      testDestination.testAuthentication({ ...settings, postbackUrl, verificationToken: ' url-token-1234 ' })
    ).resolves.toBeUndefined()
  })

  it('refuses differing tokens without quoting either', async () => {
    const error = await failure(
      { postbackUrl: `${URL_BASE}&verification_token=url-token-1234`, verificationToken: 'setting-token-5678' },
      () => undefined
    )
    expectNoLeak(error, ['url-token-1234', 'setting-token-5678'])
  })

  it('refuses an empty API key without calling Everflow', async () => {
    const error = await failure({ apiKey: '  ' }, () => undefined)
    expect(error).toBeInstanceOf(InvalidAuthenticationError)
    expect(error.message).toContain('API Key is empty.')
  })

  it('never puts the key in a URL', async () => {
    const urls: string[] = []
    nock(US)
      .get(/.*/)
      .times(2)
      .reply(function (uri) {
        urls.push(uri)
        return [403, { error: 'Out of realm' }]
      })
    await thrown(() => testDestination.testAuthentication(settings))
    expect(urls).toEqual(['/v1/networks', '/v1/advertisers/advertiser'])
    expect(urls.join()).not.toContain(API_KEY)
  })
})
