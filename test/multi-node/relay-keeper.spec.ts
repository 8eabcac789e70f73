/**
 * The relay keeper (core's presets/relay-keeper.ts), which keeps a node's
 * relays and bootstrap peers connected, on a fake clock: how soon it dials a
 * peer again after a long outage, a drop, and its own address in the list.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RelayKeeper } from '../../packages/core/src/presets/relay-keeper.js'
import type { RelayKeeperComponents } from '../../packages/core/src/presets/relay-keeper.js'

const peerIdString = async (): Promise<string> => (await generateKeyPair('Ed25519')).publicKey.toString()

describe('the relay keeper', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 0 }) })
  afterEach(() => { vi.useRealTimers() })

  it('dials a peer that is away again and again, never more than 10 s apart, at once after a drop, and never itself', async () => {
    const [self, other] = [await peerIdString(), await peerIdString()]
    const connected = new Set<string>()
    let up = false
    const dials: number[] = []
    const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false })
    const components = {
      peerId: { toString: () => self },
      peerStore: { merge: async () => ({}) },
      logger: { forComponent: () => log },
      connectionManager: {
        getConnections: (peer?: { toString: () => string }) => peer !== undefined && connected.has(peer.toString()) ? [{ status: 'open' }] : [],
        openConnection: async (addr: { toString: () => string }) => {
          if (addr.toString().endsWith(self)) throw new Error('dialed itself')
          dials.push(Date.now())
          if (!up) throw new Error('connect ECONNREFUSED')
          connected.add(other)
          return {}
        }
      }
    } as unknown as RelayKeeperComponents
    const keeper = new RelayKeeper(components, { addrs: [`/ip4/10.0.0.1/tcp/4001/p2p/${self}`, `/ip4/10.0.0.2/tcp/4001/p2p/${other}`] })
    keeper.start()
    await keeper.afterStart()
    expect(keeper.status()).toEqual([{ multiaddr: `/ip4/10.0.0.2/tcp/4001/p2p/${other}`, peerId: other, connected: false }])

    // Away for a minute: dials at 0, 1, 3, 7, 15 s, then every 10 s.
    await vi.advanceTimersByTimeAsync(60_000)
    expect(dials.slice(0, 6)).toEqual([0, 1000, 3000, 7000, 15_000, 25_000])
    const gaps = dials.slice(1).map((t, i) => t - dials[i]!)
    expect(Math.max(...gaps)).toBe(10_000)

    // Back: reached within 10 s (libp2p's own reconnect queue would wait minutes by now).
    up = true
    const backAt = Date.now()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(keeper.status()[0]!.connected).toBe(true)
    expect(dials.at(-1)! - backAt).toBeLessThanOrEqual(10_000)

    // Dropped: dialed again within a tick.
    const count = dials.length
    connected.clear()
    const droppedAt = Date.now()
    await vi.advanceTimersByTimeAsync(1000)
    expect(dials.length).toBe(count + 1)
    expect(dials.at(-1)! - droppedAt).toBeLessThanOrEqual(1000)
    keeper.stop()
  })
})
