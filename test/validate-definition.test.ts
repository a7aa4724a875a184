// Each rule of npm run validate, fed a definition broken in exactly one way, must name the problem.
import definition from '../src'
import { validateDefinition } from '../scripts/validate-definition'

type Definition = Parameters<typeof validateDefinition>[0]

/** A deep copy of the real definition (functions kept), changed by `change`. */
function broken(change: (copy: Definition) => void): Definition {
  const copy = structuredCloneWithFunctions(definition as unknown as Definition)
  change(copy)
  return copy
}

function structuredCloneWithFunctions<T>(value: T): T {
  if (Array.isArray(value)) return value.map(structuredCloneWithFunctions) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, structuredCloneWithFunctions(inner)])
    ) as T
  }
  return value
}

const action = (copy: Definition) => copy.actions.trackConversion
const setting = (copy: Definition, key: string) => copy.authentication!.fields[key]

describe('npm run validate', () => {
  it('passes the destination as it is', () => {
    expect(validateDefinition(definition as unknown as Definition)).toEqual([])
  })

  it.each<[string, (copy: Definition) => void, string]>([
    [
      'a default subscription that does not parse',
      (copy) => (action(copy).defaultSubscription = 'type = "track" and event = "Order'),
      'action trackConversion defaultSubscription: subscription "type = \\"track\\" and event = \\"Order" does not parse as FQL'
    ],
    [
      'a default subscription that parses only in part',
      (copy) => (action(copy).defaultSubscription = 'type = "track" and'),
      'parses only in part (as "type = \\"track\\"")'
    ],
    [
      'a preset subscription that does not parse',
      (copy) => Object.assign(copy.presets![0], { subscribe: 'nonsense (' }),
      'preset "Order Completed": subscription "nonsense (" does not parse as FQL'
    ],
    [
      'a preset naming no real action',
      (copy) => (copy.presets![0].partnerAction = 'sendConversion'),
      'preset "Order Completed": names action "sendConversion", which does not exist'
    ],
    [
      'a preset mapping a field that does not exist',
      (copy) => (copy.presets![0].mapping = { ...copy.presets![0].mapping, revenue: 5 }),
      'preset "Order Completed": maps "revenue", which is not a field of trackConversion'
    ],
    ['a setting without a label', (copy) => (setting(copy, 'apiKey').label = ''), 'setting apiKey: label is missing'],
    [
      'a setting whose description is not a sentence',
      (copy) => (setting(copy, 'networkId').description = 'the nid'),
      'setting networkId: description "the nid" is not a full sentence'
    ],
    [
      'a field without a description',
      (copy) => (action(copy).fields.adv1.description = ''),
      'action trackConversion field adv1: description is missing'
    ],
    [
      'a field whose description is one word',
      (copy) => (action(copy).fields.email.description = 'Email.'),
      'action trackConversion field email: description "Email." is not a full sentence'
    ],
    ['an action without a title', (copy) => (action(copy).title = ''), 'action trackConversion: title is missing'],
    [
      'a setting default of the wrong type',
      (copy) => (setting(copy, 'apiRegion').default = 1 as never),
      'setting apiRegion: default 1 does not fit type string'
    ],
    [
      'a field default of the wrong type',
      (copy) => (action(copy).fields.enable_batching.default = 'yes'),
      'action trackConversion field enable_batching: default "yes" does not fit type boolean'
    ],
    [
      'an integer default that is not whole',
      (copy) => (action(copy).fields.batch_size.default = 1.5),
      'action trackConversion field batch_size: default 1.5 does not fit type integer'
    ],
    [
      'a default outside the minimum and maximum',
      (copy) => (action(copy).fields.batch_size.default = 5000),
      'action trackConversion field batch_size: default 5000 is outside 1..1000'
    ],
    [
      'a default that is not one of the choices',
      (copy) => (setting(copy, 'apiRegion').default = 'apac'),
      'setting apiRegion: default "apac" is not one of the choices'
    ],
    ['empty choices', (copy) => (setting(copy, 'apiRegion').choices = []), 'setting apiRegion: choices are empty'],
    [
      'repeated choices',
      (copy) =>
        (setting(copy, 'apiRegion').choices = [
          { label: 'US', value: 'us' },
          { label: 'Also US', value: 'us' }
        ]),
      'setting apiRegion: choices repeat a value'
    ],
    [
      'a choice of the wrong type',
      (copy) =>
        (setting(copy, 'apiRegion').choices = [
          { label: 'US', value: 'us' },
          { label: 'One', value: 1 }
        ]),
      'setting apiRegion: a choice does not fit type string'
    ],
    [
      'a choice without a label',
      (copy) =>
        (setting(copy, 'apiRegion').choices = [
          { label: 'US', value: 'us' },
          { label: '', value: 'eu' }
        ]),
      'setting apiRegion: choice "eu" has no label'
    ]
  ])('fails %s', (_name, change, problem) => {
    expect(validateDefinition(broken(change))).toContainEqual(expect.stringContaining(problem))
  })
})
