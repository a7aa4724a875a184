// Server-side request forgery: Postback URLs that must never become a postback target, and real-looking
// tracking domains that must. Refused URLs are also driven through the destination: no request is made.
import nock from 'nock'
import { createTestIntegration, IntegrationError } from '@segment/actions-core'
import { parsePostbackUrl } from '../src/settings'
import { definition, orderCompleted, settings, thrown } from './support/helpers'
import { tally } from './support/tally'

const refused: string[] = [
  // IPv4 literals, every notation the WHATWG URL parser turns into 127.0.0.1 or another address
  'https://127.0.0.1/',
  'https://2130706433/',
  'https://0x7f000001/',
  'https://0177.0.0.1/',
  'https://127.1/',
  'https://0x7f.1/',
  'https://017700000001/',
  'https://127.0.0.1./',
  'https://0.0.0.0/',
  'https://10.0.0.1/',
  'https://192.168.1.1/',
  'https://169.254.169.254/',
  'https://169.254.169.254/latest/meta-data/',
  '127.0.0.1',
  '169.254.169.254',
  // IPv6 literals
  'https://[::1]/',
  'https://[::ffff:127.0.0.1]/',
  'https://[::ffff:7f00:1]/',
  'https://[0:0:0:0:0:0:0:1]/',
  'https://[::]/',
  'https://[fd00::1]/',
  'https://[fe80::1]/',
  '[::1]',
  // local and reserved names
  'https://localhost/',
  'https://localhost./',
  'https://LOCALHOST/',
  'https://foo.localhost/',
  'https://metadata.google.internal/',
  'https://metadata/',
  'https://printer.local/',
  'https://router.lan/',
  'https://host.home.arpa/',
  'https://1.0.0.127.in-addr.arpa/',
  'https://example.test/',
  'https://example.invalid/',
  'https://intranet/',
  'localhost',
  'tracking',
  // user-info tricks
  'https://www.trkexample.com@evil.example/',
  'https://user:pass@www.trkexample.com/',
  'https://www.trkexample.com:@evil.example/',
  'https://@www.trkexample.com/',
  'www.trkexample.com@127.0.0.1',
  // backslashes, which the URL parser reads as slashes
  'https://www.trkexample.com\\@evil.example/',
  'https:\\\\evil.example\\',
  'https://evil.example\\.www.trkexample.com/',
  // ports
  'https://www.trkexample.com:8443/',
  'https://www.trkexample.com:443/',
  'https://www.trkexample.com:0/',
  'www.trkexample.com:80',
  // other schemes
  'http://www.trkexample.com/',
  'HTTP://www.trkexample.com/',
  'ftp://www.trkexample.com/',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'data:text/plain,hello',
  'gopher://www.trkexample.com/',
  'ws://www.trkexample.com/',
  // whitespace and control characters inside (around the value they are trimmed, as pasted text)
  'https://www.trk example.com/',
  'https://www.trkexample.com/a\tb',
  'https://www.trkexample.com/a\nb',
  'https://www.trk\u0000example.com/',
  'https://www.trkexample.com/\u007f',
  'https://www.trkexample\r\n.com/',
  'https://\u00a0www.trkexample.com/',
  // not a URL or hostname at all
  '',
  ' ',
  'https://',
  'https:///',
  '//',
  '?nid=1',
  'https://-bad.example.com/',
  'https://bad-.example.com/',
  'https://exa_mple.com/',
  'https://example.123/',
  `https://${'a'.repeat(64)}.example.com/`
]

const accepted: Array<[string, string]> = [
  ['https://www.trkexample.com/?nid=123&transaction_id={transaction_id}', 'https://www.trkexample.com/'],
  ['https://trk.example-network.com/', 'https://trk.example-network.com/'],
  ['www.eftrackall.com', 'https://www.eftrackall.com/'],
  ['https://t.brand.co.uk/pb?nid=1', 'https://t.brand.co.uk/pb'],
  ['https://xn--mller-kva.example/?nid=1', 'https://xn--mller-kva.example/'],
  ['https://müller.example/?nid=1', 'https://xn--mller-kva.example/'],
  ['https://XN--80AKHBYKNJ4F.XN--P1AI/', 'https://xn--80akhbyknj4f.xn--p1ai/'],
  ['https://trk.example.com./', 'https://trk.example.com/'],
  ['https://123.example.com/', 'https://123.example.com/'],
  ['https://www.trkexample.com/?nid=1#frag', 'https://www.trkexample.com/']
]

describe('Postback URLs that must be refused', () => {
  it.each(refused.map((url) => [url]))('refuses %j', async (url) => {
    tally('ssrf')
    const error = await thrown(() => parsePostbackUrl(url))
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error.code).toBe('INVALID_SETTINGS')
    expect(error.message).toMatch(/^Postback URL /)
  })

  it('refuses them through the destination too, with no request made', async () => {
    const recorder = jest.fn()
    nock.emitter.on('no match', recorder)
    const testDestination = createTestIntegration(definition)
    for (const postbackUrl of refused) {
      const error = await thrown(() =>
        testDestination.testAction('trackConversion', {
          event: orderCompleted(),
          settings: { ...settings, postbackUrl, networkId: '123' },
          useDefaultMappings: true
        })
      )
      expect(error.message).toMatch(/^Postback URL /)
    }
    nock.emitter.removeListener('no match', recorder)
    expect(recorder).not.toHaveBeenCalled()
  })
})

describe('Postback URLs that must be accepted', () => {
  it.each(accepted)('accepts %j as %s', (url, postbackBase) => {
    tally('ssrf')
    expect(parsePostbackUrl(url).postbackBase).toBe(postbackBase)
  })
})
