import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReceiver, DEFAULT_WINDOW } from '../src/index.js'
import { spawnProvider } from './support/child-provider.js'
import { randomFile, removeDir, sha256File, tempDir } from './support/files.js'
import { startRelayNetwork } from './support/relay-network.js'
import type { Receiver, Transfer } from '../src/index.js'
import type { ChildProvider } from './support/child-provider.js'
import type { RelayNetwork } from './support/relay-network.js'

const MiB = 1024 * 1024

describe('(c) provider killed mid-transfer (provider in its own process)', () => {
  let net: RelayNetwork
  let dir: string
  let receiver: Receiver
  const children: ChildProvider[] = []

  beforeAll(async () => {
    dir = await tempDir()
    net = await startRelayNetwork(1)
    receiver = createReceiver({ node: net.peers[0] })
    await receiver.start()
  })

  afterAll(async () => {
    await Promise.allSettled(children.map(async (c) => c.stop()))
    await receiver?.stop()
    await net?.stop()
    await removeDir(dir)
  })

  it('fails with PathsLostError once the retry budget is spent, keeps the verified chunks, and a restarted fetch re-sends at most one window', async () => {
    const size = 32 * MiB
    const source = await randomFile(join(dir, 'big.bin'), size)
    const out = join(dir, 'out')

    const first = await spawnProvider(net.relay, source, 'big.bin')
    children.push(first)
    let verifiedAtKill = 0
    let firstRunBytes = 0
    const run1 = receiver.fetch(first.cid, {
      providers: [first.target],
      destination: out,
      retryBudget: 3000,
      signal: AbortSignal.timeout(60_000),
      onTransfer: (t: Transfer) => { t.addEventListener('channel:detach', (e) => { firstRunBytes += e.detail.bytes }) },
      onProgress: (p) => {
        if (p.bytes >= 12 * MiB && verifiedAtKill === 0) {
          verifiedAtKill = p.bytes
          first.kill()
        }
      }
    })
    const lost = await run1.then(() => undefined, (err: Error) => err)
    expect(lost).toMatchObject({ name: 'PathsLostError', code: 'paths-lost' })
    // It names the path that died and what the re-dials answered.
    expect(lost?.message).toMatch(/relay: lost at \S+ \(.+\); \d+ dials? failed since/)
    expect(verifiedAtKill).toBeGreaterThan(0)
    expect((await readdir(out)).sort()).toEqual(['big.bin.part', 'big.bin.part.json'])

    const second = await spawnProvider(net.relay, source, 'big.bin')
    children.push(second)
    expect(second.cid).toBe(first.cid)
    const result = await receiver.fetch(second.cid, {
      providers: [second.target], destination: out, signal: AbortSignal.timeout(60_000)
    })
    expect(await sha256File(result.path!)).toBe(await sha256File(source))
    expect(result.resumedBytes).toBeGreaterThanOrEqual(verifiedAtKill)
    expect(result.transferredBytes).toBe(size - result.resumedBytes)
    const resent = firstRunBytes + result.transferredBytes - size
    console.log(JSON.stringify({ verifiedAtKill, firstRunBytes, resumed: result.resumedBytes, transferred: result.transferredBytes, resent }))
    expect(resent).toBeGreaterThanOrEqual(0)
    expect(resent).toBeLessThanOrEqual(DEFAULT_WINDOW * MiB)
    expect(await readdir(out)).toEqual(['big.bin'])
  })
})
