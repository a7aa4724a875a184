// Snapshots in the monorepo's style: the postback URL for every field mapped, and for only the required ones.
import nock from 'nock'
import { createTestIntegration } from '@segment/actions-core'
import type { JSONObject } from '@segment/actions-core'
import { definition, orderCompleted, settings, TRACKING_ORIGIN } from './support/helpers'

const testDestination = createTestIntegration(definition)

/** The URL with the conversion time made stable, so only a change in what is sent changes the snapshot. */
const normalised = (url: string) => url.replace(/timestamp=[0-9]+/, 'timestamp=<unix-seconds>')

async function postbackFor(mapping: JSONObject, useDefaultMappings: boolean): Promise<string> {
  nock(TRACKING_ORIGIN).get('/').query(true).reply(200, 'OK')
  const [response] = await testDestination.testAction('trackConversion', {
    event: orderCompleted({
      event: 'Signed Up',
      context: {
        referrer: { type: 'everflow', id: '0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b' },
        ip: '2001:db8::7',
        traits: { email: 'Jane.Doe@Example.com' }
      } as never,
      properties: {
        total: '1234.50',
        orderId: 'ord_987',
        adv1: 'spring & summer',
        adv2: 2,
        adv3: 'ünïcödé',
        adv4: 'a=b?c#d',
        adv5: '50%+',
        coupon: 'SAVE10',
        currency: 'eur',
        plan: 'gold'
      }
    }),
    settings: { ...settings, verificationToken: 'snapshot-token' },
    mapping,
    useDefaultMappings
  })
  return normalised(response.url)
}

describe('trackConversion postback', () => {
  it('with every field mapped', async () => {
    const url = await postbackFor(
      { adv_event_id: 44, custom_parameters: { sub1: { '@path': '$.properties.plan' }, source: 'segment' } },
      true
    )
    expect(url).toMatchSnapshot()
  })

  it('with only the required fields', async () => {
    const url = await postbackFor(
      {
        transaction_id: { '@path': '$.context.referrer.id' },
        referrer_type: { '@path': '$.context.referrer.type' },
        event_name: { '@path': '$.event' }
      },
      false
    )
    expect(url).toMatchSnapshot()
  })
})
