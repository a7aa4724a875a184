// A Postback URL host that resolves to a private address (DNS pointing a public-looking name inside): refused by
// the settings check and before every postback, through the destination as Segment runs it. The resolver is
// injected; no test touches real DNS.
import dns from 'dns'
import nock from 'nock'
import { createTestIntegration, Destination, IntegrationError, RetryableError } from '@segment/actions-core'
import productionDefinition, { createDestination } from '../src'
import { isPrivateAddress } from '../src/addresses'
import type { HostLookup } from '../src/addresses'
import { HostCheck } from '../src/hosts'
import { orderCompleted, PUBLIC_ADDRESS, settings, subscriptionTo, thrown, TRACKING_ORIGIN } from './support/helpers'
import { tally } from './support/hardening'

afterEach(() => nock.cleanAll())

const PRIVATE_ADDRESSES = [
  '127.0.0.1',
  '127.255.255.254',
  '10.0.0.1',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '169.254.169.254',
  '169.254.0.1',
  '100.64.0.1',
  '100.127.255.255',
  '0.0.0.0',
  '::1',
  '::',
  'fc00::1',
  'fd12:3456:789a::1',
  'fe80::1',
  'febf::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:10.0.0.1',
  '::ffff:169.254.169.254',
  '0:0:0:0:0:ffff:a9fe:a9fe',
  '224.0.0.1',
  '255.255.255.255'
]
const PUBLIC_ADDRESSES = [
  PUBLIC_ADDRESS,
  '8.8.8.8',
  '172.32.0.1',
  '100.128.0.1',
  '169.255.0.1',
  '2606:4700::6810:84e5',
  '::ffff:8.8.8.8',
  '2001:4860:4860::8888'
]

describe('isPrivateAddress', () => {
  it.each(PRIVATE_ADDRESSES)('%s is private', (address) => {
    expect(isPrivateAddress(address)).toBe(true)
  })

  it.each(PUBLIC_ADDRESSES)('%s is public', (address) => {
    expect(isPrivateAddress(address)).toBe(false)
  })

  it.each(['www.trkexample.com', '', '1.2.3', '[::1]'])('%j, which is no address, is never a target', (text) => {
    expect(isPrivateAddress(text)).toBe(true)
  })
})

/** A resolver that answers from a table and counts its calls. */
function resolver(answers: Record<string, string[] | Error>) {
  const calls: string[] = []
  const lookup: HostLookup = (host) => {
    calls.push(host)
    const answer = answers[host]
    if (answer === undefined)
      return Promise.reject(Object.assign(new Error(`not found: ${host}`), { code: 'ENOTFOUND' }))
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)
  }
  return { lookup, calls }
}

const HOST = new URL(TRACKING_ORIGIN).hostname

function destinationResolving(answers: Record<string, string[] | Error>) {
  const { lookup, calls } = resolver(answers)
  const definition = createDestination({ lookup })
  return { destination: new Destination(definition), definition, calls }
}

describe('before every postback', () => {
  it.each(PRIVATE_ADDRESSES)('refuses a host resolving to %s, sending nothing', async (address) => {
    tally('ssrf')
    const { destination, definition } = destinationResolving({ [HOST]: [PUBLIC_ADDRESS, address] })
    const postback = nock(TRACKING_ORIGIN).get('/').query(true).reply(200, 'OK')
    const error = await thrown(() =>
      destination.onEvent(orderCompleted(), { ...settings, subscription: subscriptionTo(definition) })
    )
    expect(error).toBeInstanceOf(IntegrationError)
    expect([error.code, error.status]).toEqual(['INVALID_SETTINGS', 400])
    expect(error.message).toBe(
      `Postback URL host ${HOST} resolves to ${address}, a private or local address; postbacks go only to public addresses. ` +
        'Use your Everflow tracking domain (Control Center > Configuration > Global Postback).'
    )
    expect(postback.isDone()).toBe(false)
  })

  it('sends to a host that resolves to public addresses only', async () => {
    const { destination, definition } = destinationResolving({ [HOST]: [PUBLIC_ADDRESS, '2606:4700::6810:84e5'] })
    const postback = nock(TRACKING_ORIGIN).get('/').query(true).reply(200, 'OK')
    await destination.onEvent(orderCompleted(), { ...settings, subscription: subscriptionTo(definition) })
    expect(postback.isDone()).toBe(true)
  })

  it.each([
    ['ENOTFOUND', Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })],
    ['EAI_AGAIN', Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' })]
  ])('retries when the lookup fails (%s), naming the host, sending nothing', async (code, failure) => {
    const { destination, definition } = destinationResolving({ [HOST]: failure })
    const postback = nock(TRACKING_ORIGIN).get('/').query(true).reply(200, 'OK')
    const error = await thrown(() =>
      destination.onEvent(orderCompleted(), { ...settings, subscription: subscriptionTo(definition) })
    )
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toBe(
      `Could not look up the Postback URL host ${HOST} (${code}); the postback was not sent. Segment will retry.`
    )
    expect(postback.isDone()).toBe(false)
  })

  it('says "lookup failed" when the resolver fails with an error that has neither code nor name', async () => {
    const check = new HostCheck({ lookup: () => Promise.reject(Object.assign(new Error('no'), { name: undefined })) })
    await expect(check.beforePostback('a.example.com')).rejects.toThrow(
      'Could not look up the Postback URL host a.example.com (lookup failed); the postback was not sent. Segment will retry.'
    )
  })

  it('looks a host up once for many events, also for the events of one batch arriving together', async () => {
    const { destination, definition, calls } = destinationResolving({ [HOST]: [PUBLIC_ADDRESS] })
    nock(TRACKING_ORIGIN).get('/').query(true).times(23).reply(200, 'OK')
    const options = { ...settings, subscription: subscriptionTo(definition) }
    for (let i = 0; i < 3; i++) await destination.onEvent(orderCompleted(), options)
    await destination.onBatch(
      Array.from({ length: 20 }, () => orderCompleted()),
      options
    )
    expect(calls).toEqual([HOST])
  })

  it('refuses every event of a batch when the host is private, each with the same message', async () => {
    const { destination, definition } = destinationResolving({ [HOST]: ['10.1.2.3'] })
    const [{ multistatus }] = (await destination.onBatch([orderCompleted(), orderCompleted()], {
      ...settings,
      subscription: subscriptionTo(definition)
    })) as unknown as Array<{ multistatus: Array<{ status: number; errormessage: string }> }>
    expect(multistatus.map(({ status }) => status)).toEqual([400, 400])
    expect(multistatus[1].errormessage).toContain(`${HOST} resolves to 10.1.2.3, a private or local address`)
  })
})

describe('the destination as Segment loads it', () => {
  it("resolves with Node's resolver, every address of the host", async () => {
    const lookup = jest.spyOn(dns.promises, 'lookup').mockResolvedValueOnce([
      { address: PUBLIC_ADDRESS, family: 4 },
      { address: 'fd00::2', family: 6 }
    ] as never)
    const error = await thrown(() =>
      new Destination(productionDefinition).onEvent(orderCompleted(), {
        ...settings,
        subscription: subscriptionTo(productionDefinition)
      })
    )
    expect(lookup).toHaveBeenCalledWith(HOST, { all: true, verbatim: true })
    expect(error.message).toContain(`${HOST} resolves to fd00::2, a private or local address`)
  })
})

describe('HostCheck cache', () => {
  it('asks again after the time to live, and after a failed lookup', async () => {
    let now = 0
    let answer: string[] | Error = new Error('timeout')
    const calls: string[] = []
    const check = new HostCheck({
      lookup: (host) => {
        calls.push(host)
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)
      },
      ttl: 60_000,
      now: () => now
    })
    await expect(check.beforePostback('a.example.com')).rejects.toBeInstanceOf(RetryableError)
    answer = [PUBLIC_ADDRESS]
    await check.beforePostback('a.example.com')
    now = 59_999
    await check.beforePostback('a.example.com')
    expect(calls).toHaveLength(2)
    answer = ['10.0.0.1']
    now = 60_000
    await expect(check.beforePostback('a.example.com')).rejects.toThrow('resolves to 10.0.0.1')
    expect(calls).toHaveLength(3)
  })

  it('keeps at most maxHosts hosts', async () => {
    const calls: string[] = []
    const check = new HostCheck({
      lookup: (host) => {
        calls.push(host)
        return Promise.resolve([PUBLIC_ADDRESS])
      },
      maxHosts: 2
    })
    for (const host of [
      'a.example.com',
      'b.example.com',
      'a.example.com',
      'b.example.com',
      'c.example.com',
      'a.example.com'
    ]) {
      await check.beforePostback(host)
    }
    expect(calls).toEqual(['a.example.com', 'b.example.com', 'c.example.com', 'a.example.com'])
  })

  it('keeps a newer answer when an older lookup of the same host fails after it', async () => {
    let now = 0
    const lookups: Array<{ resolve: (addresses: string[]) => void; reject: (error: Error) => void }> = []
    const check = new HostCheck({
      lookup: () => new Promise((resolve, reject) => lookups.push({ resolve, reject })),
      ttl: 1000,
      now: () => now
    })
    const older = check.beforePostback('a.example.com')
    now = 1000
    const newer = check.beforePostback('a.example.com')
    lookups[1].resolve([PUBLIC_ADDRESS])
    await newer
    lookups[0].reject(Object.assign(new Error('timeout'), { code: 'EAI_AGAIN' }))
    await expect(older).rejects.toThrow('(EAI_AGAIN)')
    await check.beforePostback('a.example.com')
    expect(lookups).toHaveLength(2)
  })

  it('refuses a host with no address at all', async () => {
    const check = new HostCheck({ lookup: () => Promise.resolve([]) })
    await expect(check.beforePostback('a.example.com')).rejects.toThrow(
      'Could not look up the Postback URL host a.example.com (ENODATA)'
    )
  })
})

describe('in the settings check', () => {
  /** What a user sees when saving the settings: core's testAuthentication wraps the error. */
  async function saving(answers: Record<string, string[] | Error>) {
    return savingWith(resolver(answers).lookup)
  }

  async function savingWith(lookup: HostLookup) {
    const definition = createDestination({ lookup })
    const api = nock('https://api.eflow.team').get('/v1/networks').reply(200, { network_id: 123 })
    const error = await thrown(() => createTestIntegration(definition).testAuthentication(settings))
    expect(api.isDone()).toBe(false)
    return error.message
  }

  it('refuses a host that resolves to a private address, before asking Everflow about the key', async () => {
    expect(await saving({ [HOST]: ['169.254.169.254'] })).toBe(
      `Credentials are invalid:  Postback URL host ${HOST} resolves to 169.254.169.254, a private or local address; ` +
        'postbacks go only to public addresses. Use your Everflow tracking domain (Control Center > Configuration > Global Postback).'
    )
  })

  it('refuses a host that does not exist', async () => {
    expect(await saving({})).toBe(
      `Credentials are invalid:  Postback URL host ${HOST} does not exist in DNS (ENOTFOUND). ` +
        'Check the tracking domain in Everflow (Control Center > Configuration > Global Postback).'
    )
  })

  it('refuses a host with no address', async () => {
    expect(await saving({ [HOST]: [] })).toBe(
      `Credentials are invalid:  Postback URL host ${HOST} does not exist in DNS (ENODATA). ` +
        'Check the tracking domain in Everflow (Control Center > Configuration > Global Postback).'
    )
  })

  it('says "lookup failed" when the resolver fails with an error that has neither code nor name', async () => {
    expect(await savingWith(() => Promise.reject(Object.assign(new Error('no'), { name: undefined })))).toContain(
      `Postback URL host ${HOST} could not be looked up (lookup failed); this says nothing about the settings.`
    )
  })

  it('gives a lookup that failed for now the code POSTBACK_HOST_LOOKUP_FAILED and status 503, not a settings error', async () => {
    const check = new HostCheck({ lookup: () => Promise.reject(Object.assign(new Error('t'), { code: 'EAI_AGAIN' })) })
    await expect(check.inSettingsCheck('a.example.com')).rejects.toMatchObject({
      code: 'POSTBACK_HOST_LOOKUP_FAILED',
      status: 503
    })
  })

  it('says a lookup that failed for now says nothing about the settings', async () => {
    expect(await saving({ [HOST]: Object.assign(new Error('timeout'), { code: 'EAI_AGAIN' }) })).toContain(
      `Postback URL host ${HOST} could not be looked up (EAI_AGAIN); this says nothing about the settings.`
    )
  })

  it('passes a public host on to the key check', async () => {
    const { definition } = destinationResolving({ [HOST]: [PUBLIC_ADDRESS] })
    const api = nock('https://api.eflow.team').get('/v1/networks').reply(200, { network_id: 123 })
    await createTestIntegration(definition).testAuthentication(settings)
    expect(api.isDone()).toBe(true)
  })
})
