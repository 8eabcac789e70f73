import { join } from 'node:path'
import { createNode, isChiralError, relayAddresses, waitForRelayReservation } from '@chiral/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProvider, createReceiver, dcutrDialer, methodOfConnection, relayDialer } from '../src/index.js'
import { randomFile, removeDir, sha256File, tempDir } from './support/files.js'
import type { Provider, Receiver } from '../src/index.js'
import type { ChiralNode, PeerNodeInit, PeerTarget } from '@chiral/core'

const MiB = 1024 * 1024

/**
 * The dcutr path on loopback: a relay, a provider reachable only through it,
 * and a fetcher that also listens on TCP (127.0.0.1). Both have `directTcp`:
 * the provider, the inbound side of the relayed connection, upgrades it by
 * dialing the fetcher's TCP listener (DCUtR's unilateral upgrade). The hole
 * punch itself (both behind NATs) is tested in the NAT lab (test/nat/dcutr.spec.ts).
 */
describe('dcutr path (relayed connection upgraded to direct TCP, loopback)', () => {
  let server: ChiralNode
  let relay: string
  const nodes: ChiralNode[] = []
  let provider: Provider<string>
  let receiver: Receiver
  let providerNode: ChiralNode
  let fetcherNode: ChiralNode
  let dir: string

  async function peer (init: Partial<Omit<PeerNodeInit, 'role'>>): Promise<ChiralNode> {
    const node = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [relay], allowPrivateAddresses: true, ...init })
    nodes.push(node)
    await node.start()
    await waitForRelayReservation(node, { signal: AbortSignal.timeout(15_000) })
    return node
  }

  const targetOf = (node: ChiralNode): PeerTarget => ({ peerId: node.peerId.toString(), multiaddrs: relayAddresses(node) })
  const connectionsTo = (from: ChiralNode, to: ChiralNode): string[] =>
    from.getConnections(to.peerId).filter((c) => c.status === 'open').map((c) => methodOfConnection(c)).sort()

  beforeAll(async () => {
    dir = await tempDir()
    server = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true })
    await server.start()
    relay = server.getMultiaddrs()[0]!.toString()
    providerNode = await peer({ directTcp: true })
    fetcherNode = await peer({ directTcp: true, listen: ['/ip4/127.0.0.1/tcp/0', '/p2p-circuit'] })
    provider = createProvider({ node: providerNode })
    await provider.start()
    receiver = createReceiver({ node: fetcherNode, dialers: [relayDialer(fetcherNode), dcutrDialer(fetcherNode)] })
    await receiver.start()
  })

  afterAll(async () => {
    await receiver?.stop()
    await provider?.stop()
    await Promise.allSettled(nodes.map(async (n) => n.stop()))
    await server?.stop()
    await removeDir(dir)
  })

  it('fetches over the direct TCP connection (method tcp-direct) and leaves the relayed one open', async () => {
    const source = await randomFile(join(dir, 'source.bin'), 16 * MiB)
    const manifest = await provider.share(source, { name: 'file.bin' })
    const result = await receiver.fetch(manifest.cid, {
      providers: [targetOf(providerNode)],
      destination: join(dir, 'out'),
      signal: AbortSignal.timeout(30_000)
    })
    expect(await sha256File(result.path!)).toBe(await sha256File(source))
    expect(result.method).toBe('tcp-direct')
    expect(result.bytesByMethod['tcp-direct']!).toBeGreaterThan(result.bytes / 2)
    const report = result.pathReports.find((p) => p.path === 'dcutr')
    expect(report?.status === 'up' || report?.status === 'down').toBe(true)
    expect(connectionsTo(fetcherNode, providerNode)).toEqual(['relay', 'tcp-direct'])
  })

  it('opens the next stream on the direct connection already open', async () => {
    const before = fetcherNode.getConnections(providerNode.peerId).length
    const started = Date.now()
    const channel = await dcutrDialer(fetcherNode).dial(targetOf(providerNode), '/chiral-test/none/1.0.0', { signal: AbortSignal.timeout(5000) })
      .catch((err: Error) => err)
    // The provider does not serve that protocol: the stream is refused, on the direct connection.
    expect(channel).toBeInstanceOf(Error)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(fetcherNode.getConnections(providerNode.peerId).length).toBe(before)
  })

  it('fails fast with no-direct-connection when the peer has no DCUtR, closing nothing', async () => {
    const plain = await peer({})
    const started = Date.now()
    const err = await dcutrDialer(fetcherNode, { upgradeTimeout: 10_000 }).dial(targetOf(plain), '/chiral/transfer/1.0.0', { signal: AbortSignal.timeout(15_000) })
      .then(() => undefined, (e: unknown) => e)
    expect(isChiralError(err, 'no-direct-connection')).toBe(true)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(connectionsTo(fetcherNode, plain)).toEqual(['relay'])
  })

  it('fails at once on a node without directTcp', async () => {
    const plain = await peer({})
    const err = await dcutrDialer(plain).dial(targetOf(providerNode), '/chiral/transfer/1.0.0').then(() => undefined, (e: unknown) => e)
    expect(isChiralError(err, 'no-direct-connection')).toBe(true)
    expect((err as Error).message).toMatch(/no DCUtR service/)
  })

  it('honours the caller signal', async () => {
    // Neither `other` nor the provider listens on TCP: only a hole punch
    // could connect them, and on loopback the two SYNs do not meet (each
    // arrives before the other side dialled and is refused). The dialer
    // waits for the provider's next attempt until the caller aborts.
    const other = await peer({ directTcp: true })
    const controller = new AbortController()
    const pending = dcutrDialer(other, { upgradeTimeout: 30_000, retryGrace: 30_000 }).dial(targetOf(providerNode), '/chiral/transfer/1.0.0', { signal: controller.signal })
    setTimeout(() => { controller.abort(new Error('caller gave up')) }, 500)
    const started = Date.now()
    const err = await pending.then(() => undefined, (e: unknown) => e)
    expect((err as Error).message).toBe('caller gave up')
    expect(Date.now() - started).toBeLessThan(1500)
    expect(connectionsTo(other, providerNode)).toEqual(['relay'])
  })
})
