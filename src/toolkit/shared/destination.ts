// The destination as the toolkit runs it: Segment's own, aimed at the test origins when given, with the action
// observed (what it resolved and requested) and, in a dry run, its request replaced so nothing can be sent.
import { Destination, Headers } from '@segment/actions-core'
import type { ActionDefinition, DestinationDefinition, RequestClient } from '@segment/actions-core'
import { createDestination } from '../../index'
import { dnsLookup } from '../../addresses'
import type { HostLookup } from '../../addresses'
import type { Settings } from '../../generated-types'
import type { Payload } from '../../trackConversion/generated-types'
import type { Io } from './io'
import { testTransport } from './settings'

/** Stands in for the framework's request in a dry run: records the URL and answers as Everflow does. */
export function dryRunRequest(seen: { url?: string }): RequestClient {
  return ((url: string) => {
    seen.url = url
    return Promise.resolve({ status: 200, statusText: 'OK', headers: new Headers(), content: '', data: '' })
  }) as unknown as RequestClient
}

function recordingRequest(request: RequestClient, seen: Seen): RequestClient {
  return (async (url: string, options?: object) => {
    seen.url = url
    const response = await request(url, options)
    seen.status = response.status
    return response
  }) as RequestClient
}

/** What the action saw of the event being run: the payload the framework resolved, the URL it requested, the answer. */
export interface Seen {
  payload?: Payload
  url?: string
  status?: number
}

/**
 * The destination as Segment runs it, with the action observed (payload and URL recorded in `seen`) and, in a
 * dry run, its request replaced. One event at a time when `seen` is read.
 */
export function observedDestination(
  definition: DestinationDefinition<Settings>,
  send: boolean,
  seen: Seen
): Destination<Settings> {
  const action = definition.actions.trackConversion as ActionDefinition<Settings, Payload>
  const observed: ActionDefinition<Settings, Payload> = {
    ...action,
    perform: (request, data) => {
      seen.payload = data.payload
      const result: unknown = action.perform(send ? recordingRequest(request, seen) : dryRunRequest(seen), data)
      return result
    },
    // The batch path too, so that a dry run can never send, whichever path runs.
    performBatch: (request, data) =>
      action.performBatch?.(send ? recordingRequest(request, seen) : dryRunRequest(seen), data)
  }
  return new Destination({ ...definition, actions: { trackConversion: observed } })
}

/**
 * The destination for a command, as Segment's: the settings check looks the Postback URL host up, and a postback
 * refuses to connect to a private address. A dry run sends nothing, so it never looks anything up. Aimed at a
 * loopback test origin, postbacks go there (an address, which is not looked up); the settings check still looks up
 * the Postback URL's own host, so a typo in the tracking domain is caught there too.
 */
export function destinationFor(io: Io, lookups?: { hosts: string[] }): DestinationDefinition<Settings> {
  const resolve = io.lookup ?? dnsLookup
  // check-settings watches the lookups, to tell a failed Postback URL check from a failed API Key check.
  const lookup: HostLookup = lookups
    ? (host) => {
        lookups.hosts.push(host)
        return resolve(host)
      }
    : resolve
  return createDestination({ ...testTransport(io), lookup })
}
