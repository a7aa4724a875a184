// How the bench times its rounds. Figures that compare two runs take them in alternating rounds, so both see the
// same machine state: on 2 cores one round can run at half the speed of the next.

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** events/s of one run of `count` events. */
export async function eventsPerSecond(count: number, run: () => unknown): Promise<number> {
  const started = process.hrtime.bigint()
  await run()
  return count / (Number(process.hrtime.bigint() - started) / 1e9)
}

/**
 * After a warm-up round of each (JIT, sockets, schema compilation), `rounds` rounds of `first` then `second`, each
 * giving events/s; logs each round. Returns the median of each and the median of their per-round ratio.
 */
export async function alternating(
  rounds: number,
  first: () => Promise<number>,
  second: () => Promise<number>,
  describe: (first: number, second: number) => string
) {
  await first()
  await second()
  const firsts: number[] = []
  const seconds: number[] = []
  for (let round = 0; round < rounds; round++) {
    firsts.push(await first())
    seconds.push(await second())
    console.error(`  round ${round}: ${describe(Math.round(firsts[round]), Math.round(seconds[round]))}`)
  }
  return {
    first: median(firsts),
    second: median(seconds),
    ratio: median(firsts.map((rate, round) => rate / seconds[round]))
  }
}
