import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { blobSink, createProvider, Transfer } from '../src/index.js'
import { blobProvider } from './support/blob-provider.js'
import { sha256Bytes } from './support/files.js'
import { memoryChannelPair } from './support/memory-channel.js'
import type { Provider, TransferSink } from '../src/index.js'
import type { Manifest } from '@chiral/core'

const KiB = 1024
const MiB = 1024 * KiB

/** A blob sink that also counts how often each chunk was written. */
function countingSink (): TransferSink & { writes: Map<number, number> } {
  const inner = blobSink()
  const writes = new Map<number, number>()
  return {
    writes,
    open: async (m: Manifest) => inner.open(m),
    write: async (i, b) => { writes.set(i, (writes.get(i) ?? 0) + 1); await inner.write(i, b) },
    complete: async () => inner.complete(),
    abort: async (e) => inner.abort(e)
  }
}

describe('Transfer over in-process message channels', () => {
  let provider: Provider<string>
  let data: Uint8Array<ArrayBuffer>
  let manifest: Manifest

  beforeEach(async () => {
    ({ provider, data, manifest } = await blobProvider(3 * MiB + 12345, 64 * KiB))
  })

  afterEach(async () => {
    await provider.stop()
  })

  function connect (transfer: Transfer, init: { maxMessageSize?: number, label?: string, paused?: boolean, window?: number } = {}) {
    const [near, far] = memoryChannelPair({ maxMessageSize: init.maxMessageSize ?? 16 * KiB })
    void provider.serve(far)
    return { channel: transfer.attach(near, { label: init.label ?? 'memory', ...(init.paused == null ? {} : { paused: init.paused }), ...(init.window == null ? {} : { window: init.window }) }), near, far }
  }

  it('splits chunks into messages that fit the channel and verifies the file', async () => {
    const transfer = new Transfer(manifest.cid, blobSink())
    const { far } = connect(transfer, { maxMessageSize: 4 * KiB })
    transfer.seal()
    const result = await transfer.result
    expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
    expect(result.bytes).toBe(data.byteLength)
    expect(result.method).toBe('memory')
    // ≥ one message per 4 KiB of file: the chunks really were split.
    expect(far.sentBytes).toBeGreaterThan(data.byteLength)
  })

  it('a channel that dies returns its chunks; another channel finishes without losing or duplicating a chunk', async () => {
    const sink = countingSink()
    const transfer = new Transfer(manifest.cid, sink)
    const a = connect(transfer, { label: 'a' })
    const b = connect(transfer, { label: 'b' })
    transfer.seal()
    let killed = false
    transfer.addEventListener('chunk:verified', () => {
      if (!killed && a.channel.chunks >= 5) {
        killed = true
        a.far.abort(new Error('gone'))
      }
    })
    const result = await transfer.result
    expect(killed).toBe(true)
    expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
    expect([...sink.writes.keys()].sort((x, y) => x - y)).toEqual(manifest.chunks.map((_, i) => i))
    expect([...sink.writes.values()].every((n) => n === 1)).toBe(true)
    expect(result.paths.map((p) => p.label)).toEqual(['a', 'b'])
    expect(result.paths[0]!.error).toBeDefined()
    expect(result.paths[1]!.chunks).toBeGreaterThan(0)
    expect(result.paths[0]!.chunks + result.paths[1]!.chunks).toBe(manifest.chunks.length)
  })

  it('takes channels attached while it runs, and a paused channel gets no new requests', async () => {
    const transfer = new Transfer(manifest.cid, blobSink())
    const first = connect(transfer, { label: 'first', window: 4 })
    let second: ReturnType<typeof connect> | undefined
    let firstChunksAtSwitch = -1
    transfer.addEventListener('chunk:verified', () => {
      if (second == null && first.channel.chunks >= 10) {
        // Switch at a chunk boundary: new requests go to the new channel only.
        second = connect(transfer, { label: 'second' })
        transfer.setPaused(first.channel, true)
        firstChunksAtSwitch = first.channel.chunks
      }
    })
    const pending = transfer.result
    await new Promise((resolve) => setTimeout(resolve, 0))
    transfer.seal()
    const result = await pending
    expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
    const [p1, p2] = result.paths
    // After the pause the first channel only finishes what it had in flight.
    expect(p1!.chunks - firstChunksAtSwitch).toBeLessThanOrEqual(4)
    expect(p2!.chunks).toBeGreaterThan(0)
    expect(p1!.chunks + p2!.chunks).toBe(manifest.chunks.length)
    expect(result.bytesByMethod.memory).toBe(data.byteLength)
  })

  it('fails with ContentNotFoundError when the provider lacks the content, and PeerGoneError with no channel', async () => {
    const other = createProvider()
    const unknown = await other.share(new Blob([new Uint8Array([1, 2, 3])]))
    const t1 = new Transfer(unknown.cid, blobSink())
    connect(t1)
    t1.seal()
    await expect(t1.result).rejects.toMatchObject({ code: 'content-not-found' })

    const t2 = new Transfer(manifest.cid, blobSink())
    t2.seal()
    await expect(t2.result).rejects.toMatchObject({ code: 'peer-gone' })
  })

  it('cancel via AbortSignal rejects with AbortError', async () => {
    const controller = new AbortController()
    const transfer = new Transfer(manifest.cid, blobSink(), { signal: controller.signal })
    connect(transfer)
    transfer.seal()
    transfer.addEventListener('chunk:verified', () => { controller.abort() }, { once: true })
    await expect(transfer.result).rejects.toMatchObject({ name: 'AbortError', code: 'aborted' })
  })
})
