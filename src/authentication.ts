import { IntegrationError, InvalidAuthenticationError } from '@segment/actions-core'
import type { RequestClient } from '@segment/actions-core'
import type { Settings } from './generated-types'
import { createEverflowApi, REGION_NAMES, regionOf } from './everflow-api'
import type { ApiAnswer, Region } from './everflow-api'
import type { HostLookup } from './addresses'
import { checkPostbackHost } from './hosts'
import { EVERFLOW_API_RATE_LIMITED, EVERFLOW_API_UNAVAILABLE, settingsError } from './errors'
import { parseSettings } from './settings'

const MAKE_A_KEY = 'Create a network API key in Everflow under Control Center > Security and paste it into API Key.'

/** What Everflow's API says about a key on one host. */
type KeyCheck = { kind: 'network'; networkId?: string } | { kind: 'advertiser' } | Exclude<ApiAnswer, { kind: 'ok' }>

function networkIdOf(body: unknown): string | undefined {
  const id = (body as { network_id?: unknown } | undefined)?.network_id
  return typeof id === 'number' || typeof id === 'string' ? String(id) : undefined
}

/** Asks one Everflow API host what kind of key this is: a network key, else an advertiser key. */
async function checkKey(request: RequestClient, region: Region, apiKey: string, apiOrigin?: string): Promise<KeyCheck> {
  // The check runs when settings are saved: a 429 is reported at once rather than waited out.
  const api = createEverflowApi({ request, region, apiKey, apiOrigin })
  const asNetwork = await api.get('/networks')
  if (asNetwork.kind === 'ok') return { kind: 'network', networkId: networkIdOf(asNetwork.body) }
  // 403 here is a key of another portal; an advertiser key, which the classic destination accepted too, is fine.
  if (asNetwork.kind !== 'forbidden') return asNetwork
  const asAdvertiser = await api.get('/advertisers/advertiser')
  return asAdvertiser.kind === 'ok' ? { kind: 'advertiser' } : asAdvertiser
}

/**
 * What Segment runs when the settings form is saved: every setting is parsed exactly as the action
 * parses it, then the API key is checked against Everflow's network API. Sends no postback.
 */
export async function testAuthentication(
  request: RequestClient,
  settings: Settings,
  lookup: HostLookup,
  apiOrigin?: string
): Promise<void> {
  const { networkId, postbackHost } = parseSettings(settings)
  await checkPostbackHost(postbackHost, lookup)
  const region = regionOf(settings.apiRegion)
  // Segment's schema check has made sure the key is there.
  const apiKey = settings.apiKey.trim()
  if (apiKey === '') throw new InvalidAuthenticationError(`API Key is empty. ${MAKE_A_KEY}`)

  const check = await checkKey(request, region, apiKey, apiOrigin)
  switch (check.kind) {
    case 'network':
      if (check.networkId !== undefined && check.networkId !== networkId) {
        throw settingsError(
          `API Key belongs to Everflow network ${check.networkId}, but the Postback URL (or Network ID) is for network ${networkId}. ` +
            'Use the API key and the Global Postback URL of the same Everflow network.'
        )
      }
      return
    case 'advertiser':
      return
    case 'unauthorized': {
      // The classic EU mistake: a key of an EU-hosted account checked against the US host, or the reverse.
      const other: Region = region === 'us' ? 'eu' : 'us'
      const elsewhere = await checkKey(request, other, apiKey, apiOrigin)
      if (elsewhere.kind === 'network' || elsewhere.kind === 'advertiser') {
        throw settingsError(
          `API Key is not known on Everflow's ${REGION_NAMES[region]} API but works on the ${REGION_NAMES[other]} API: ` +
            `set API Region to ${REGION_NAMES[other]}.`
        )
      }
      throw new InvalidAuthenticationError(
        `API Key was refused by Everflow (401): it is invalid or has been revoked. ${MAKE_A_KEY}`
      )
    }
    case 'forbidden':
      throw new InvalidAuthenticationError(
        'API Key belongs to an Everflow portal that cannot record conversions (for example a partner/affiliate key): ' +
          `Everflow answered 403 to both the network and the advertiser check. ${MAKE_A_KEY}`
      )
    case 'rate-limited':
      throw new IntegrationError(
        "Everflow's API rate limit was hit while checking the API Key. Try saving the settings again in a minute.",
        EVERFLOW_API_RATE_LIMITED,
        429
      )
    case 'unreachable':
      throw new IntegrationError(
        `Everflow's ${REGION_NAMES[region]} API could not be reached to check the API Key (${check.reason}); this says nothing about the key. ` +
          'Try saving the settings again in a few minutes.',
        EVERFLOW_API_UNAVAILABLE,
        503
      )
    case 'unexpected':
      throw new IntegrationError(
        `Everflow's ${REGION_NAMES[region]} API answered ${check.status} while checking the API Key. Check API Key and API Region, then save again.`,
        EVERFLOW_API_UNAVAILABLE,
        check.status
      )
  }
}
