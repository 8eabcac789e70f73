/** Every async call in Chiral accepts an AbortSignal. */
export interface AbortOptions {
  signal?: AbortSignal
}

/** A long-lived object: nothing happens before `start()`, nothing is left after `stop()`. */
export interface Startable {
  start(): Promise<void>
  stop(): Promise<void>
}
