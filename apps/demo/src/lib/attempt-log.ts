/**
 * The Network page's list of path attempts, built from the peer's events.
 *
 *   outgoing (this page downloads):
 *     path:dialing ──► opening ──path:up──► open ──path:down, or the fetch ended──► closed
 *                         └──path:failed (or the fetch ended first)──► failed
 *
 *   incoming (a peer downloads from this page over a direct path):
 *     incoming:offer ──► opening ──incoming:open──► open ──serve:close──► closed
 *                          └──incoming:failed──► failed
 *
 * A fetch closes its channels when it ends without a `path:down` (that is
 * no loss), so the fetch's caller says when it ended (`fetchEnded`).
 */
import { listen } from './peer-listeners.js'
import type { PathAttempt } from './path-attempts.js'
import type { ChiralPeer } from '@chiral/peer'

/** Attempts kept; older ones drop off the list. */
const MAX_ATTEMPTS = 50
/** Incoming offers waiting for their channel, at most this many. */
const MAX_PENDING = 64

export class AttemptLog {
  private list: PathAttempt[] = []
  private nextId = 1
  /** The outgoing attempt in progress per peer and path (opening or open). */
  private readonly outgoing = new Map<string, number>()
  /** Incoming attempts waiting for their channel, by peer and session. */
  private readonly offers = new Map<string, number>()
  /** The latest direct serve session per peer, until its channel's `incoming:open` claims it. */
  private readonly lastServe = new Map<string, number>()
  /** Incoming attempts by the provider session that serves them. */
  private readonly serving = new Map<number, number>()
  private readonly onChange: (list: PathAttempt[]) => void

  constructor (onChange: (list: PathAttempt[]) => void) {
    this.onChange = onChange
  }

  /** Follows `peer`'s events; returns the function that stops following. */
  follow (peer: ChiralPeer<never>): () => void {
    return listen(peer, {
      'path:dialing': (e) => {
        const { peerId, path, method } = e.detail
        const key = `${peerId}\n${path}`
        this.outgoing.set(key, this.add({ peerId, direction: 'outgoing', path, method, state: 'opening', startedAt: Date.now() }))
      },
      'path:up': (e) => {
        const { peerId, path, method, setupMs } = e.detail
        this.update(this.outgoing.get(`${peerId}\n${path}`), { state: 'open', method, setupMs })
      },
      'path:failed': (e) => { this.endOutgoing(e.detail, { state: 'failed', setupMs: e.detail.setupMs, error: e.detail.error }) },
      'path:down': (e) => { this.endOutgoing(e.detail, { state: 'closed', ...(e.detail.error === undefined ? {} : { error: e.detail.error }) }) },
      'incoming:offer': (e) => {
        const { from, session } = e.detail
        if (this.offers.size >= MAX_PENDING) this.offers.delete(this.offers.keys().next().value ?? '')
        this.offers.set(`${from}\n${session}`, this.add({ peerId: from, direction: 'incoming', path: 'webrtc', method: 'webrtc-direct', state: 'opening', startedAt: Date.now() }))
      },
      'incoming:open': (e) => {
        const { from, session, setupMs } = e.detail
        const key = `${from}\n${session}`
        const offered = this.offers.get(key)
        this.offers.delete(key)
        const attempt = this.find(offered)
        // A further channel on a connection already up has no offer of its own.
        const id = attempt?.state === 'opening'
          ? this.update(offered, { state: 'open', setupMs: setupMs ?? Date.now() - attempt.startedAt })
          : this.add({ peerId: from, direction: 'incoming', path: 'webrtc', method: 'webrtc-direct', state: 'open', startedAt: Date.now(), setupMs: setupMs ?? 0 })
        const serve = this.lastServe.get(from)
        this.lastServe.delete(from)
        if (serve !== undefined && id !== undefined) this.serving.set(serve, id)
      },
      'incoming:failed': (e) => {
        const key = `${e.detail.from}\n${e.detail.session}`
        this.update(this.offers.get(key), { state: 'failed', setupMs: e.detail.setupMs, error: e.detail.error.message })
        this.offers.delete(key)
      },
      // The listener hands a channel to the provider (serve:open) just before it reports it (incoming:open).
      'serve:open': (e) => {
        if (e.detail.method === 'webrtc-direct' && e.detail.peerId !== undefined) this.lastServe.set(e.detail.peerId, e.detail.id)
      },
      'serve:close': (e) => {
        const id = this.serving.get(e.detail.id)
        this.serving.delete(e.detail.id)
        if (this.find(id)?.state === 'open') this.update(id, { state: 'closed' })
      }
    })
  }

  /** The id the next attempt gets: a fetch starting now owns the attempts from here on. */
  mark (): number {
    return this.nextId
  }

  /**
   * A fetch ended: its paths' channels are closed. Closes the outgoing
   * attempts it left open (ids from `from`, before `until` when a newer
   * fetch has started since).
   */
  fetchEnded (from: number, until = Infinity): void {
    for (const [key, id] of this.outgoing) {
      if (id < from || id >= until) continue
      this.outgoing.delete(key)
      const attempt = this.find(id)
      if (attempt?.state === 'open') this.update(id, { state: 'closed' })
      if (attempt?.state === 'opening') this.update(id, { state: 'failed', setupMs: Date.now() - attempt.startedAt, error: 'not needed: the download had ended' })
    }
  }

  private endOutgoing (detail: { peerId: string, path: string }, patch: Partial<PathAttempt>): void {
    const key = `${detail.peerId}\n${detail.path}`
    this.update(this.outgoing.get(key), patch)
    this.outgoing.delete(key)
  }

  private add (attempt: Omit<PathAttempt, 'id'>): number {
    const id = this.nextId++
    this.list = [...this.list, { ...attempt, id }].slice(-MAX_ATTEMPTS)
    this.onChange(this.list)
    return id
  }

  private find (id: number | undefined): PathAttempt | undefined {
    return id === undefined ? undefined : this.list.find((a) => a.id === id)
  }

  private update (id: number | undefined, patch: Partial<PathAttempt>): number | undefined {
    if (this.find(id) === undefined) return undefined
    this.list = this.list.map((a) => a.id === id ? { ...a, ...patch } : a)
    this.onChange(this.list)
    return id
  }
}
