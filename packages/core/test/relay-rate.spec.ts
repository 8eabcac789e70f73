import { createHash, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { relayAddresses } from '../src/index.js'
import { startLoopbackRelay, startRelayedPeer } from './support/loopback-relay.js'
import type { ChiralNode, RelayLimits } from '../src/index.js'
import type { Stream } from '@libp2p/interface'

const UPLOAD = '/chiral-test/upload/1.0.0'
const DOWNLOAD = '/chiral-test/download/1.0.0'
const MiB = 2 ** 20
const SIZE = 6 * MiB
const CHUNK = 64 * 1024

interface Received {
  bytes: number
  sha256: string
  /** MiB/s from the first byte to the last, at the receiver. */
  rate: number
}

async function sendAll (stream: Stream, payload: Uint8Array): Promise<void> {
  for (let offset = 0; offset < payload.length; offset += CHUNK) {
    if (!stream.send(payload.subarray(offset, offset + CHUNK))) await stream.onDrain({ signal: AbortSignal.timeout(20_000) })
  }
  await stream.close()
}

async function receiveAll (stream: Stream): Promise<Received> {
  const hash = createHash('sha256')
  let bytes = 0
  let first: number | undefined
  for await (const chunk of stream) {
    first ??= performance.now()
    bytes += chunk.byteLength
    hash.update(chunk.subarray())
  }
  const seconds = (performance.now() - (first ?? performance.now())) / 1000
  return { bytes, sha256: hash.digest('hex'), rate: bytes / MiB / seconds }
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

describe('relay rate limit (RelayLimits.rateLimit)', () => {
  const nodes: ChiralNode[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map(async (n) => n.stop()))
  })

  /**
   * `listener` is reachable only through the relay. `dialer` sends it SIZE
   * bytes on one stream, then receives SIZE bytes from it on another, both
   * through the relay: the relay reads the upload from the dialer's HOP
   * stream and the download from its STOP stream to the listener. (libp2p
   * does not reuse a limited connection for a new dial, so each stream gets
   * a circuit of its own.)
   */
  async function transferEachWay (limits: RelayLimits): Promise<{ up: Received, down: Received, relayed: boolean }> {
    const { server, relay } = await startLoopbackRelay(limits)
    nodes.push(server)
    const listener = await startRelayedPeer(relay)
    const dialer = await startRelayedPeer(relay)
    nodes.push(listener, dialer)
    const upPayload = randomBytes(SIZE)
    const downPayload = randomBytes(SIZE)

    let upload: Promise<Received> | undefined
    await listener.handle(UPLOAD, (stream) => { upload = receiveAll(stream) }, { runOnLimitedConnection: true })
    await listener.handle(DOWNLOAD, async (stream) => { await sendAll(stream, downPayload) }, { runOnLimitedConnection: true })

    const target = relayAddresses(listener)[0]!
    const options = { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) }
    await sendAll(await dialer.dialProtocol(target, UPLOAD, options), upPayload)
    const up = await upload!
    const down = await receiveAll(await dialer.dialProtocol(target, DOWNLOAD, options))
    const connections = dialer.getConnections(listener.peerId)
    const relayed = connections.length > 0 && connections.every((c) => c.remoteAddr.toString().includes('/p2p-circuit'))
    expect(up.sha256).toBe(sha256(upPayload))
    expect(down.sha256).toBe(sha256(downPayload))
    return { up, down, relayed }
  }

  it('caps each direction of a relayed connection at the rate, bytes intact, and is much slower than no cap', async () => {
    const capped = await transferEachWay({ rateLimit: 2 * MiB })
    await Promise.all(nodes.splice(0).map(async (n) => n.stop()))
    const free = await transferEachWay({})
    console.info(`relay rate limit 2 MiB/s: up ${capped.up.rate.toFixed(2)} MiB/s, down ${capped.down.rate.toFixed(2)} MiB/s; no limit: up ${free.up.rate.toFixed(1)} MiB/s, down ${free.down.rate.toFixed(1)} MiB/s`)

    expect(capped.relayed && free.relayed).toBe(true)
    expect(capped.up.bytes).toBe(SIZE)
    expect(capped.down.bytes).toBe(SIZE)
    for (const rate of [capped.up.rate, capped.down.rate]) {
      expect(rate).toBeGreaterThan(1.5)
      expect(rate).toBeLessThan(2.6)
    }
    expect(free.up.rate).toBeGreaterThan(3 * capped.up.rate)
    expect(free.down.rate).toBeGreaterThan(3 * capped.down.rate)
  })
})
