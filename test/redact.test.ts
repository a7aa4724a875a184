// The masking rules themselves; secrets.test.ts drives them through the destination.
import { redact, redactUrl, secretsOf } from '../src/secrets'
import fc from 'fast-check'

describe('redact', () => {
  it.each([
    // a secret of 8 characters or more is masked wherever it occurs
    ['key-SECRET-7f3a', 'xkey-SECRET-7f3ax and key-SECRET-7f3a.', 'x***x and ***.'],
    ['12345678', 'order 123456789', 'order ***9'],
    // a shorter one only as a word of its own
    ['123', 'nid=123&order_id=123456789', 'nid=***&order_id=123456789'],
    ['123', 'user_ip "23.123.123.123"', 'user_ip "23.123.123.123"'],
    ['123', 'bad token 123.', 'bad token ***.'],
    ['123', 'bad token 123. Check', 'bad token ***. Check'],
    ['123', '"123", (123) [123] {123} <123>', '"***", (***) [***] {***} <***>'],
    ['123', '1234 0123 123a a-123 123/4', '1234 0123 123a a-123 123/4'],
    ['k', 'Postback URL "http://www.trkexample.com/"', 'Postback URL "http://www.trkexample.com/"'],
    ['k', 'Network ID: "k" is not', 'Network ID: "***" is not'],
    ['a.b', 'a.b and axb', '*** and axb']
  ])('with secret %j masks %j as %j', (secret, text, masked) => {
    expect(redact(text, [secret])).toBe(masked)
  })
})

describe('redactUrl', () => {
  it('masks a URL with no query as text', () => {
    expect(redactUrl('https://t.example.com/pb/tok-SECRET-91c2/a=b', ['tok-SECRET-91c2'])).toBe(
      'https://t.example.com/pb/***/a=b'
    )
  })

  it('masks the verification_token value and event data that is a secret, never the network id', () => {
    expect(
      redactUrl('https://t.example.com/pb?nid=123&order_id=123456789&adv1=123&adv2=a+b&verification_token=123', ['123'])
    ).toBe('https://t.example.com/pb?nid=123&order_id=123456789&adv1=***&adv2=a+b&verification_token=***')
  })

  it('masks a long token inside any value, encoded or not', () => {
    expect(
      redactUrl('https://t.example.com/?adv1=x%20tok-SECRET-91c2%26&verification_token=zz', ['tok-SECRET-91c2'])
    ).toBe('https://t.example.com/?adv1=x+***%26&verification_token=***')
  })
})

describe('redactUrl without URLSearchParams for a plain query', () => {
  /** redactUrl as it was before the plain-query path: the reference its results must equal. */
  function throughUrlSearchParams(url: string, secrets: string[]): string {
    const queryStart = url.indexOf('?')
    if (queryStart < 0) return redact(url, secrets)
    const shown = new URLSearchParams()
    for (const [name, value] of new URLSearchParams(url.slice(queryStart + 1))) {
      shown.append(
        redact(name, secrets),
        name === 'verification_token' ? '***' : name === 'nid' ? value : redact(value, secrets)
      )
    }
    return `${redact(url.slice(0, queryStart), secrets)}?${shown.toString()}`
  }

  // Queries made of the characters that matter: separators, escapes, "+", the secrets and plain text.
  const part = fc.stringOf(
    fc.constantFrom(
      'a',
      'Z',
      '1',
      '_',
      '-',
      '.',
      '*',
      '=',
      '&',
      '+',
      '%',
      '%2A',
      '%20',
      '%41',
      ' ',
      'é',
      'k',
      '123',
      'tok-SECRET'
    ),
    { maxLength: 12 }
  )
  const name = fc.constantFrom('nid', 'verification_token', 'adv1', 'order_id', 'k', '123', '')
  const query = fc
    .array(fc.tuple(name, part), { maxLength: 6 })
    .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('&'))
  const secrets = fc.subarray(['k', '123', 'tok-SECRET', 'example-token'])

  it('gives exactly what URLSearchParams gives, for every query', () => {
    fc.assert(
      fc.property(fc.oneof(query, part), secrets, (q, s) => {
        const url = `https://t.example.com/p?${q}`
        expect(redactUrl(url, s)).toBe(throughUrlSearchParams(url, s))
      }),
      { numRuns: 2000, seed: 20 }
    )
  })

  it('masks the token and keeps nid in the plain query the builder writes', () => {
    expect(
      redactUrl('https://t.example.com/?nid=123&transaction_id=abc&amount=7.5&adv1=123&verification_token=123', ['123'])
    ).toBe('https://t.example.com/?nid=123&transaction_id=abc&amount=7.5&adv1=***&verification_token=***')
  })
})

describe('secretsOf', () => {
  const withUrl = (postbackUrl: string) => secretsOf({ apiKey: 'key-0123456789', eventMapping: 'A=0', postbackUrl })

  it.each([
    ['as written', 'https://t.example/?nid=1&verification_token=tok+en%2F12345', ['tok en/12345']],
    ['under a percent-encoded name', 'https://t.example/?verification%5Ftoken=token12345', ['token12345']],
    [
      'twice',
      'https://t.example/?verification_token=first1234&verification_token=second1234',
      ['first1234', 'second1234']
    ],
    [
      'in a fragment, which the settings parser ignores',
      'https://t.example/?nid=1#verification_token=frag12345',
      ['frag12345']
    ],
    ['as a placeholder, which is no secret', 'https://t.example/?verification_token={verification_token}', []],
    ['nowhere', 'https://t.example/?nid=1', []]
  ])('takes a verification_token in the Postback URL %s', (_name, postbackUrl, tokens) => {
    expect(withUrl(postbackUrl)).toEqual([...tokens, 'key-0123456789'])
  })
})
