/**
 * Paces what a libp2p stream delivers to its readers to a byte rate, with
 * backpressure. A token bucket decides: a delivery it does not cover goes
 * back to the front of the stream's read buffer (`unshift`) and the stream
 * is paused, so the muxer stops granting the sender window (yamux sends no
 * window update while a stream is paused) and the sender's own flow control
 * holds the rest. Nothing is buffered here; what the sender had been granted
 * waits in the stream's read buffer, at most one receive window.
 *
 * ```
 *            a delivery the bucket does not cover: put back, pause
 *  flowing ──────────────────────────────────────────────────────▶ paused (a timer)
 *     ▲                                                              │
 *     └──────────────────────────────────────────────────────────────┘
 *       the bucket covers the read buffer: stream.resume() delivers it
 *       whole, then the end-of-stream events held meanwhile
 *
 *  any ── close with an error (abort, reset) ──▶ done
 * ```
 *
 * Why it hooks the stream's `dispatchEvent` instead of listening to
 * 'message' like a reader (as of @libp2p/utils 7.4, circuit-relay-v2 4.2):
 *
 * - A stream hands its read buffer to whoever listens to 'message' and keeps
 *   it while nobody does. Readers come and go: the relay's handshake reader
 *   detaches (`pbStream(...).unwrap()`) before its pipe attaches, and on the
 *   STOP stream there is an `await` in between. A listener of ours would be
 *   the only one then, and bytes would be delivered to it alone, lost to the
 *   relay. Intercepting each delivery on its way to the real listeners
 *   changes nothing about who receives what, and lets a delivery be refused.
 * - 'remoteCloseWrite' (the sender's FIN) is dispatched at once, even while
 *   a paused stream still holds data, and the relay's pipe (like a stream's
 *   async iterator) stops reading there: the tail of the transfer would be
 *   dropped. The same goes for a graceful 'close'. Both are held until the
 *   buffered bytes have been delivered (stream-throttle.spec.ts fails
 *   without this).
 *
 * The throttle assumes it is the only one pausing the stream (the relay
 * never does).
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'

export interface StreamThrottleInit {
  /** Bytes per second delivered to the stream's readers. */
  bytesPerSecond: number
  /** Bytes delivered at once after the stream was idle (default a tenth of a second's worth, at least 16 KiB). */
  burst?: number
  /** Milliseconds clock (default `performance.now`). */
  now?: () => number
}

/** Bytes allowed so far: refills at `rate`, holds up to `burst` (more while it saves up for a larger delivery). */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor (readonly rate: number, readonly burst: number, private readonly now: () => number) {
    this.tokens = burst
    this.last = now()
  }

  /** Tokens now, refilled at `rate` up to `ceiling` (default `burst`). */
  level (ceiling = this.burst): number {
    const now = this.now()
    this.tokens = Math.min(Math.max(ceiling, this.tokens), this.tokens + (now - this.last) / 1000 * this.rate)
    this.last = now
    return this.tokens
  }

  take (bytes: number): void {
    this.level()
    this.tokens -= bytes
  }

  /** Milliseconds until the bucket holds `bytes`. */
  msUntil (bytes: number): number {
    const want = Math.max(0, bytes)
    const deficit = want - this.level(Math.max(this.burst, want))
    return deficit <= 0 ? 0 : deficit / this.rate * 1000
  }
}

type ThrottleState =
  | { kind: 'flowing' }
  | { kind: 'paused', timer: ReturnType<typeof setTimeout> }
  | { kind: 'done' }

/** Throttles what `stream` delivers to its readers, from now until it closes. */
export function throttleReads (stream: Stream, init: StreamThrottleInit): void {
  const rate = init.bytesPerSecond
  if (!(rate > 0)) throw new RangeError(`bytesPerSecond must be positive, got ${String(rate)}`)
  if (rate === Infinity) return
  const bucket = new TokenBucket(rate, init.burst ?? Math.max(16 * 1024, rate / 10), init.now ?? (() => performance.now()))
  const dispatch = stream.dispatchEvent.bind(stream)
  const held: Event[] = []
  let state: ThrottleState = { kind: 'flowing' }
  let resuming = false

  const flushHeld = (): void => {
    for (const evt of held.splice(0)) dispatch(evt)
  }
  const wait = (): void => {
    const ms = bucket.msUntil(stream.readBufferLength)
    state = { kind: 'paused', timer: setTimeout(wake, Math.max(1, Math.ceil(ms))) }
  }
  const wake = (): void => {
    if (bucket.msUntil(stream.readBufferLength) > 0) {
      wait()
      return
    }
    state = { kind: 'flowing' }
    if (stream.readStatus === 'paused') {
      // resume() delivers the whole read buffer, which the bucket now covers,
      // and only then lets the muxer grant the sender window again.
      resuming = true
      try {
        stream.resume()
      } catch (err) {
        // Its connection went away meanwhile (the window update could not be sent).
        stream.abort(err as Error)
      } finally {
        resuming = false
      }
    }
    flushHeld()
  }

  stream.dispatchEvent = (evt: Event): boolean => {
    if (state.kind === 'done') return dispatch(evt)
    if (evt.type === 'message') {
      const data = (evt as StreamMessageEvent).data
      if (!resuming && state.kind === 'flowing' && stream.readStatus === 'readable' && bucket.level() < data.byteLength) {
        // Not this one yet: back to the front of the read buffer, which the
        // pause keeps (and keeps the sender from adding more than its window).
        stream.pause()
        stream.unshift(data)
        wait()
        return true
      }
      bucket.take(data.byteLength)
      return dispatch(evt)
    }
    if (evt.type === 'close' && (evt as StreamCloseEvent).error != null) {
      if (state.kind === 'paused') clearTimeout(state.timer)
      state = { kind: 'done' }
      held.length = 0
      return dispatch(evt)
    }
    if ((evt.type === 'remoteCloseWrite' || evt.type === 'close') && state.kind === 'paused' && stream.readBufferLength > 0) {
      held.push(evt)
      return true
    }
    return dispatch(evt)
  }
}
