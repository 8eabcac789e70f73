/**
 * The receive side of a message channel: an unbounded FIFO of whole messages
 * with one async consumer, plus byte accounting so an adapter can pause its
 * source above a high-water mark and resume below the low one.
 *
 *   push(m) ──► [ m1 m2 m3 … ] ──► next()      end() / fail(err) after the last push
 */
export interface MessageQueueInit {
  /** Called when the queued bytes rise above `highWaterMark`. */
  onHigh?: () => void
  /** Called when the queued bytes fall to `lowWaterMark` after `onHigh`. */
  onLow?: () => void
  highWaterMark?: number
  lowWaterMark?: number
}

export class MessageQueue implements AsyncIterator<Uint8Array> {
  private readonly items: Uint8Array[] = []
  private head = 0
  private bytes = 0
  private high = false
  private ended = false
  private error?: Error
  private waiter?: { resolve: (r: IteratorResult<Uint8Array>) => void, reject: (err: Error) => void }
  private readonly init: MessageQueueInit

  constructor (init: MessageQueueInit = {}) {
    this.init = init
  }

  /** Bytes queued and not yet read. */
  get queuedBytes (): number {
    return this.bytes
  }

  /** True once `end()` or `fail()` was called. */
  get closed (): boolean {
    return this.ended
  }

  push (message: Uint8Array): void {
    if (this.ended) return
    if (this.waiter != null) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve({ done: false, value: message })
      return
    }
    this.items.push(message)
    this.bytes += message.byteLength
    const highWaterMark = this.init.highWaterMark ?? Infinity
    if (!this.high && this.bytes > highWaterMark) {
      this.high = true
      this.init.onHigh?.()
    }
  }

  /** No more messages: the consumer sees the queued ones, then the end. */
  end (): void {
    if (this.ended) return
    this.ended = true
    this.settleWaiter()
  }

  /** Like `end()`, but the consumer gets `err` after the queued messages. */
  fail (err: Error): void {
    if (this.ended) return
    this.ended = true
    this.error = err
    this.settleWaiter()
  }

  /** Drops queued messages (after an abort). */
  clear (): void {
    this.items.length = 0
    this.head = 0
    this.bytes = 0
  }

  async next (): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head] as Uint8Array
      this.items[this.head] = EMPTY
      this.head++
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head)
        this.head = 0
      }
      this.bytes -= value.byteLength
      if (this.high && this.bytes <= (this.init.lowWaterMark ?? 0)) {
        this.high = false
        this.init.onLow?.()
      }
      return { done: false, value }
    }
    if (this.ended) {
      if (this.error != null) throw this.error
      return { done: true, value: undefined }
    }
    if (this.waiter != null) throw new Error('MessageQueue supports a single reader')
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject } })
  }

  async return (): Promise<IteratorResult<Uint8Array>> {
    this.end()
    this.clear()
    return { done: true, value: undefined }
  }

  private settleWaiter (): void {
    const w = this.waiter
    if (w == null) return
    this.waiter = undefined
    if (this.error != null) w.reject(this.error)
    else w.resolve({ done: true, value: undefined })
  }
}

const EMPTY = new Uint8Array(0)
