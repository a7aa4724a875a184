// The private-address rule where a postback connects: the agents that carry every postback resolve the host
// themselves and refuse to connect when an answer is a private address. The settings check applies the same rule
// when the settings are saved (hosts.ts); this closes the gap of a DNS answer that changes after that.
import http from 'http'
import https from 'https'
import { isIP } from 'net'
import type { LookupAddress, LookupOptions } from 'dns'
import { isPrivateAddress } from './addresses'
import type { HostLookup } from './addresses'

/** The code of a connection refused because the host resolved to a private address. */
export const PRIVATE_ADDRESS_REFUSED = 'EVERFLOW_PRIVATE_ADDRESS_REFUSED'

export interface ConnectionGuardOptions {
  /** Resolves a host to all of its addresses. */
  lookup: HostLookup
  /** Test-only: addresses let through although private (a test's server on 127.0.0.1). No setting reaches it. */
  allowAddress?: (address: string) => boolean
}

// One worker sends for many settings; a refused host is rare, and only the latest message needs its address.
const MAX_REFUSALS_KEPT = 100

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * Core destroys the agent it is given after every response (prepare-response). These agents are shared by every
 * postback of the destination, in flight together in a batch, so that call must not cut their sockets; idle
 * sockets still close after the agent's `timeout`.
 */
class SharedHttpsAgent extends https.Agent {
  override destroy(): void {
    // Shared: see above.
  }
}
class SharedHttpAgent extends http.Agent {
  override destroy(): void {
    // Shared: see above.
  }
}

/**
 * The agents postbacks are sent with. They keep connections alive as Node's global agent does (LIFO, idle sockets
 * closed after 5 s), and look hosts up with `lookup`, refusing every answer that holds a private address.
 */
export class ConnectionGuard {
  readonly httpsAgent: https.Agent
  readonly httpAgent: http.Agent
  /** The private address each host was last refused for, for the error message (node-fetch keeps only the code). */
  private readonly refusals = new Map<string, string>()

  constructor({ lookup, allowAddress = () => false }: ConnectionGuardOptions) {
    // net calls this for every connection to a host name (never for an address literal, which the settings refuse).
    const guardedLookup = (host: string, options: LookupOptions, callback: LookupCallback) => {
      lookup(host).then(
        (found) => {
          const addresses = options.family ? found.filter((address) => isIP(address) === options.family) : found
          const refused = addresses.find((address) => isPrivateAddress(address) && !allowAddress(address))
          if (refused !== undefined) {
            if (this.refusals.size >= MAX_REFUSALS_KEPT) this.refusals.clear()
            this.refusals.set(host, refused)
            const error = new Error(`${host} resolves to ${refused}, a private or local address`)
            return callback(Object.assign(error, { code: PRIVATE_ADDRESS_REFUSED }), '')
          }
          if (addresses.length === 0) {
            return callback(Object.assign(new Error(`no address for ${host}`), { code: 'ENODATA' }), '')
          }
          if (options.all)
            return callback(
              null,
              addresses.map((address) => ({ address, family: isIP(address) }))
            )
          callback(null, addresses[0], isIP(addresses[0]))
        },
        (error: NodeJS.ErrnoException) => callback(error, '')
      )
    }
    const options = { keepAlive: true, scheduling: 'lifo' as const, timeout: 5000, lookup: guardedLookup }
    this.httpsAgent = new SharedHttpsAgent(options)
    this.httpAgent = new SharedHttpAgent(options)
  }

  /** The private address a connection to `host` was last refused for. */
  refusedAddress(host: string): string | undefined {
    return this.refusals.get(host)
  }

  /** The agent for a URL. Typed as core's option is; an http URL is only ever a test's loopback origin. */
  agentFor(url: string): https.Agent {
    return (url.startsWith('http:') ? this.httpAgent : this.httpsAgent) as https.Agent
  }
}
