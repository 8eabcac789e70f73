import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProvider, createReceiver, relayDialer } from '../src/index.js'
import { randomFile, removeDir, sha256File, tempDir } from './support/files.js'
import { startRelayNetwork, targetOf } from './support/relay-network.js'
import type { Provider, Receiver, ChunkHook, FetchResult } from '../src/index.js'
import type { RelayNetwork } from './support/relay-network.js'

const MiB = 1024 * 1024

describe('transfer over the relay path (1 server, 2 peers on loopback)', () => {
  let net: RelayNetwork
  let dir: string
  const providers: Provider<string>[] = []
  const receivers: Receiver[] = []

  let defaultPair: { provider: Provider<string>, receiver: Receiver } | undefined

  /** A provider on peer 0 (optionally with a fault hook, on its own protocol id) and a receiver on peer 1. */
  async function pair (protocol?: string, chunkHook?: ChunkHook): Promise<{ provider: Provider<string>, receiver: Receiver }> {
    if (protocol == null && defaultPair != null) return defaultPair
    const provider = createProvider({ node: net.peers[0] }, {
      ...(protocol == null ? {} : { protocol }),
      ...(chunkHook == null ? {} : { chunkHook })
    })
    await provider.start()
    const receiver = createReceiver({ node: net.peers[1] }, protocol == null ? {} : { protocol })
    await receiver.start()
    providers.push(provider)
    receivers.push(receiver)
    if (protocol == null) defaultPair = { provider, receiver }
    return { provider, receiver }
  }

  beforeAll(async () => {
    dir = await tempDir()
    net = await startRelayNetwork(2)
  })

  afterAll(async () => {
    await Promise.allSettled(receivers.map(async (r) => r.stop()))
    await Promise.allSettled(providers.map(async (p) => p.stop()))
    await net?.stop()
    await removeDir(dir)
  })

  it('delivers 0 B, 1 B, 1 MiB and 64 MiB files intact, over method relay', async () => {
    const { provider, receiver } = await pair()
    for (const size of [0, 1, MiB, 64 * MiB]) {
      const source = await randomFile(join(dir, `source-${size}.bin`), size)
      const manifest = await provider.share(source, { name: `file-${size}.bin` })
      const out = join(dir, `out-${size}`)
      const progress: number[] = []
      const result = await receiver.fetch(manifest.cid, {
        providers: [targetOf(net.peers[0]!)],
        destination: out,
        onProgress: (p) => { progress.push(p.bytes); expect(p.method).toBe('relay'); expect(p.total).toBe(size) },
        signal: AbortSignal.timeout(60_000)
      })
      expect(result.verified).toBe(true)
      expect(result.bytes).toBe(size)
      expect(result.method).toBe('relay')
      expect(result.path).toBe(join(out, `file-${size}.bin`))
      expect(await sha256File(result.path!)).toBe(await sha256File(source))
      expect(await readdir(out)).toEqual([`file-${size}.bin`])
      expect(result.transferredBytes).toBe(size)
      expect(result.paths.map((p) => p.method)).toEqual(['relay'])
      if (size > 0) expect(progress.at(-1)).toBe(size)
    }
  })

  it('(a) detects a flipped bit, fetches that chunk again and writes a correct file', async () => {
    let flipped = 0
    const { provider, receiver } = await pair('/chiral-test/flip-once/1.0.0', ({ index, bytes }) => {
      if (index !== 2 || flipped > 0) return undefined
      flipped++
      const copy = bytes.slice()
      copy[1234] = copy[1234]! ^ 0x10
      return copy
    })
    const source = await randomFile(join(dir, 'flip.bin'), 5 * MiB + 77)
    const manifest = await provider.share(source)
    const result = await receiver.fetch(manifest.cid, {
      providers: [targetOf(net.peers[0]!)], destination: join(dir, 'out-flip'), signal: AbortSignal.timeout(30_000)
    })
    expect(flipped).toBe(1)
    expect(result.badChunks).toBe(1)
    expect(result.transferredBytes).toBe(5 * MiB + 77 + MiB)
    expect(await sha256File(result.path!)).toBe(await sha256File(source))
  })

  it('(b) drops a provider that always lies with ProviderMisbehavedError and writes no final file', async () => {
    const { provider, receiver } = await pair('/chiral-test/liar/1.0.0', ({ bytes }) => {
      const copy = bytes.slice()
      copy[0] = copy[0]! ^ 0x01
      return copy
    })
    const source = await randomFile(join(dir, 'liar.bin'), 4 * MiB)
    const manifest = await provider.share(source, { name: 'liar.bin' })
    const out = join(dir, 'out-liar')
    const failure = receiver.fetch(manifest.cid, { providers: [targetOf(net.peers[0]!)], destination: out, signal: AbortSignal.timeout(30_000) })
    await expect(failure).rejects.toMatchObject({ name: 'ProviderMisbehavedError', code: 'provider-misbehaved' })
    expect(await readdir(out)).not.toContain('liar.bin')
    expect((await readdir(out)).sort()).toEqual(['liar.bin.part', 'liar.bin.part.json'])
  })

  it('(d) cancel leaves only the .part and the resume record; the next fetch resumes', async () => {
    const { provider, receiver } = await pair()
    const size = 32 * MiB
    const source = await randomFile(join(dir, 'cancel.bin'), size)
    const manifest = await provider.share(source, { name: 'cancel.bin' })
    const out = join(dir, 'out-cancel')
    const controller = new AbortController()
    let verifiedAtCancel = 0
    const first = receiver.fetch(manifest.cid, {
      providers: [targetOf(net.peers[0]!)],
      destination: out,
      signal: controller.signal,
      onProgress: (p) => { if (p.bytes >= 8 * MiB && !controller.signal.aborted) { verifiedAtCancel = p.bytes; controller.abort() } }
    })
    await expect(first).rejects.toMatchObject({ code: 'aborted' })
    expect((await readdir(out)).sort()).toEqual(['cancel.bin.part', 'cancel.bin.part.json'])
    const record = JSON.parse(await readFile(join(out, 'cancel.bin.part.json'), 'utf8')) as { cid: string, size: number }
    expect(record).toMatchObject({ cid: manifest.cid.toString(), size })

    const second: FetchResult = await receiver.fetch(manifest.cid, {
      providers: [targetOf(net.peers[0]!)], destination: out, signal: AbortSignal.timeout(30_000)
    })
    expect(second.resumedBytes).toBeGreaterThanOrEqual(verifiedAtCancel)
    expect(second.transferredBytes).toBe(size - second.resumedBytes)
    expect(await sha256File(second.path!)).toBe(await sha256File(source))
    expect(await readdir(out)).toEqual(['cancel.bin'])
  })

  it('(e) a manifest name like ../../etc/passwd stays inside the destination', async () => {
    const { provider, receiver } = await pair()
    const source = await randomFile(join(dir, 'evil.bin'), 1000)
    const manifest = await provider.share(source, { name: '../../etc/passwd' })
    const out = join(dir, 'deep', 'er', 'out-evil')
    const result = await receiver.fetch(manifest.cid, {
      providers: [targetOf(net.peers[0]!)], destination: out, signal: AbortSignal.timeout(30_000)
    })
    expect(result.name).toBe('../../etc/passwd')
    expect(result.path!.startsWith(out + '/')).toBe(true)
    expect(await readdir(out)).toEqual(['_.._etc_passwd'])
    expect(await readdir(join(dir, 'deep'))).toEqual(['er'])
    expect(await readdir(join(dir, 'deep', 'er'))).toEqual(['out-evil'])
    expect(await sha256File(result.path!)).toBe(await sha256File(source))
  })

  it('fails with ContentNotFoundError for content the provider does not have', async () => {
    const { provider, receiver } = await pair()
    const other = createProvider()
    const manifest = await other.share(new Blob([new Uint8Array(10)]), { name: 'elsewhere' })
    void provider
    const err = await receiver.fetch(manifest.cid, {
      providers: [targetOf(net.peers[0]!)], destination: join(dir, 'out-missing'), signal: AbortSignal.timeout(30_000)
    }).catch((e: Error) => e)
    expect(err).toMatchObject({ name: 'ContentNotFoundError', code: 'content-not-found' })
  })

  it('fails with PathDialError when no path opens, and NoProvidersError with nobody to ask', async () => {
    const { provider, receiver } = await pair()
    const manifest = await provider.share(new Blob([new Uint8Array(100)]), { name: 'nopath.bin' })
    // The relay server itself: reachable directly, but it has no circuit address.
    await expect(receiver.fetch(manifest.cid, {
      providers: [{ peerId: net.server.peerId.toString(), multiaddrs: net.server.getMultiaddrs() }],
      destination: join(dir, 'out-nopath'),
      signal: AbortSignal.timeout(30_000)
    })).rejects.toMatchObject({ name: 'PathDialError', code: 'path-dial-failed' })
    await expect(receiver.fetch(manifest.cid, { destination: join(dir, 'out-nobody') }))
      .rejects.toMatchObject({ code: 'no-providers' })
  })

  it('the relay dialer opens a relayed channel even though a direct address is not known', async () => {
    const channel = await relayDialer(net.peers[1]!).dial(targetOf(net.peers[0]!), '/chiral/transfer/1.0.0', { signal: AbortSignal.timeout(10_000) })
    expect(channel.method).toBe('relay')
    await channel.close()
  })
})
