/**
 * Which signaling server a client tries next, when it knows several.
 *
 * A round tries every URL once. A URL that could not be reached, refused
 * the registration, or whose connection died counts as tried; the next one
 * is tried at once, and only after a whole round failed does the client back
 * off (by its usual backoff) before the next round. With one URL a round is
 * that URL alone: every failure backs off, as a single-server client does.
 *
 * ```
 *   urls [a, b, c], registered on b, b dies:
 *     b ✗ ──at once──► c ✗ ──at once──► a ✗ ──round over: back off──► b …
 *   registered on any: the next failure starts a new round there
 * ```
 *
 * The client stays where it registered: a URL earlier in the list that comes
 * back is not preferred (moving would cut a working connection for nothing).
 */
export class UrlRotation {
  private index = 0
  private failedInRound = 0

  constructor (readonly urls: readonly string[]) {
    if (urls.length === 0) throw new RangeError('UrlRotation needs at least one URL')
  }

  /** The URL to connect to now. */
  get current (): string {
    return this.urls[this.index]!
  }

  /**
   * The current URL failed: moves to the next one. Returns true when every
   * URL failed in this round (the caller backs off before trying again).
   */
  fail (): boolean {
    this.index = (this.index + 1) % this.urls.length
    this.failedInRound++
    if (this.failedInRound < this.urls.length) return false
    this.failedInRound = 0
    return true
  }

  /** Registered on the current URL: a failure from now on starts a new round. */
  opened (): void {
    this.failedInRound = 0
  }

  /** Back to the first URL, a fresh round (a client that starts again). */
  reset (): void {
    this.index = 0
    this.failedInRound = 0
  }
}
