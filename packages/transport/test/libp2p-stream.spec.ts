import { randomBytes } from 'node:crypto'
import { createNode } from '@chiral/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { libp2pStreamChannel, STREAM_MAX_MESSAGE_SIZE } from '../src/index.js'
import { sha256Bytes } from './support/files.js'
import type { ChiralNode, MessageChannel } from '@chiral/core'

const MiB = 1024 * 1024
const PROTOCOL = '/chiral-test/channel/1.0.0'

describe('libp2p stream → MessageChannel (two peers over loopback TCP)', () => {
  let a: ChiralNode
  let b: ChiralNode
  const inbound: MessageChannel[] = []
  const waiting: Array<(c: MessageChannel) => void> = []

  beforeAll(async () => {
    a = await createNode({ role: 'peer', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true })
    b = await createNode({ role: 'peer', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true })
    await a.start()
    await b.start()
    await b.handle(PROTOCOL, (stream) => {
      const channel = libp2pStreamChannel(stream, { method: 'test', highWaterMark: MiB })
      const w = waiting.shift()
      if (w != null) w(channel)
      else inbound.push(channel)
    })
  })

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
  })

  async function open (): Promise<[MessageChannel, MessageChannel]> {
    const stream = await a.dialProtocol(b.getMultiaddrs()[0]!, PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    const near = libp2pStreamChannel(stream, { method: 'test' })
    // The remote handler runs once the first bytes arrive.
    await near.send(new Uint8Array([42]))
    const far = inbound.shift() ?? await new Promise<MessageChannel>((resolve) => { waiting.push(resolve) })
    const it = far[Symbol.asyncIterator]()
    expect([...(await it.next()).value as Uint8Array]).toEqual([42])
    return [near, { method: far.method, maxMessageSize: far.maxMessageSize, send: far.send.bind(far), close: far.close.bind(far), abort: far.abort.bind(far), [Symbol.asyncIterator]: () => it }]
  }

  it('keeps message boundaries and order for empty, tiny, odd-sized and maximum-size messages', async () => {
    const [near, far] = await open()
    const sizes = [0, 1, 3, 65_537, 1_000_000, STREAM_MAX_MESSAGE_SIZE]
    const sent = sizes.map((n) => randomBytes(n))
    for (const m of sent) await near.send(m)
    await near.close()
    const got: Uint8Array[] = []
    for await (const m of far) got.push(m)
    expect(got.map((m) => m.byteLength)).toEqual(sizes)
    expect(got.map(sha256Bytes)).toEqual(sent.map(sha256Bytes))
    await expect(near.send(new Uint8Array(STREAM_MAX_MESSAGE_SIZE + 1))).rejects.toMatchObject({ code: 'invalid-argument' })
    await far.close()
  })

  it('applies backpressure: a sender stalls while the receiver does not read, and nothing is lost', async () => {
    const [near, far] = await open()
    const total = 48
    let sent = 0
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        const m = new Uint8Array(MiB)
        m[0] = i
        await near.send(m)
        sent++
      }
      await near.close()
    })()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const sentWhileStalled = sent
    // Receiver buffers ≤ 1 MiB (its high-water mark) + yamux's window (≤ 16 MiB) + the sender's write buffer.
    expect(sentWhileStalled).toBeLessThan(30)
    const order: number[] = []
    for await (const m of far) order.push(m[0]!)
    await sending
    expect(order).toEqual(Array.from({ length: total }, (_, i) => i))
    await far.close()
  })

  it('an aborted side makes the other side fail its reads and sends with ChannelClosedError', async () => {
    const [near, far] = await open()
    near.abort(new Error('going away'))
    const read = (async () => { for await (const _ of far) { /* drain */ } })()
    await expect(read).rejects.toMatchObject({ code: 'channel-closed' })
    await expect(near.send(new Uint8Array(1))).rejects.toMatchObject({ code: 'channel-closed' })
  })
})
