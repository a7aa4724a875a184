import { forEachBounded } from '../src/pool'

describe('forEachBounded', () => {
  it('calls once for each item, in order, with at most `limit` calls pending', async () => {
    const calls: Array<[string, number]> = []
    let pending = 0
    let mostPending = 0
    await forEachBounded(['a', 'b', 'c', 'd', 'e'], 2, async (item, index) => {
      calls.push([item, index])
      pending++
      mostPending = Math.max(mostPending, pending)
      await new Promise((resolve) => setImmediate(resolve))
      pending--
    })
    expect(calls).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
      ['d', 3],
      ['e', 4]
    ])
    expect(mostPending).toBe(2)
  })

  it('calls nothing for no items', async () => {
    const calls: unknown[] = []
    await forEachBounded([], 4, (item) => {
      calls.push(item)
      return Promise.resolve()
    })
    expect(calls).toEqual([])
  })
})
