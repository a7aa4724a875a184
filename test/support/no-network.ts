// Every test file: nothing reaches the network. HTTP goes to nock, or to a server the test itself started on
// 127.0.0.1. nock patches Node's shared http module, so each file restores it when done; otherwise a file
// that runs next in the same worker would inherit another file's interceptors and net-connect rules.
import dns from 'dns'
import { isIP } from 'net'
import nock from 'nock'

nock.disableNetConnect()
nock.enableNetConnect('127.0.0.1')
// Real DNS stays blocked: the destination resolves with dns.promises.lookup (in the settings check and when a
// postback connects); a test that needs an answer injects its own resolver. nock answers before any lookup.
jest
  .spyOn(dns.promises, 'lookup')
  .mockImplementation((host: string) => Promise.reject(new Error(`a test tried to look up ${host} in real DNS`)))
// Node itself calls dns.lookup with address literals (server.listen on 127.0.0.1), which never leave the machine.
const lookupAddress = dns.lookup
jest.spyOn(dns, 'lookup').mockImplementation(((host: string, ...rest: never[]) => {
  if (isIP(host) === 0) throw new Error(`a test tried to look up ${host} in real DNS`)
  return (lookupAddress as (...args: unknown[]) => void)(host, ...rest)
}) as never)

afterAll(() => {
  nock.cleanAll()
  nock.restore()
})
