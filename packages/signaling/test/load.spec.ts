import { describe, expect, it } from 'vitest'
import { nextSignal, untilOpen, wsClient } from './client-helpers.js'
import { startServer } from './raw-client.js'
import type { WebSocketSignaling } from '../src/index.js'

const CLIENTS = 1000

describe(`load: ${CLIENTS} clients on one server`, () => {
  it('all connect, register, and exchange offer/answer pairs; every message delivered', async () => {
    const { server, url } = await startServer({ maxClients: CLIENTS + 10 })
    const clients: WebSocketSignaling[] = []
    try {
      for (let i = 0; i < CLIENTS; i++) {
        // Rooms of 10 keep peer-joined deltas realistic (not a 1000-way broadcast).
        clients.push(wsClient(url, { id: `load-${i}`, room: `room-${Math.floor(i / 10)}`, connectTimeout: 30_000 }))
      }
      for (let i = 0; i < CLIENTS; i += 100) {
        await Promise.all(clients.slice(i, i + 100).map(async (c) => c.start()))
      }
      await Promise.all(clients.map(async (c) => untilOpen(c, 30_000)))
      expect(server.stats()).toMatchObject({ clients: CLIENTS, registered: CLIENTS, rooms: CLIENTS / 10 })

      const received = new Map<string, string[]>()
      for (const c of clients) {
        c.addEventListener('signal', (e) => {
          const list = received.get(c.id) ?? []
          list.push(`${e.detail.message.type}:${e.detail.from}:${e.detail.message.type === 'candidate' ? '' : e.detail.message.sdp}`)
          received.set(c.id, list)
        })
      }
      // Pair i with i + 500 (different rooms: routing is by id, not by room).
      const half = CLIENTS / 2
      await Promise.all(clients.slice(0, half).map(async (a, i) => {
        const b = clients[i + half]!
        const offer = nextSignal(b, (s) => s.from === a.id && s.message.type === 'offer', 30_000)
        await a.send(b.id, { type: 'offer', sdp: `offer-${i}`, session: `s${i}` })
        await offer
        const answer = nextSignal(a, (s) => s.from === b.id && s.message.type === 'answer', 30_000)
        await b.send(a.id, { type: 'answer', sdp: `answer-${i}`, session: `s${i}` })
        await answer
      }))
      for (let i = 0; i < half; i++) {
        expect(received.get(`load-${i + half}`)).toEqual([`offer:load-${i}:offer-${i}`])
        expect(received.get(`load-${i}`)).toEqual([`answer:load-${i + half}:answer-${i}`])
      }
      expect(server.stats().messagesRouted).toBe(CLIENTS)
      expect(Object.values(server.stats().errors).reduce((a, b) => a + b, 0)).toBe(0)
    } finally {
      await Promise.all(clients.map(async (c) => c.stop()))
      await server.stop()
    }
  })
})
