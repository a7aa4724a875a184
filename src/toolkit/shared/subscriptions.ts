// What Segment runs events through: every preset of the destination (or --subscription), parsed as Segment parses
// FQL, and why an event none of them takes is not subscribed.
import { defaultValues } from '@segment/actions-core'
import type { DestinationDefinition, JSONObject, SegmentEvent } from '@segment/actions-core'
import { parseFql, validate } from '@segment/destination-subscriptions'
import type { Subscription as ParsedFql } from '@segment/destination-subscriptions'
import { NOT_SUBSCRIBED_BECAUSE, orderKind, PRESET_EVENT_NAME } from '../../subscriptions'
import type { Settings } from '../../generated-types'
import { readJsonObject } from './events'
import { UsageError } from './io'
import type { Io } from './io'

/** A subscription the toolkit runs events through: a preset's, or --subscription's. */
export interface ActiveSubscription {
  /** How the output names it: preset "Name", or --subscription. */
  name: string
  subscribe: string
  partnerAction: string
  mapping: JSONObject
  /** The --mapping file the mapping came from, if it did. */
  mappingFile?: string
  /** The action's default mapping, to tell what a --mapping file leaves out. */
  defaults: JSONObject
  parsed: ParsedFql
}

/** Segment's FQL, parsed as Segment parses it; a clear UsageError for text it cannot read or that ends early. */
function parseSubscription(fql: string, what: string): ParsedFql {
  let parsed: ReturnType<typeof parseFql>
  try {
    parsed = parseFql(fql)
  } catch (error) {
    parsed = { error: error as Error }
  }
  const incomplete = (node: unknown): boolean => {
    const { children, value, operator } = node as { children?: unknown[]; value?: unknown; operator?: string }
    return children ? children.some(incomplete) : value === 'eos' && operator !== 'exists' && operator !== 'not_exists'
  }
  if ('error' in parsed || incomplete(parsed)) {
    throw new UsageError(
      `${what} ${JSON.stringify(fql)} is not a subscription Segment can read. Write FQL conditions joined by and/or, ` +
        'with text values in double quotes, e.g. type = "track" and event = "Order Completed".'
    )
  }
  return parsed
}

/**
 * What Segment runs events through: with --subscription, that FQL (with --mapping or the default mapping);
 * otherwise every preset of the definition, as Segment creates them when the destination is added, each with its
 * own mapping (or --mapping).
 */
export function subscriptionsOf(
  io: Io,
  definition: DestinationDefinition<Settings>,
  fql?: string,
  mappingFile?: string
): ActiveSubscription[] {
  const mapping = mappingFile ? readJsonObject(io, mappingFile, 'Mapping') : undefined
  const defaults = defaultValues(definition.actions.trackConversion.fields)
  if (fql !== undefined) {
    return [
      {
        name: '--subscription',
        subscribe: fql,
        partnerAction: 'trackConversion',
        mapping: mapping ?? defaults,
        mappingFile,
        defaults,
        parsed: parseSubscription(fql, '--subscription')
      }
    ]
  }
  return presetsOf(definition).map((preset) => ({
    ...preset,
    mapping: mapping ?? preset.mapping,
    mappingFile,
    defaults,
    parsed: parseSubscription(preset.subscribe, preset.name)
  }))
}

/**
 * The definition's Track Conversion presets that subscribe by FQL, named as the output names them. (Refunds have
 * their own path in the preview.)
 */
export function presetsOf(definition: DestinationDefinition<Settings>) {
  return (definition.presets ?? []).flatMap((preset) =>
    'subscribe' in preset && preset.subscribe && preset.partnerAction === 'trackConversion'
      ? [
          {
            name: `preset ${JSON.stringify(preset.name ?? preset.partnerAction)}`,
            subscribe: preset.subscribe,
            partnerAction: preset.partnerAction,
            mapping: preset.mapping ?? defaultValues(definition.actions.trackConversion.fields)
          }
        ]
      : []
  )
}

/** The first subscription the event matches, as Segment's own FQL evaluation decides. */
export function matchOf(subscriptions: ActiveSubscription[], event: SegmentEvent): ActiveSubscription | undefined {
  return subscriptions.find((subscription) => validate(subscription.parsed, event))
}

/** Why an event is not subscribed, in words a customer can act on: which subscriptions it misses. */
export function notSubscribedReason(subscriptions: ActiveSubscription[], event: SegmentEvent): string {
  const names = subscriptions.map((s) => `${s.name} (${s.subscribe})`)
  if (subscriptions[0]?.name === '--subscription') {
    return `matches no --subscription (${subscriptions[0].subscribe}): Segment would not send it; not a failure`
  }
  // An order the preset leaves out: say whether it has a coupon that a clickless mapping could send.
  const kind =
    event.type === 'track' && event.event === PRESET_EVENT_NAME
      ? orderKind(event as Parameters<typeof orderKind>[0])
      : 'everflow-click'
  const why = kind === 'everflow-click' ? '' : ` (${NOT_SUBSCRIBED_BECAUSE[kind]})`
  return `matches no preset${why}: ${names.join('; ') || 'the destination has none'}. Segment sends it to no action; not a failure`
}

/**
 * An event that matches a subscription but is not a track call (an identify or page call subscribed by
 * --subscription): Track Conversion cannot send it.
 */
export function wrongType(event: SegmentEvent, subscription: ActiveSubscription): string | undefined {
  const type = (event as { type?: unknown }).type
  if (type === 'track') return undefined
  return `${callOf(type)} matches ${subscription.name} (${subscription.subscribe}), but Track Conversion sends track calls only: subscribe it to track events`
}

function callOf(type: unknown): string {
  if (typeof type !== 'string') return `an event with "type" ${JSON.stringify(type)}`
  return `${/^[aeiou]/i.test(type) ? 'an' : 'a'} ${type} call`
}
