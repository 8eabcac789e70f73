import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_CHUNK_SIZE, chunkLength, createManifest, decodeManifest, encodeManifest,
  isChiralError, parseContentId, verifyChunk
} from '../src/index.js'

const CS = DEFAULT_CHUNK_SIZE

/** Deterministic pseudo-random bytes (so ids can be pinned across runs). */
function bytes (length: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/** Yields `data` in pieces of `piece` bytes, like a file stream. */
function * pieces (data: Uint8Array, piece: number): Generator<Uint8Array> {
  for (let o = 0; o < data.byteLength; o += piece) yield data.subarray(o, o + piece)
}

describe('createManifest', () => {
  it.each([
    ['0 bytes', 0, 0],
    ['1 byte', 1, 1],
    ['exactly one chunk', CS, 1],
    ['one chunk + 1 byte', CS + 1, 2]
  ])('%s → %i chunk(s), each verifiable', async (_label, size, count) => {
    const data = bytes(size)
    const m = await createManifest(pieces(data, 65536), { name: 'x.bin' })
    expect(m.size).toBe(size)
    expect(m.chunks).toHaveLength(count)
    expect(m.chunkSize).toBe(CS)
    for (let i = 0; i < count; i++) {
      const chunk = data.subarray(i * CS, i * CS + chunkLength(m, i))
      expect(await verifyChunk(m, i, chunk)).toBe(true)
      expect(Buffer.from(m.chunks[i]!).toString('hex')).toBe(createHash('sha256').update(chunk).digest('hex'))
    }
  })

  it('gives the same id for the same bytes whatever the piece sizes, source kind and name', async () => {
    const data = bytes(3 * CS + 777, 7)
    const a = await createManifest(pieces(data, 1000), { name: 'a' })
    const b = await createManifest(pieces(data, CS * 2), { name: 'b' })
    const c = await createManifest(new Blob([data]), { name: 'c' })
    const d = await createManifest(new Blob([data]).stream())
    expect(b.cid.toString()).toBe(a.cid.toString())
    expect(c.cid.toString()).toBe(a.cid.toString())
    expect(d.cid.toString()).toBe(a.cid.toString())
    expect(a.cid.toString()).toMatch(/^bafy/)
  })

  it('pins ids across runs (a change here breaks every shared link)', async () => {
    expect((await createManifest([])).cid.toString())
      .toBe('bafyreifxf7xyz7yfydiatjtjldccwndrycvrsmjydzm3upetq75mjxh3aq')
    expect((await createManifest([bytes(CS + 1, 3)])).cid.toString())
      .toBe('bafyreihyir5wmfbwn7yv6yl6mehv4sbpr5cxu3oxmt3d6h3oneeby2v5zm')
  })

  it('differs when one byte differs', async () => {
    const data = bytes(2 * CS, 9)
    const a = await createManifest([data])
    const flipped = data.slice()
    flipped[CS + 5]! ^= 1
    const b = await createManifest([flipped])
    expect(b.cid.equals(a.cid)).toBe(false)
  })

  it('streams 100 MiB with memory bounded by the hashing window', async () => {
    const total = 100 * 1024 * 1024
    const block = bytes(256 * 1024, 11)
    async function * source (): AsyncGenerator<Uint8Array> {
      for (let o = 0; o < total; o += block.byteLength) yield block
    }
    let calls = 0
    const before = process.memoryUsage().arrayBuffers
    let peak = 0
    const m = await createManifest(source(), {
      onProgress: () => { calls++; peak = Math.max(peak, process.memoryUsage().arrayBuffers - before) }
    })
    expect(m.size).toBe(total)
    expect(m.chunks).toHaveLength(100)
    expect(calls).toBe(100)
    // 4 chunks hashing + 1 being filled, plus GC slack: far below 100 MiB.
    expect(peak).toBeLessThan(40 * 1024 * 1024)
    const hash = createHash('sha256').update(block).digest()
    const full = Buffer.concat([block, block, block, block])
    expect(Buffer.from(m.chunks[0]!)).toEqual(createHash('sha256').update(full).digest())
    expect(hash).toBeDefined()
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    async function * source (): AsyncGenerator<Uint8Array> {
      for (let i = 0; ; i++) {
        if (i === 3) controller.abort()
        yield bytes(CS)
      }
    }
    await expect(createManifest(source(), { signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' })
  })

  it('rejects bad chunk sizes and bad sources with clear errors', async () => {
    await expect(createManifest([], { chunkSize: 10 })).rejects.toMatchObject({ code: 'invalid-argument' })
    await expect(createManifest(42 as never)).rejects.toMatchObject({ code: 'invalid-argument' })
    await expect(createManifest(['text' as never])).rejects.toMatchObject({ code: 'invalid-argument' })
  })
})

describe('verifyChunk', () => {
  it('catches a flipped bit in any chunk, and wrong lengths', async () => {
    const data = bytes(3 * CS + 100, 5)
    const m = await createManifest([data])
    for (let i = 0; i < m.chunks.length; i++) {
      const chunk = data.slice(i * CS, i * CS + chunkLength(m, i))
      expect(await verifyChunk(m, i, chunk)).toBe(true)
      for (const bit of [0, 7, chunk.byteLength * 8 - 1]) {
        const bad = chunk.slice()
        bad[bit >> 3]! ^= 1 << (bit & 7)
        expect(await verifyChunk(m, i, bad)).toBe(false)
      }
      expect(await verifyChunk(m, i, chunk.subarray(1))).toBe(false)
    }
    // chunk 0's bytes are not chunk 1
    expect(await verifyChunk(m, 1, data.slice(0, CS))).toBe(false)
  })

  it('throws a typed error for an index out of range', async () => {
    const m = await createManifest([bytes(10)])
    await expect(verifyChunk(m, 1, new Uint8Array(10))).rejects.toMatchObject({ code: 'invalid-argument' })
    await expect(verifyChunk(m, -1, new Uint8Array(10))).rejects.toMatchObject({ code: 'invalid-argument' })
  })
})

describe('manifest encoding', () => {
  it('round-trips and checks the expected content id', async () => {
    const m = await createManifest([bytes(2 * CS + 3)], { name: 'report.pdf' })
    const decoded = await decodeManifest(encodeManifest(m), m.cid.toString())
    expect(decoded.name).toBe('report.pdf')
    expect(decoded.cid.equals(m.cid)).toBe(true)
    expect(decoded.chunks).toEqual(m.chunks)
  })

  it('rejects a manifest that does not hash to the requested id', async () => {
    const m = await createManifest([bytes(100)])
    const other = await createManifest([bytes(101)])
    await expect(decodeManifest(encodeManifest(m), other.cid)).rejects.toMatchObject({ code: 'invalid-manifest' })
    const tampered = { ...m, chunks: [randomBytes(32)] }
    await expect(decodeManifest(encodeManifest(tampered), m.cid)).rejects.toMatchObject({ code: 'invalid-manifest' })
    await expect(decodeManifest(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ code: 'invalid-manifest' })
  })
})

describe('parseContentId', () => {
  it('accepts its own ids and rejects others with a typed error', async () => {
    const m = await createManifest([bytes(5)])
    expect(parseContentId(` ${m.cid.toString()} `).equals(m.cid)).toBe(true)
    for (const bad of ['', 'hello', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku']) {
      let caught: unknown
      try { parseContentId(bad) } catch (err) { caught = err }
      expect(isChiralError(caught, 'invalid-content-id')).toBe(true)
      expect((caught as Error).name).toBe('InvalidContentIdError')
    }
  })
})
