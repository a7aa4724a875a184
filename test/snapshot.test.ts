// Snapshot tests in the shape of segmentio/action-destinations' generated ones (`./bin/run generate:snapshot`):
// per action, "required fields" and "all fields", snapshotting the request URL as podscribe's do. Unlike the
// templates' random data, the settings and the event are fixed and valid: random text is never a tracking domain.
import nock from 'nock'
import { createTestIntegration } from '@segment/actions-core'
import type { JSONObject } from '@segment/actions-core'
import { definition, orderCompleted, settings, TRACKING_ORIGIN } from './support/helpers'

const testDestination = createTestIntegration(definition)

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
  return response.url
}

describe('Testing snapshot for actions-everflow destination:', () => {
  it('trackConversion action - all fields', async () => {
    const url = await postbackFor(
      { adv_event_id: 44, custom_parameters: { sub1: { '@path': '$.properties.plan' }, source: 'segment' } },
      true
    )
    expect(url).toMatchSnapshot()
  })

  it('trackConversion action - required fields', async () => {
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
