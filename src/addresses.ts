import dns from 'dns'
import { BlockList, isIP } from 'net'

/** The addresses a host name resolves to. Injectable so that tests never touch real DNS. */
export type HostLookup = (host: string) => Promise<string[]>

/** Node's resolver (getaddrinfo, as an HTTP request would use): every address of the host. */
export const dnsLookup: HostLookup = async (host) =>
  (await dns.promises.lookup(host, { all: true, verbatim: true })).map(({ address }) => address)

// Addresses no postback may reach: this host, private networks, and the cloud metadata service. BlockList also
// matches the IPv4-mapped IPv6 forms (::ffff:127.0.0.1, ::ffff:7f00:1) against the IPv4 subnets.
const PRIVATE = new BlockList()
for (const [subnet, prefix] of [
  ['0.0.0.0', 8], // "this network", including the unspecified 0.0.0.0
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT, RFC 6598
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, including the cloud metadata address 169.254.169.254
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 3] // multicast, reserved and broadcast
] as const) {
  PRIVATE.addSubnet(subnet, prefix, 'ipv4')
}
for (const [subnet, prefix] of [
  ['::', 96], // unspecified, loopback and the old IPv4-compatible forms
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8] // multicast
] as const) {
  PRIVATE.addSubnet(subnet, prefix, 'ipv6')
}

/** Whether an IP address is one a postback must never reach. The one rule for literal and resolved addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return true // not an address at all: never a target
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6')
}
