import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createProvider } from '../src/index.js'
import { MAX_REQUEST_INDEXES } from '../src/protocol/constants.js'
import { decodeMessage, encodeOpen, encodeRequest } from '../src/protocol/messages.js'
import { memoryChannelPair } from './support/memory-channel.js'
import type { Provider, ProviderInit } from '../src/index.js'
import type { MemoryChannel } from './support/memory-channel.js'
import type { TransferMessage } from '../src/protocol/messages.js'
import type { Manifest } from '@chiral/core'

const KiB = 1024

describe('provider session limits (in-process channels)', () => {
  let provider: Provider<string> | undefined

  afterEach(async () => {
    await provider?.stop()
    provider = undefined
  })

  async function start (init: ProviderInit = {}, chunks = 16): Promise<Manifest> {
    provider = createProvider({}, init)
    await provider.start()
    return provider.share(new Blob([randomBytes(chunks * 16 * KiB)]), { name: 'data.bin', chunkSize: 16 * KiB })
  }

  /** A session whose provider side blocks on every send until the receiver reads. */
  function session (peerId?: string): { near: MemoryChannel, served: Promise<unknown> } {
    const [near, far] = memoryChannelPair({ maxMessageSize: 16 * KiB, bufferBytes: 1 })
    const served = provider!.serve(far, peerId === undefined ? {} : { peerId })
    return { near, served }
  }

  /** Every message until the channel ends (or fails). */
  async function drain (near: MemoryChannel): Promise<TransferMessage[]> {
    const out: TransferMessage[] = []
    try {
      for await (const raw of near) out.push(decodeMessage(raw))
    } catch {}
    return out
  }

  const chunkIndexes = (messages: TransferMessage[]): number[] =>
    messages.flatMap((m) => m.type === 'chunk' && m.offset === 0 ? [m.index] : [])

  it('serves a chunk that is requested again while queued or being sent only once', async () => {
    const manifest = await start()
    const { near } = session()
    await near.send(encodeOpen(manifest.cid, false))
    await near.send(encodeRequest([0, 0, 1, 0]))
    await near.send(encodeRequest([1, 0, 2]))
    await new Promise((resolve) => setTimeout(resolve, 50))
    await near.close()
    const messages = await drain(near)
    expect(messages[0]).toEqual({ type: 'ready' })
    expect(chunkIndexes(messages)).toEqual([0, 1, 2])
  })

  it(`answers a Request of more than ${MAX_REQUEST_INDEXES} indexes with a session-wide bad-request and closes the session`, async () => {
    const manifest = await start({}, 128)
    const { near, served } = session()
    await near.send(encodeOpen(manifest.cid, false))
    await near.send(encodeRequest(Array.from({ length: MAX_REQUEST_INDEXES + 1 }, (_, i) => i)))
    const messages = await drain(near)
    await served
    expect(messages.at(-1)).toMatchObject({ type: 'error', index: undefined, code: 'bad-request' })
    expect(chunkIndexes(messages)).toEqual([])
  })

  it('answers index 0xffffffff with a session-wide bad-request, never with an error for "index 0xffffffff"; other out-of-range indexes get their own error', async () => {
    const manifest = await start()
    const a = session()
    await a.near.send(encodeOpen(manifest.cid, false))
    await a.near.send(encodeRequest([1000]))
    await a.near.send(encodeRequest([0xffffffff]))
    const messages = await drain(a.near)
    const errors = messages.filter((m) => m.type === 'error')
    expect(errors).toMatchObject([{ index: 1000, code: 'bad-request' }, { index: undefined, code: 'bad-request' }])
  })

  it('closes a session with more chunks outstanding than maxOutstanding (bad-request)', async () => {
    const manifest = await start({ maxOutstanding: 4 })
    const { near, served } = session()
    await near.send(encodeOpen(manifest.cid, false))
    await near.send(encodeRequest([0, 1, 2]))
    await near.send(encodeRequest([3, 4, 5]))
    const messages = await drain(near)
    expect(await served).toMatchObject({ closedBy: 'bad-request' })
    expect(messages.at(-1)).toMatchObject({ type: 'error', index: undefined, code: 'bad-request' })
  })

  it('refuses more than maxSessionsPerPeer sessions of one peer with too-many-sessions, and takes a new one once a slot frees', async () => {
    await start({ maxSessionsPerPeer: 2, idleTimeout: 60_000 })
    const refused: string[] = []
    provider!.addEventListener('session:refused', (e) => { refused.push(e.detail.peerId ?? '') })
    const one = session('peer-a')
    session('peer-a')
    session('peer-b')
    const third = session('peer-a')
    const messages = await drain(third.near)
    expect(messages).toMatchObject([{ type: 'error', index: undefined, code: 'too-many-sessions' }])
    expect(refused).toEqual(['peer-a'])
    await one.near.close()
    await one.served
    const fourth = session('peer-a')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(refused).toEqual(['peer-a'])
    await fourth.near.close()
  })

  it('closes a session idle for idleTimeout, but not one with a send in progress', async () => {
    const manifest = await start({ idleTimeout: 300 })
    const idle = session()
    const busy = session()
    const started = Date.now()
    await idle.near.send(encodeOpen(manifest.cid, false))
    await busy.near.send(encodeOpen(manifest.cid, false))
    await busy.near.send(encodeRequest([0, 1, 2, 3]))
    expect(await idle.served).toMatchObject({ closedBy: 'idle' })
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(250)
    expect(elapsed).toBeLessThan(3000)
    // The busy one's provider is blocked in send (nobody reads): still open well past the timeout.
    await new Promise((resolve) => setTimeout(resolve, 600))
    let busyDone = false
    void busy.served.then(() => { busyDone = true })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(busyDone).toBe(false)
    // Once it has read everything and the provider has nothing left, the idle timer runs again.
    const read: TransferMessage[] = []
    const reading = (async () => { for await (const raw of busy.near) read.push(decodeMessage(raw)) })().catch(() => {})
    expect(await busy.served).toMatchObject({ closedBy: 'idle', chunks: 4 })
    await reading
    expect(chunkIndexes(read)).toEqual([0, 1, 2, 3])
  })
})
