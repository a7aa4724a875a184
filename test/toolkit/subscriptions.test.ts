// Which subscription takes an event, read from the definition's presets (whatever they are), and the words the
// toolkit uses for an event none of them takes.
import { createDestination } from '../../src'
import type { Io } from '../../src/toolkit/shared/io'
import { matchOf, notSubscribedReason, subscriptionsOf } from '../../src/toolkit/shared/subscriptions'
import { subscriptionLines } from '../../src/toolkit/preview'
import { event, lines, toolkit } from './support'

const io = { env: {} } as unknown as Io
const base = createDestination()
const CLICK = 'type = "track" and event = "Order Completed" and context.referrer.type = "everflow"'
const COUPON = 'type = "track" and event = "Order Completed" and properties.coupon exists'
/** A definition with two presets, as a destination with a clickless coupon preset has. */
const twoPresets = {
  ...base,
  presets: [
    { name: 'Order with a click', subscribe: CLICK, partnerAction: 'trackConversion', type: 'automatic' as const },
    { name: 'Clickless coupon order', subscribe: COUPON, partnerAction: 'trackConversion', type: 'automatic' as const }
  ]
}

describe('subscriptions from presets', () => {
  const subscriptions = subscriptionsOf(io, twoPresets)
  const order = (extra: object) => JSON.parse(event('t1', extra))

  it('an event goes to the first preset it matches; one that matches none is named with every preset it misses', () => {
    expect(matchOf(subscriptions, order({}))?.name).toBe('preset "Order with a click"')
    const coupon = order({ context: { referrer: {} }, properties: { total: 5, coupon: 'SPRING' } })
    expect(matchOf(subscriptions, coupon)?.name).toBe('preset "Clickless coupon order"')
    expect(matchOf(subscriptions, order({ context: { referrer: {} } }))).toBeUndefined()
    expect(notSubscribedReason(subscriptions, order({ context: { referrer: {} } }))).toBe(
      'matches no preset (no Everflow click (context.referrer.type is not "everflow") and no coupon: nothing Everflow could credit, so not subscribed): ' +
        `preset "Order with a click" (${CLICK}); preset "Clickless coupon order" (${COUPON}). ` +
        'Segment sends it to no action; not a failure'
    )
    expect(notSubscribedReason(subscriptions, order({ event: 'Signed Up', context: { referrer: {} } }))).toBe(
      `matches no preset: preset "Order with a click" (${CLICK}); preset "Clickless coupon order" (${COUPON}). ` +
        'Segment sends it to no action; not a failure'
    )
  })

  it('the summary says how many events each preset took', () => {
    const results = [
      { outcome: 'dry-run' as const, subscription: 'preset "Order with a click"' },
      { outcome: 'dry-run' as const, subscription: 'preset "Clickless coupon order"' },
      { outcome: 'dry-run' as const, subscription: 'preset "Order with a click"' },
      { outcome: 'rejected' as const, subscription: 'preset "Clickless coupon order"' }
    ]
    expect(subscriptionLines(results, 'would send')).toEqual([
      '  would send 2 by preset "Order with a click"',
      '  would send 1 by preset "Clickless coupon order"'
    ])
  })

  it('--help lists --verify-wait and --verify-tries with --verify (preview), not under verify, which refuses them', async () => {
    const help = (await toolkit(['--help'])).stdout
    const section = (title: string) => help.slice(help.indexOf(title), help.indexOf('\n\n', help.indexOf(title)))
    expect(section('Preview options:')).toContain('--verify-wait S')
    expect(section('Preview options:')).toContain('--verify-tries N')
    expect(section('Verify options:')).not.toContain('--verify-')
    const refused = await toolkit(['verify', 'abc', '--verify-wait', '1'])
    expect(refused.code).toBe(2)
    expect(lines(help)[0]).toContain('Usage: everflow-toolkit [command] [options]')
  })
})
