import { IntegrationError } from '@segment/actions-core'
import { isPrivateAddress } from './addresses'
import type { HostLookup } from './addresses'
import { failureReason, POSTBACK_HOST_LOOKUP_FAILED, settingsError } from './errors'

/** The message of a Postback URL host that resolves to a private address, at save time and at send time alike. */
export function privateHostMessage(host: string, address: string | undefined): string {
  return (
    `Postback URL host ${host} resolves to ${address === undefined ? '' : `${address}, `}a private or local address; postbacks go only to public addresses. ` +
    'Use your Everflow tracking domain (Control Center > Configuration > Global Postback).'
  )
}

/**
 * The settings check's look at the Postback URL host: one that does not exist in DNS (a typo in the tracking
 * domain) or resolves to a private address is a settings error. Postbacks apply the private-address rule again
 * when they connect (connection-guard.ts), since DNS can change after the settings were saved.
 */
export async function checkPostbackHost(host: string, lookup: HostLookup): Promise<void> {
  let addresses: string[]
  try {
    addresses = await lookup(host)
    if (addresses.length === 0) throw Object.assign(new Error(`no address for ${host}`), { code: 'ENODATA' })
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
  const privateAddress = addresses.find(isPrivateAddress)
  if (privateAddress !== undefined) throw settingsError(privateHostMessage(host, privateAddress))
}
