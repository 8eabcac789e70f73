import { describe, expect, it } from 'vitest'
import { createSignalingServer } from '../src/index.js'
import { nextSignal, untilOpen, wsClient } from './client-helpers.js'
import type { WebSocketSignaling } from '../src/index.js'

describe('reconnect after a server restart on the same port', () => {
  it('clients back off, never give up, re-register on their own and routing resumes', async () => {
    let server = createSignalingServer({ port: 0, host: '127.0.0.1' })
    await server.start()
    const port = server.address()!.port
    const url = `ws://127.0.0.1:${port}`
    const clients: WebSocketSignaling[] = []
    try {
      for (let i = 0; i < 10; i++) {
        const c = wsClient(url, { id: `rc-${i}`, room: 'restart', reconnect: { initialDelay: 20, maxDelay: 200 } })
        clients.push(c)
        await c.start()
      }
      await Promise.all(clients.map(async (c) => untilOpen(c)))
      const connectingCounts = clients.map(() => 0)
      const backoffDelays: number[] = []
      clients.forEach((c, i) => c.addEventListener('state', (e) => {
        if (e.detail.status === 'connecting') connectingCounts[i]!++
        if (e.detail.status === 'backing-off') {
          backoffDelays.push(e.detail.delay ?? -1)
          expect(e.detail.retryAt! - Date.now()).toBeLessThanOrEqual(e.detail.delay!)
        }
      }))

      await server.stop()
      // Down for a while: every client keeps trying.
      await new Promise((resolve) => setTimeout(resolve, 1500))
      expect(clients.every((c) => c.status === 'connecting' || c.status === 'backing-off')).toBe(true)
      expect(Math.min(...connectingCounts)).toBeGreaterThanOrEqual(3)
      // Each backing-off state says how long until the next attempt (capped).
      expect(backoffDelays.length).toBeGreaterThan(0)
      expect(backoffDelays.every((d) => d >= 0 && d <= 200)).toBe(true)

      // A message sent while down is queued and goes out after re-registration.
      // The server may see it before its target re-registered: then the
      // sender is told `unknown-peer` (the protocol has no store-and-forward).
      let restartedAt = Infinity
      const queuedArrives = nextSignal(clients[1]!, (s) => s.message.type === 'offer', 15_000).then((s) => s.message)
      const refused = new Promise<string>((resolve) => {
        clients[0]!.addEventListener('server-error', (e) => { resolve(e.detail.code) }, { once: true })
      })
      const queued = clients[0]!.send('rc-1', { type: 'offer', sdp: 'sent while down', session: 'q' }).then((route) => ({ route, at: Date.now() }))

      server = createSignalingServer({ port, host: '127.0.0.1' })
      restartedAt = Date.now()
      await server.start()
      await Promise.all(clients.map(async (c) => untilOpen(c, 15_000)))
      expect(server.stats().registered).toBe(10)
      const flushed = await queued
      expect(flushed.route).toBe('websocket')
      expect(flushed.at).toBeGreaterThanOrEqual(restartedAt)
      const outcome = await Promise.race([queuedArrives, refused])
      expect([{ type: 'offer', sdp: 'sent while down', session: 'q' }, 'unknown-peer']).toContainEqual(outcome)

      for (let i = 0; i < 10; i++) {
        const to = clients[(i + 1) % 10]!
        const got = nextSignal(to, (s) => s.from === clients[i]!.id)
        await clients[i]!.send(to.id, { type: 'answer', sdp: `after restart ${i}` })
        expect((await got).message).toEqual({ type: 'answer', sdp: `after restart ${i}` })
      }
      // Each client learnt the room again from the new server.
      expect(clients.every((c) => c.peers.length === 9)).toBe(true)
    } finally {
      await Promise.all(clients.map(async (c) => c.stop()))
      await server.stop()
    }
  })
})
