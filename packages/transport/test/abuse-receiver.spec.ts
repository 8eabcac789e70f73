import { mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { contentIdOf, encodeManifest, isChiralError } from '@chiral/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { blobSink, createProvider, createReceiver, fileSink, Transfer } from '../src/index.js'
import { allocatePiece } from '../src/protocol/messages.js'
import { MessageType, PIECE_HEADER_LENGTH } from '../src/protocol/constants.js'
import { blobProvider } from './support/blob-provider.js'
import { sha256Bytes } from './support/files.js'
import { memoryChannelPair } from './support/memory-channel.js'
import type { AttachedChannel, Provider, Receiver } from '../src/index.js'
import type { Manifest, MessageChannel } from '@chiral/core'
import type { MemoryChannel } from './support/memory-channel.js'

const KiB = 1024
const MiB = 1024 * KiB
const TiB = 1024 * 1024 * MiB

/**
 * A self-consistent manifest of a 1 TiB file: 16 MiB chunks (65 536 of
 * them, every hash the same), whose root block hashes to its content id.
 * Nothing of the file exists; only a provider's word for it.
 */
async function hugeManifest (size = TiB): Promise<Manifest> {
  const chunkSize = 16 * MiB
  const hash = new Uint8Array(32).fill(7)
  const chunks = Array.from({ length: Math.ceil(size / chunkSize) }, () => hash)
  const cid = await contentIdOf(dagCbor.encode({ v: 1, size, chunkSize, chunks }))
  return { cid, name: 'huge.bin', size, chunkSize, chunks }
}

/** A provider that answers `Open` with `manifest` (in pieces that fit the channel) and then only reads. */
function serveManifestOnly (channel: MemoryChannel, manifest: Manifest): void {
  const encoded = encodeManifest(manifest)
  const room = channel.maxMessageSize - PIECE_HEADER_LENGTH
  void (async () => {
    for await (const message of channel) {
      if (message[0] !== MessageType.Open) continue
      for (let offset = 0; offset < encoded.byteLength; offset += room) {
        const bytes = encoded.subarray(offset, offset + room)
        const piece = allocatePiece('manifest', encoded.byteLength, offset, bytes.byteLength)
        piece.set(bytes, PIECE_HEADER_LENGTH)
        await channel.send(piece)
      }
    }
  })().catch(() => {})
}

type Misbehaviour = 'stall' | 'trickle'

/**
 * The provider's end of a channel that behaves until it has sent `after`
 * messages of `type`, then either stops sending for good (the channel stays
 * open) or trickles what it sends 64 bytes every 100 ms (valid pieces, far
 * too slow to matter). `onTurn` is called once, when it turns.
 */
function misbehaving (inner: MemoryChannel, init: { type: number, after: number, mode: Misbehaviour, onTurn?: () => void }): MessageChannel {
  let sent = 0
  let turned = false
  // A stalled send ends only when the channel does (so the provider can stop).
  let release: (err: Error) => void = () => {}
  const ended = new Promise<never>((_resolve, reject) => { release = reject })
  ended.catch(() => {})
  const turn = (): void => {
    if (turned) return
    turned = true
    init.onTurn?.()
  }
  return {
    method: inner.method,
    maxMessageSize: inner.maxMessageSize,
    [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator](),
    close: async () => { release(new Error('closed')); await inner.close() },
    abort: (err) => { release(err); inner.abort(err) },
    async send (message, options) {
      if (message[0] !== init.type || ++sent <= init.after) {
        await inner.send(message, options)
        return
      }
      turn()
      if (init.mode === 'stall') {
        await ended
        return
      }
      const view = new DataView(message.buffer, message.byteOffset, message.byteLength)
      const first = view.getUint32(1)
      const offset = view.getUint32(5)
      const payload = message.subarray(PIECE_HEADER_LENGTH)
      for (let at = 0; at < payload.byteLength; at += 64) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        const bytes = payload.subarray(at, at + 64)
        const piece = new Uint8Array(PIECE_HEADER_LENGTH + bytes.byteLength)
        piece.set(message.subarray(0, 1))
        new DataView(piece.buffer).setUint32(1, first)
        new DataView(piece.buffer).setUint32(5, offset + at)
        piece.set(bytes, PIECE_HEADER_LENGTH)
        await inner.send(piece, options)
      }
    }
  }
}

/**
 * The provider's end of a channel whose chunk pieces go out every `delayMs`
 * until `fast` resolves: a slow but honest path, so that the fetch is still
 * running when the misbehaving provider should be dropped (a fast one would
 * finish first, fetching the stalled chunks again at the end).
 */
function slowUntil (inner: MemoryChannel, fast: Promise<void>, delayMs: number): MessageChannel {
  let isFast = false
  void fast.then(() => { isFast = true })
  return {
    method: inner.method,
    maxMessageSize: inner.maxMessageSize,
    [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator](),
    close: async () => { await inner.close() },
    abort: (err) => { inner.abort(err) },
    async send (message, options) {
      if (message[0] === MessageType.Chunk && !isFast) await Promise.race([new Promise((resolve) => setTimeout(resolve, delayMs)), fast])
      await inner.send(message, options)
    }
  }
}

/** Resolves with the channel's error once `label` detaches. */
async function detached (transfer: Transfer, label: string): Promise<{ channel: AttachedChannel, at: number }> {
  return new Promise((resolve) => {
    transfer.addEventListener('channel:detach', (e) => {
      if (e.detail.label === label) resolve({ channel: e.detail, at: Date.now() })
    })
  })
}

describe('a receiver facing an abusive provider', () => {
  let receiver: Receiver
  let dir: string

  beforeEach(async () => {
    receiver = createReceiver()
    await receiver.start()
    dir = await mkdtemp(join(tmpdir(), 'chiral-abuse-'))
  })

  afterEach(async () => {
    await receiver.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses a valid 1 TiB manifest over maxFileSize before any file is created', async () => {
    const manifest = await hugeManifest()
    const destination = join(dir, 'downloads')
    const transfer = receiver.createTransfer(manifest.cid, { destination })
    const [near, far] = memoryChannelPair({ maxMessageSize: 256 * KiB })
    serveManifestOnly(far, manifest)
    transfer.attach(near)
    transfer.seal()
    const err = await transfer.result.then(() => undefined, (e: Error) => e)
    expect(err).toBeDefined()
    expect(isChiralError(err, 'file-too-large')).toBe(true)
    expect(err!.message).toMatch(/1 TiB.*64 GiB/)
    // Not even the destination directory: nothing was opened.
    expect(await readdir(dir)).toEqual([])
  })

  it('refuses a file the destination has no room for, before any file is created', async () => {
    const fs = await statfs(dir)
    const free = Number(fs.bavail) * Number(fs.bsize)
    if (free >= TiB) return // this disk could take it: nothing to refuse
    const manifest = await hugeManifest()
    const big = createReceiver({}, { maxFileSize: 2 * TiB })
    await big.start()
    try {
      const destination = join(dir, 'downloads')
      const transfer = big.createTransfer(manifest.cid, { destination })
      const [near, far] = memoryChannelPair({ maxMessageSize: 256 * KiB })
      serveManifestOnly(far, manifest)
      transfer.attach(near)
      transfer.seal()
      const err = await transfer.result.then(() => undefined, (e: Error) => e)
      expect(isChiralError(err, 'insufficient-space')).toBe(true)
      expect(err!.message).toMatch(/needs 1 TiB .* free/)
      expect(await readdir(dir)).toEqual([])
    } finally {
      await big.stop()
    }
  })

  it('gives up a provider that accepts every re-dial and stays mute, instead of re-dialing for ever', async () => {
    const manifest = await hugeManifest(64 * MiB)
    let dials = 0
    const mute = createReceiver({
      dialers: [{
        name: 'mute',
        method: 'memory',
        async dial () {
          dials++
          return memoryChannelPair()[0]
        }
      }]
    }, { retryDelay: 100 })
    await mute.start()
    try {
      const startedAt = Date.now()
      const err = await mute.fetch(manifest.cid, { sink: blobSink(), providers: [{ peerId: '12D3KooWMuteMuteMuteMuteMuteMuteMuteMuteMuteMuteMute', multiaddrs: [] }] })
        .then(() => undefined, (e: Error) => e)
      console.log(`re-dialed mute provider ${dials} times; fetch failed after ${Date.now() - startedAt} ms (${err?.message})`)
      expect(isChiralError(err, 'provider-stalled')).toBe(true)
      expect(dials).toBe(3)
    } finally {
      await mute.stop()
    }
  }, 40_000)

  describe('with real content', () => {
    let good: Provider<string>
    let bad: Provider<string>
    let data: Uint8Array<ArrayBuffer>
    let manifest: Manifest

    beforeEach(async () => {
      ({ provider: good, data, manifest } = await blobProvider(4 * MiB, 64 * KiB))
      bad = createProvider()
      await bad.start()
      await bad.share(new Blob([data]), { name: 'data.bin', chunkSize: 64 * KiB })
    })

    afterEach(async () => {
      await good.stop()
      await bad.stop()
    })

    it('a failed fetch leaves a .part no longer than what was written', async () => {
      const sink = fileSink({ directory: dir })
      const transfer = new Transfer(manifest.cid, sink)
      const [near, far] = memoryChannelPair()
      // 16 KiB messages: about 4 per 64 KiB chunk; the provider vanishes after ~5 chunks.
      let pieces = 0
      const dying: MessageChannel = {
        method: far.method,
        maxMessageSize: far.maxMessageSize,
        [Symbol.asyncIterator]: () => far[Symbol.asyncIterator](),
        close: async () => { await far.close() },
        abort: (e) => { far.abort(e) },
        async send (message, options) {
          if (message[0] === MessageType.Chunk && ++pieces > 22) {
            far.abort(new Error('provider gone'))
            throw new Error('provider gone')
          }
          await far.send(message, options)
        }
      }
      void good.serve(dying)
      transfer.attach(near, { window: 2 })
      transfer.seal()
      await expect(transfer.result).rejects.toThrow()
      const part = await stat(join(dir, 'data.bin.part'))
      expect(part.size).toBeLessThanOrEqual(8 * 64 * KiB)
      expect(part.size).toBeLessThan(manifest.size)
    })

    for (const mode of ['stall', 'trickle'] as const) {
      it(`drops a provider that ${mode === 'stall' ? 'stops' : 'trickles'} mid-chunk within 10 s; the other provider finishes`, async () => {
        const transfer = receiver.createTransfer(manifest.cid, { sink: blobSink() })
        let turnedAt = 0
        const [nearBad, farBad] = memoryChannelPair()
        // 16 KiB messages, ~5 per chunk: the 18th piece is inside the 4th chunk.
        void bad.serve(misbehaving(farBad, { type: MessageType.Chunk, after: 17, mode, onTurn: () => { turnedAt = Date.now() } }))
        const dropped = detached(transfer, 'bad')
        const [nearGood, farGood] = memoryChannelPair()
        void good.serve(slowUntil(farGood, dropped.then(() => {}), 100))
        transfer.attach(nearBad, { label: 'bad' })
        transfer.attach(nearGood, { label: 'good' })
        transfer.seal()
        const result = await transfer.result
        const { channel, at } = await dropped
        const dropMs = at - turnedAt
        console.log(`${mode}: provider dropped ${dropMs} ms after it ${mode === 'stall' ? 'stopped' : 'started trickling'} (${channel.error?.message})`)
        expect(turnedAt).toBeGreaterThan(0)
        expect(isChiralError(channel.error, 'provider-stalled')).toBe(true)
        expect(dropMs).toBeLessThan(10_000)
        expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
        const byLabel = Object.fromEntries(result.paths.map((p) => [p.label, p]))
        expect(byLabel.bad!.chunks).toBe(3)
        expect(byLabel.good!.chunks).toBe(manifest.chunks.length - 3)
      }, 30_000)
    }

    it('drops a provider silent mid-manifest; another provider serves', async () => {
      const transfer = receiver.createTransfer(manifest.cid, { sink: blobSink() })
      // 1 KiB messages: the manifest (64 chunk hashes) takes a few pieces; only the first is sent.
      const [nearBad, farBad] = memoryChannelPair({ maxMessageSize: 1 * KiB })
      let turnedAt = 0
      void bad.serve(misbehaving(farBad, { type: MessageType.Manifest, after: 1, mode: 'stall', onTurn: () => { turnedAt = Date.now() } }))
      const attachedAt = Date.now()
      transfer.attach(nearBad, { label: 'bad' })
      const { channel, at } = await detached(transfer, 'bad')
      console.log(`manifest: provider dropped ${at - turnedAt} ms after it went silent (${channel.error?.message})`)
      expect(turnedAt).toBeGreaterThan(0)
      expect(isChiralError(channel.error, 'provider-stalled')).toBe(true)
      expect(at - attachedAt).toBeLessThan(10_000)
      expect(transfer.manifest).toBeUndefined()
      const [nearGood, farGood] = memoryChannelPair()
      void good.serve(farGood)
      transfer.attach(nearGood, { label: 'good' })
      transfer.seal()
      const result = await transfer.result
      expect(sha256Bytes(new Uint8Array(await result.blob!.arrayBuffer()))).toBe(sha256Bytes(data))
      expect(result.paths.find((p) => p.label === 'good')!.chunks).toBe(manifest.chunks.length)
    }, 30_000)

    it('drops a provider silent from the start of the session', async () => {
      const transfer = receiver.createTransfer(manifest.cid, { sink: blobSink() })
      const [near] = memoryChannelPair()
      const attachedAt = Date.now()
      transfer.attach(near, { label: 'mute' })
      transfer.seal()
      const err = await transfer.result.then(() => undefined, (e: Error) => e)
      console.log(`mute: fetch failed ${Date.now() - attachedAt} ms after attach (${err?.message})`)
      expect(isChiralError(err, 'provider-stalled')).toBe(true)
      expect(Date.now() - attachedAt).toBeLessThan(10_000)
    }, 30_000)
  })
})
