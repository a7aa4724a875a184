/**
 * The browser plugin in jsdom, as the monorepo tests its browser destinations: the destination's plugin factory,
 * loaded into an analytics-next instance, given events through the plugin's own track/page/identify.
 *
 * Here the page is https://www.example.com/ (the docblock below); the monorepo's jest 27 ignores that docblock and
 * runs it at https://segment.com/, so the tests take the top domain from the page's address.
 *
 * @jest-environment jsdom
 * @jest-environment-options {"url": "https://www.example.com/"}
 */
import { Analytics, Context } from '@segment/analytics-next'
import type { Plugin } from '@segment/analytics-next'
import type { Subscription } from '@segment/browser-destination-runtime/types'
import everflowPlugins, { destination } from '../../src/browser'
import { STORAGE_KEY, topDomain } from '../../src/browser/click-id'
import type { Settings } from '../../src/browser/generated-types'

const CLICK = '0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b'
const NEWER_CLICK = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'
const SDK_CLICK = 'ffeeddccbbaa99887766554433221100'
const DAY = 86_400_000
/** The page's registrable domain: example.com here, segment.com in the monorepo. */
const TOP = window.location.hostname.split('.').slice(-2).join('.')

const subscriptions: Subscription[] = [
  {
    partnerAction: 'everflowPlugin',
    name: 'Everflow Click ID',
    enabled: true,
    subscribe: destination.actions.everflowPlugin.defaultSubscription!,
    mapping: {}
  }
]

/** One page load at `url`: the plugin as analytics-next would load it there. */
async function pageLoad(url: string, settings: Settings = {}): Promise<Plugin> {
  window.history.replaceState(null, '', url)
  const plugins = (await everflowPlugins({ ...settings, subscriptions } as never)) as Plugin[]
  expect(plugins).toHaveLength(1)
  await plugins[0].load(Context.system(), new Analytics({ writeKey: 'w_123' }))
  return plugins[0]
}

function orderCompleted(context: Record<string, unknown> = {}) {
  return new Context({
    type: 'track',
    event: 'Order Completed',
    messageId: 'message-1',
    timestamp: new Date('2026-01-31T12:00:00.000Z'),
    properties: { total: 76, orderId: '123456789' },
    context
  })
}

async function track(plugin: Plugin, ctx = orderCompleted()) {
  const result = await plugin.track!(ctx)
  return result.event
}

function keptCookies(): string[] {
  return document.cookie
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${STORAGE_KEY}=`))
}

function clearCookies() {
  for (const part of document.cookie.split(';')) {
    const name = part.split('=')[0].trim()
    if (!name) continue
    document.cookie = `${name}=; Max-Age=0; Path=/; Domain=${TOP}`
    document.cookie = `${name}=; Max-Age=0; Path=/`
  }
}

beforeEach(() => {
  clearCookies()
  window.localStorage.clear()
  delete (window as { EF?: unknown }).EF
})

// jsdom's own accessor, put back after a test that blocked storage.
const jsdomLocalStorage = Object.getOwnPropertyDescriptor(window, 'localStorage')

afterEach(() => {
  jest.restoreAllMocks()
  delete (document as { cookie?: unknown }).cookie
  if (jsdomLocalStorage) Object.defineProperty(window, 'localStorage', jsdomLocalStorage)
  else delete (window as { localStorage?: unknown }).localStorage
})

describe('a landing from an Everflow tracking link', () => {
  it('keeps the click id in a cookie and adds it to the track call of a later page', async () => {
    await pageLoad(`/landing?_ef_transaction_id=${CLICK}&utm_source=partner`)
    expect(keptCookies()).toEqual([expect.stringMatching(new RegExp(`^${STORAGE_KEY}=${CLICK}\\.\\d+$`))])

    const checkout = await pageLoad('/checkout')
    const event = await track(checkout)
    expect(event.context?.referrer).toEqual({ type: 'everflow', id: CLICK })
  })

  it('writes nothing into the event but context.referrer', async () => {
    const landing = await pageLoad(`/landing?_ef_transaction_id=${CLICK}`)
    const before = orderCompleted().event
    const after = await track(landing, orderCompleted())
    const { referrer, ...restOfContext } = after.context!
    expect(referrer).toEqual({ type: 'everflow', id: CLICK })
    expect({ ...after, context: restOfContext }).toEqual(before)
  })

  it('keeps the cookie on the top domain, so that www. and shop. share it', () => {
    expect(topDomain(`shop.${TOP}`)).toBe(TOP)
    expect(topDomain('127.0.0.1')).toBeUndefined()
    expect(topDomain('localhost')).toBeUndefined()
    // The probe cookie is gone again.
    expect(document.cookie).not.toContain('ef_segment_probe')
  })

  it('replaces an older click with a newer one', async () => {
    await pageLoad(`/landing?_ef_transaction_id=${CLICK}`)
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + DAY)
    await pageLoad(`/other-landing?_ef_transaction_id=${NEWER_CLICK}`)
    const event = await track(await pageLoad('/checkout'))
    expect(event.context?.referrer).toEqual({ type: 'everflow', id: NEWER_CLICK })
  })

  it('reads the click id from the URL parameter named in the settings', async () => {
    const settings = { clickIdParameter: 'efclick' }
    await pageLoad(`/landing?_ef_transaction_id=${NEWER_CLICK}&efclick=${CLICK}`, settings)
    const event = await track(await pageLoad('/checkout', settings))
    expect(event.context?.referrer).toEqual({ type: 'everflow', id: CLICK })
  })

  it.each([
    ['a placeholder', '{transaction_id}'],
    ['31 hex characters', CLICK.slice(1)],
    ['33 hex characters', `${CLICK}0`],
    ['a non-hex character', `${CLICK.slice(1)}g`],
    ['an empty value', '']
  ])('keeps nothing and adds nothing when the parameter holds %s', async (_, junk) => {
    const landing = await pageLoad(`/landing?_ef_transaction_id=${encodeURIComponent(junk)}`)
    expect(keptCookies()).toEqual([])
    expect(window.localStorage.getItem(STORAGE_KEY)).toBeNull()
    expect((await track(landing)).context?.referrer).toBeUndefined()
  })

  it('adds no referrer when there was never a click', async () => {
    const event = await track(await pageLoad('/landing'))
    expect(event.context?.referrer).toBeUndefined()
    expect(keptCookies()).toEqual([])
  })
})

describe('the attribution window', () => {
  it('ignores a click older than 30 days by default', async () => {
    document.cookie = `${STORAGE_KEY}=${CLICK}.${Date.now() - 30 * DAY - 1000}; Path=/`
    const event = await track(await pageLoad('/checkout'))
    expect(event.context?.referrer).toBeUndefined()
  })

  it('ignores a click older than the window in the settings, in the cookie or in localStorage', async () => {
    document.cookie = `${STORAGE_KEY}=${CLICK}.${Date.now() - 2 * DAY}; Path=/`
    window.localStorage.setItem(STORAGE_KEY, `${NEWER_CLICK}.${Date.now() - 1.5 * DAY}`)
    const event = await track(await pageLoad('/checkout', { attributionWindowDays: 1 }))
    expect(event.context?.referrer).toBeUndefined()
  })

  it('uses a click inside the window', async () => {
    document.cookie = `${STORAGE_KEY}=${CLICK}.${Date.now() - 29 * DAY}; Path=/`
    const event = await track(await pageLoad('/checkout'))
    expect(event.context?.referrer).toEqual({ type: 'everflow', id: CLICK })
  })

  it.each([0, -5, 'soon', null])('reads a window setting of %p as 30 days', async (days) => {
    document.cookie = `${STORAGE_KEY}=${CLICK}.${Date.now() - 29 * DAY}; Path=/`
    const settings = { attributionWindowDays: days as number }
    expect((await track(await pageLoad('/checkout', settings))).context?.referrer).toEqual({
      type: 'everflow',
      id: CLICK
    })
    document.cookie = `${STORAGE_KEY}=${CLICK}.${Date.now() - 31 * DAY}; Path=/`
    expect((await track(await pageLoad('/checkout', settings))).context?.referrer).toBeUndefined()
  })

  it('gives the cookie a lifetime of the window', async () => {
    const written: string[] = []
    const jsdomCookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!
    jest.spyOn(Document.prototype, 'cookie', 'set').mockImplementation(function (this: Document, value: string) {
      written.push(value)
      jsdomCookie.set!.call(this, value)
    })
    await pageLoad(`/landing?_ef_transaction_id=${CLICK}`, { attributionWindowDays: 7 })
    expect(written.filter((cookie) => cookie.startsWith(STORAGE_KEY))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${STORAGE_KEY}=${CLICK}\\.\\d+; Max-Age=604800; Path=/; SameSite=Lax; Domain=${TOP.replace('.', '\\.')}; Secure$`
        )
      )
    ])
  })
})

describe('events that already have a referrer', () => {
  it('keeps a referrer of their own', async () => {
    const landing = await pageLoad(`/landing?_ef_transaction_id=${CLICK}`)
    const own = { type: 'everflow', id: NEWER_CLICK }
    expect((await track(landing, orderCompleted({ referrer: own }))).context?.referrer).toEqual(own)
    const other = { type: 'dataxu', id: 'abc' }
    expect((await track(landing, orderCompleted({ referrer: other }))).context?.referrer).toEqual(other)
  })

  it('fills in the id of an Everflow referrer that has none (the SDK knew no click)', async () => {
    const landing = await pageLoad(`/landing?_ef_transaction_id=${CLICK}`)
    const event = await track(landing, orderCompleted({ referrer: { type: 'everflow', id: '' } }))
    expect(event.context?.referrer).toEqual({ type: 'everflow', id: CLICK })
  })
})

describe("Everflow's SDK on the page (direct linking)", () => {
  it("uses the SDK's answer for the advertiser in the settings, before a kept click", async () => {
    await pageLoad(`/landing?_ef_transaction_id=${CLICK}`)
    const getAdvertiserTransactionId = jest.fn(() => SDK_CLICK)
    ;(window as { EF?: unknown }).EF = { getAdvertiserTransactionId }
    const event = await track(await pageLoad('/checkout', { advertiserId: '7' }))
    expect(event.context?.referrer).toEqual({ type: 'everflow', id: SDK_CLICK })
    expect(getAdvertiserTransactionId).toHaveBeenCalledWith('7')
  })

  it('falls back to the kept click when the SDK knows none, answers junk or throws', async () => {
    await pageLoad(`/landing?_ef_transaction_id=${CLICK}`)
    const checkout = await pageLoad('/checkout', { advertiserId: '7' })
    for (const answer of [
      () => '',
      () => 'not-a-click',
      () => undefined,
      () => {
        throw new Error('SDK broke')
      }
    ]) {
      ;(window as { EF?: unknown }).EF = { getAdvertiserTransactionId: answer }
      expect((await track(checkout)).context?.referrer).toEqual({ type: 'everflow', id: CLICK })
    }
  })

  it('does not ask the SDK without an advertiser id', async () => {
    const getAdvertiserTransactionId = jest.fn(() => SDK_CLICK)
    ;(window as { EF?: unknown }).EF = { getAdvertiserTransactionId }
    expect((await track(await pageLoad('/checkout'))).context?.referrer).toBeUndefined()
    expect(getAdvertiserTransactionId).not.toHaveBeenCalled()
  })
})

describe('browsers that block storage', () => {
  it('keeps the click in localStorage when cookies do not stick', async () => {
    Object.defineProperty(document, 'cookie', { configurable: true, get: () => '', set: () => undefined })
    await pageLoad(`/landing?_ef_transaction_id=${CLICK}`)
    expect(window.localStorage.getItem(STORAGE_KEY)).toMatch(new RegExp(`^${CLICK}\\.\\d+$`))
    const event = await track(await pageLoad('/checkout'))
    expect(event.context?.referrer).toEqual({ type: 'everflow', id: CLICK })
  })

  it('throws nothing when cookies and localStorage throw, and still gives the landing page its click', async () => {
    const blocked = () => {
      throw new DOMException('The operation is insecure.', 'SecurityError')
    }
    Object.defineProperty(document, 'cookie', { configurable: true, get: blocked, set: blocked })
    Object.defineProperty(window, 'localStorage', { configurable: true, get: blocked })
    const landing = await pageLoad(`/landing?_ef_transaction_id=${CLICK}`)
    expect((await track(landing)).context?.referrer).toEqual({ type: 'everflow', id: CLICK })
    const checkout = await pageLoad('/checkout')
    expect((await track(checkout)).context?.referrer).toBeUndefined()
  })
})

describe('event types', () => {
  it('enriches page and identify calls too, and not group calls', async () => {
    const landing = await pageLoad(`/landing?_ef_transaction_id=${CLICK}`)
    const page = await landing.page!(new Context({ type: 'page', name: 'Checkout' }))
    expect(page.event.context?.referrer).toEqual({ type: 'everflow', id: CLICK })
    const identify = await landing.identify!(new Context({ type: 'identify', userId: 'a1b2c3d4' }))
    expect(identify.event.context?.referrer).toEqual({ type: 'everflow', id: CLICK })
    const group = await landing.group!(new Context({ type: 'group', groupId: 'g1' }))
    expect(group.event.context?.referrer).toBeUndefined()
  })
})
