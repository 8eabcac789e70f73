import { createHash, randomBytes } from 'node:crypto'
import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { throttleReads, TokenBucket } from '../src/presets/stream-throttle.js'
import type { Stream } from '@libp2p/interface'

const KiB = 1024
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

async function sendAndClose (stream: Stream, payload: Uint8Array): Promise<void> {
  for (let offset = 0; offset < payload.length; offset += 16 * KiB) {
    if (!stream.send(payload.subarray(offset, offset + 16 * KiB))) await stream.onDrain()
  }
  await stream.close()
}

describe('TokenBucket', () => {
  it('starts full, refills at its rate up to its burst, and saves up for a larger delivery', () => {
    let now = 0
    const bucket = new TokenBucket(1000, 100, () => now)
    expect(bucket.level()).toBe(100)
    bucket.take(100)
    now = 50
    expect(bucket.level()).toBe(50)
    now = 1000
    expect(bucket.level()).toBe(100)
    expect(bucket.msUntil(300)).toBe(200)
    now = 1200
    expect(bucket.msUntil(300)).toBe(0)
  })
})

describe('throttleReads', () => {
  it('delivers every byte at the rate, the tail included when the sender closes while data is held', async () => {
    const [outbound, inbound] = await streamPair()
    throttleReads(inbound, { bytesPerSecond: 1024 * KiB, burst: 64 * KiB })
    const payload = randomBytes(640 * KiB)
    const started = performance.now()
    const received: Uint8Array[] = []
    const reading = (async () => {
      // Ends at the sender's FIN ('remoteCloseWrite'), like the relay's pipe.
      for await (const chunk of inbound) received.push(chunk.subarray())
    })()
    await sendAndClose(outbound, payload)
    await reading
    const seconds = (performance.now() - started) / 1000
    expect(sha256(Buffer.concat(received))).toBe(sha256(payload))
    // (640 - 64) KiB at 1 MiB/s: 0.56 s at least.
    expect(seconds).toBeGreaterThan(0.5)
    expect(seconds).toBeLessThan(3)
  })

  it('stops pacing when the stream is aborted while paused', async () => {
    const [outbound, inbound] = await streamPair()
    throttleReads(inbound, { bytesPerSecond: 64 * KiB, burst: 16 * KiB })
    inbound.addEventListener('message', () => {})
    outbound.send(randomBytes(128 * KiB))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(inbound.readStatus).toBe('paused')
    inbound.abort(new Error('gone'))
    // A timer still running would resume a closed stream and throw.
    await new Promise((resolve) => setTimeout(resolve, 1200))
    expect(inbound.status).toBe('aborted')
  })
})
