import { AbortError, InvalidArgumentError, NotStartedError, throwIfAborted } from '@chiral/core'
import { TypedEventEmitter } from 'main-event'
import { SignalingRoutesExhaustedError } from '../errors.js'
import type { AbortOptions, Signaling, SignalEvent, SignalingEvents, SignalingRoute, SignalMessage } from '@chiral/core'

/** The backends a hybrid client chooses from, by route. */
export type HybridSignalingComponents = Partial<Record<SignalingRoute, Signaling>>

export interface HybridSignalingInit {
  /** Routes in order of preference (default: libp2p, then websocket). */
  order?: SignalingRoute[]
  /** How long one route may try before the next is tried, ms (default 5 s). */
  attemptTimeout?: number
}

/** Which route carried a message, and which routes failed before it. */
export interface RouteReport {
  to: string
  session: string | undefined
  route: SignalingRoute
  failed: Array<{ route: SignalingRoute, error: Error }>
}

export interface HybridSignalingEvents extends SignalingEvents {
  /** A message went out: by which route, after which failures. */
  route: CustomEvent<RouteReport>
}

/**
 * `Signaling` over several backends sharing one id (a PeerId registered on
 * the WebSocket server with a signed challenge, so it is the same on both
 * routes). Sends try the routes in order, each for at most `attemptTimeout`;
 * once a route carried a message of a session, later messages of that
 * session try it first. Incoming signals from every backend are re-emitted
 * with the route that carried them.
 */
export class HybridSignaling extends TypedEventEmitter<HybridSignalingEvents> implements Signaling {
  readonly id: string
  private readonly backends: Array<[SignalingRoute, Signaling]>
  private readonly attemptTimeout: number
  private readonly sessionRoutes = new Map<string, SignalingRoute>()
  private started = false

  constructor (components: HybridSignalingComponents, init: HybridSignalingInit = {}) {
    super()
    const order = init.order ?? ['libp2p', 'websocket']
    this.backends = order.flatMap((route) => {
      const b = components[route]
      return b === undefined ? [] : [[route, b] as [SignalingRoute, Signaling]]
    })
    if (this.backends.length === 0) throw new InvalidArgumentError('A hybrid signaling client needs at least one backend')
    const ids = new Set(this.backends.map(([, b]) => b.id))
    if (ids.size !== 1) throw new InvalidArgumentError(`All backends must share one id, got ${[...ids].join(', ')}`)
    this.id = this.backends[0]![1].id
    this.attemptTimeout = init.attemptTimeout ?? 5000
  }

  /** The route that last carried a message of `session` to `to`, if any. */
  routeOf (to: string, session: string | undefined): SignalingRoute | undefined {
    return this.sessionRoutes.get(key(to, session))
  }

  async start (): Promise<void> {
    if (this.started) return
    for (const [, b] of this.backends) {
      b.addEventListener('signal', this.onSignal)
      await b.start()
    }
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    for (const [, b] of this.backends) {
      b.removeEventListener('signal', this.onSignal)
      await b.stop()
    }
    this.sessionRoutes.clear()
  }

  async send (to: string, message: SignalMessage, options: AbortOptions = {}): Promise<SignalingRoute> {
    throwIfAborted(options.signal)
    if (!this.started) throw new NotStartedError('Hybrid signaling is not started')
    const k = key(to, message.session)
    const preferred = this.sessionRoutes.get(k)
    const ordered = preferred === undefined
      ? this.backends
      : [...this.backends.filter(([r]) => r === preferred), ...this.backends.filter(([r]) => r !== preferred)]
    const failed: RouteReport['failed'] = []
    for (const [route, backend] of ordered) {
      const timeout = AbortSignal.timeout(this.attemptTimeout)
      const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
      try {
        const used = await backend.send(to, message, { signal })
        this.sessionRoutes.set(k, used)
        this.safeDispatchEvent('route', { detail: { to, session: message.session, route: used, failed } })
        return used
      } catch (err) {
        if (options.signal?.aborted === true) throw new AbortError('Signaling send aborted', { cause: options.signal.reason })
        failed.push({ route, error: err as Error })
      }
    }
    throw new SignalingRoutesExhaustedError(`No route delivered the ${message.type} to ${to}: ${failed.map((f) => `${f.route}: ${f.error.message}`).join('; ')}`, failed.map((f) => f.error))
  }

  private readonly onSignal = (e: CustomEvent<SignalEvent>): void => {
    this.sessionRoutes.set(key(e.detail.from, e.detail.message.session), e.detail.route)
    this.safeDispatchEvent('signal', { detail: e.detail })
  }
}

function key (peer: string, session: string | undefined): string {
  return `${peer}\u0000${session ?? ''}`
}

/** Creates a hybrid client over the given backends (call `start()`; it starts them). */
export function createHybridSignaling (components: HybridSignalingComponents, init: HybridSignalingInit = {}): HybridSignaling {
  return new HybridSignaling(components, init)
}
