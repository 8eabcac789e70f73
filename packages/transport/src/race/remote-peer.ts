import type { PathReport } from './peer-paths.js'
import type { PeerTarget, TransferMethod } from '@chiral/core'

/** What one path to a remote peer did last, kept across fetches. */
export interface PathMemory {
  path: string
  method: TransferMethod
  /** `up`: its last dial gave a channel; `failed`: it did not. */
  lastOutcome: 'up' | 'failed'
  at: number
  /** Dials in a row that failed (0 after one that worked). */
  failures: number
  lastError?: string
  setupMs?: number
  /** Goodput and RTT it last measured, while it carried chunks. */
  goodput?: number
  rttMs?: number
  /** A failed path is not dialled again before this time (unless the peer's addresses change). */
  retryAt?: number
}

export interface RemotePeerInit {
  /** After a path's first failed dial, how long fetches leave it alone, ms (default 30 s); doubles per failure. */
  failureBackoff?: number
  /** The longest a failing path is left alone, ms (default 10 minutes). */
  maxFailureBackoff?: number
}

/** Why a path is not dialled this time. */
export class PathBackoff extends Error {
  constructor (memory: PathMemory, now: number) {
    super(`not dialled: ${memory.failures} dial${memory.failures === 1 ? '' : 's'} in a row failed, the last ${Math.round((now - memory.at) / 1000)} s ago (${memory.lastError ?? 'unknown error'}); next try in ${Math.ceil(((memory.retryAt ?? now) - now) / 1000)} s`)
    this.name = 'PathBackoff'
  }
}

/**
 * One remote peer as seen across fetches: its last addresses and what each
 * path to it did (outcome, setup time, goodput, RTT, failures in a row). A
 * path that keeps failing (WebRTC between two symmetric NATs) is left alone
 * with a doubling backoff instead of being dialled by every fetch; new
 * addresses for the peer clear the backoff, as something changed. The open
 * connections themselves live in the dialers (a relayed libp2p connection,
 * one RTCPeerConnection per peer), which reuse them for the next fetch.
 */
export class RemotePeer {
  readonly peerId: string
  private addressKey = ''
  private readonly memory = new Map<string, PathMemory>()
  private readonly init: RemotePeerInit
  lastSeenAt = 0

  constructor (peerId: string, init: RemotePeerInit = {}) {
    this.peerId = peerId
    this.init = init
  }

  /** Takes the peer's current addresses; a change clears every path's backoff. */
  noteTarget (target: PeerTarget): void {
    const key = target.multiaddrs.map((a) => a.toString()).sort().join(' ')
    if (key !== this.addressKey && this.addressKey !== '') {
      for (const m of this.memory.values()) delete m.retryAt
    }
    this.addressKey = key
  }

  /** Undefined when `path` is worth dialling now; else why not. */
  backoff (path: string, now = Date.now()): PathBackoff | undefined {
    const m = this.memory.get(path)
    if (m?.lastOutcome !== 'failed' || m.retryAt === undefined || now >= m.retryAt) return undefined
    return new PathBackoff(m, now)
  }

  /** What each path did, by path name. */
  get paths (): PathMemory[] {
    return [...this.memory.values()]
  }

  /** Records a dial that gave a channel. */
  dialed (path: string, method: TransferMethod, setupMs: number, now = Date.now()): void {
    const m = this.entry(path, method)
    Object.assign(m, { lastOutcome: 'up', at: now, failures: 0, setupMs })
    delete m.retryAt
    delete m.lastError
    this.lastSeenAt = now
  }

  /** Records a dial that failed (not one cut short because the fetch ended). */
  dialFailed (path: string, method: TransferMethod, error: Error, now = Date.now()): void {
    const m = this.entry(path, method)
    m.lastOutcome = 'failed'
    m.at = now
    m.failures++
    m.lastError = error.message
    const first = this.init.failureBackoff ?? 30_000
    m.retryAt = now + Math.min(this.init.maxFailureBackoff ?? 600_000, first * 2 ** (m.failures - 1))
  }

  /** Keeps what the paths measured in a fetch. */
  measured (reports: PathReport[]): void {
    for (const r of reports) {
      const m = this.memory.get(r.path)
      if (m === undefined) continue
      if (r.goodput !== undefined) m.goodput = r.goodput
      if (r.rttMs !== undefined) m.rttMs = r.rttMs
    }
  }

  private entry (path: string, method: TransferMethod): PathMemory {
    let m = this.memory.get(path)
    if (m === undefined) {
      m = { path, method, lastOutcome: 'up', at: 0, failures: 0 }
      this.memory.set(path, m)
    }
    return m
  }
}
