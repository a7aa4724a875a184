import type { Click } from './click-id'

/** What the destination's initialize hands every action: the click this page landed with, if any. */
export interface EverflowClient {
  landed?: Click
}
