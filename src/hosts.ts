import { IntegrationError, RetryableError } from '@segment/actions-core'
import { isPrivateAddress } from './addresses'
import type { HostLookup } from './addresses'
import { failureReason, POSTBACK_HOST_LOOKUP_FAILED, settingsError } from './errors'

/** Where the answers of a HostCheck come from, and how long they are kept. */
export interface HostCheckOptions {
  lookup: HostLookup
  /** How long an answer is kept, in milliseconds. */
  ttl?: number
  /** How many hosts are kept at most. */
  maxHosts?: number
  now?: () => number
}

/** A host's addresses, or why it must not be used; kept until `expires`. */
interface Answer {
  privateAddress: Promise<string | undefined>
  expires: number
}

// A minute: short enough that a changed DNS record is seen soon, long enough that events do not pay a lookup each.
const DEFAULT_TTL = 60_000
const DEFAULT_MAX_HOSTS = 1000

function privateHostMessage(host: string, address: string): string {
  return (
    `Postback URL host ${host} resolves to ${address}, a private or local address; postbacks go only to public addresses. ` +
    'Use your Everflow tracking domain (Control Center > Configuration > Global Postback).'
  )
}

/**
 * Refuses Postback URL hosts that resolve to a private address: in the settings check, and before every
 * postback (DNS can change after the settings were saved). Answers are cached for a short time.
 */
export class HostCheck {
  private readonly answers = new Map<string, Answer>()
  private readonly lookup: HostLookup
  private readonly ttl: number
  private readonly maxHosts: number
  private readonly now: () => number

  constructor({ lookup, ttl = DEFAULT_TTL, maxHosts = DEFAULT_MAX_HOSTS, now = Date.now }: HostCheckOptions) {
    this.lookup = lookup
    this.ttl = ttl
    this.maxHosts = maxHosts
    this.now = now
  }

  /** The private address the host resolves to, if any; a failed lookup throws the resolver's error. */
  private privateAddressOf(host: string): Promise<string | undefined> {
    const cached = this.answers.get(host)
    if (cached !== undefined && cached.expires > this.now()) return cached.privateAddress
    // The promise is kept, so the events of a batch that arrive together share one lookup.
    const privateAddress = this.lookup(host).then((addresses) => {
      if (addresses.length === 0) throw Object.assign(new Error(`no address for ${host}`), { code: 'ENODATA' })
      return addresses.find(isPrivateAddress)
    })
    if (this.answers.size >= this.maxHosts) this.answers.clear()
    const answer = { privateAddress, expires: this.now() + this.ttl }
    this.answers.set(host, answer)
    // A failed lookup is not kept: the next event asks again.
    privateAddress.catch(() => {
      if (this.answers.get(host) === answer) this.answers.delete(host)
    })
    return privateAddress
  }

  /** Before a postback: a private address is a settings error, a failed lookup is retried. */
  async beforePostback(host: string): Promise<void> {
    let privateAddress: string | undefined
    try {
      privateAddress = await this.privateAddressOf(host)
    } catch (error) {
      throw new RetryableError(
        `Could not look up the Postback URL host ${host} (${failureReason(error, 'lookup failed')}); the postback was not sent. Segment will retry.`
      )
    }
    if (privateAddress !== undefined) throw settingsError(privateHostMessage(host, privateAddress))
  }

  /** In the settings check: a host that does not resolve, or resolves to a private address, is a settings error. */
  async inSettingsCheck(host: string): Promise<void> {
    let privateAddress: string | undefined
    try {
      privateAddress = await this.privateAddressOf(host)
    } catch (error) {
      const code = failureReason(error, 'lookup failed')
      if (code === 'ENOTFOUND' || code === 'ENODATA') {
        throw settingsError(
          `Postback URL host ${host} does not exist in DNS (${code}). Check the tracking domain in Everflow (Control Center > Configuration > Global Postback).`
        )
      }
      throw new IntegrationError(
        `Postback URL host ${host} could not be looked up (${code}); this says nothing about the settings. Try saving them again in a few minutes.`,
        POSTBACK_HOST_LOOKUP_FAILED,
        503
      )
    }
    if (privateAddress !== undefined) throw settingsError(privateHostMessage(host, privateAddress))
  }
}
