/** A peer's events as the command's events: paths, provider searches, sessions served. */
import { rateOf } from './format.js'
import type { CliEvent } from './cli-events.js'
import type { Reporter } from './output.js'
import type { ChiralPeer, PeerEvents } from '@chiral/peer'

type PathType = Extract<CliEvent, { event: 'path' }>['type']

/** Reports the peer's events until the returned function is called. */
export function reportPeerEvents (peer: ChiralPeer<string>, reporter: Reporter): () => void {
  const offs: Array<() => void> = []
  const on = <K extends keyof PeerEvents>(type: K, fn: (detail: PeerEvents[K]['detail']) => void): void => {
    const listener = (e: PeerEvents[K]): void => { fn(e.detail) }
    peer.addEventListener(type, listener)
    offs.push(() => { peer.removeEventListener(type, listener) })
  }

  on('fetch:finding', (d) => { reporter.report({ event: 'finding', cid: d.cid, search: d.search }) })
  for (const type of ['dialing', 'up', 'failed', 'down'] as const satisfies readonly PathType[]) {
    on(`path:${type}`, (d) => {
      const extra = d as { setupMs?: number, attempt?: number, error?: string }
      reporter.report({
        event: 'path',
        type,
        peerId: d.peerId,
        path: d.path,
        method: d.method,
        ...(extra.setupMs === undefined ? {} : { setupMs: extra.setupMs }),
        ...(extra.attempt === undefined ? {} : { attempt: extra.attempt }),
        ...(extra.error === undefined ? {} : { error: extra.error })
      })
    })
  }
  on('path:switch', (d) => {
    reporter.report({ event: 'switch', peerId: d.peerId, ...(d.from === undefined ? {} : { from: d.from }), to: d.to, method: d.method, atBytes: d.atBytes })
  })
  on('serve:content', (d) => {
    reporter.report({ event: 'serve', session: d.id, ...(d.peerId === undefined ? {} : { peerId: d.peerId }), method: d.method, ...(d.cid === undefined ? {} : { cid: d.cid }) })
  })
  on('serve:close', (d) => {
    const durationMs = Date.now() - d.startedAt
    const bytes = d.stats?.bytes ?? 0
    const cid = d.cid ?? d.stats?.cid
    reporter.report({
      event: 'served',
      session: d.id,
      ...(d.peerId === undefined ? {} : { peerId: d.peerId }),
      method: d.method,
      ...(cid === undefined ? {} : { cid }),
      bytes,
      chunks: d.stats?.chunks ?? 0,
      durationMs,
      rate: rateOf(bytes, durationMs)
    })
  })
  return () => { for (const off of offs.splice(0)) off() }
}
