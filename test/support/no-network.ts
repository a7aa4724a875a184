// Every test file: nothing reaches the network. HTTP goes to nock, or to a server the test itself started on
// 127.0.0.1. nock patches Node's shared http module, so each file restores it when done; otherwise a file
// that runs next in the same worker would inherit another file's interceptors and net-connect rules.
import dns from 'dns'
import nock from 'nock'

nock.disableNetConnect()
nock.enableNetConnect('127.0.0.1')
// The destination's host check resolves with dns.promises.lookup; tests inject their own resolver instead.
jest
  .spyOn(dns.promises, 'lookup')
  .mockImplementation((host: string) => Promise.reject(new Error(`a test tried to look up ${host} in real DNS`)))

afterAll(() => {
  nock.cleanAll()
  nock.restore()
})
