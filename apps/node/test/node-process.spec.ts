import { execFile, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createDiscovery, createManifest, createNode, waitForRelayReservation } from '@chiral/core'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { BUNDLE, startNodeProcess, stopNodeProcess, tempDir } from './support.js'
import type { NodeProcess } from './support.js'
import type { ChiralNode } from '@chiral/core'

const run = promisify(execFile)

/** A raw signaling client speaking the wire protocol (anonymous id). */
async function rawClient (url: string, clientId: string): Promise<{ ws: WebSocket, next: (type: string) => Promise<Record<string, unknown>>, peers: string[] }> {
  const ws = new WebSocket(url)
  const inbox: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  ws.on('message', (data) => { inbox.push(JSON.parse(data.toString()) as Record<string, unknown>); waiters.splice(0).forEach((w) => { w() }) })
  const next = async (type: string): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 5000
    while (true) {
      const i = inbox.findIndex((m) => m.type === type)
      if (i >= 0) return inbox.splice(i, 1)[0]!
      if (Date.now() > deadline) throw new Error(`no ${type} message; got ${JSON.stringify(inbox)}`)
      await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 100) })
    }
  }
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  await next('challenge')
  ws.send(JSON.stringify({ type: 'register', clientId }))
  const peers = (await next('peers')).peers as string[]
  return { ws, next, peers }
}

describe('chiral-node process (built bundle)', () => {
  let node: NodeProcess
  const peers: ChiralNode[] = []

  beforeAll(async () => {
    expect(existsSync(BUNDLE), 'run the build first (npm test does)').toBe(true)
    node = await startNodeProcess()
  })

  afterAll(async () => {
    await Promise.all(peers.map(async (p) => p.stop()))
    await stopNodeProcess(node)
  })

  it('answers /health and /metrics', async () => {
    const health = await (await fetch(`${node.httpUrl}/health`)).json() as Record<string, any>
    expect(health.status).toBe('ok')
    expect(health.peerId).toBe(node.peerId)
    expect(health.multiaddrs.length).toBeGreaterThan(0)
    expect(health.counts).toMatchObject({ signalingClients: 0, relayReservations: expect.any(Number) })
    expect(health.cluster).toEqual({ mode: 'local' })
    const res = await fetch(`${node.httpUrl}/metrics`)
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    for (const name of ['chiral_signaling_clients', 'chiral_signaling_rooms', 'chiral_signaling_messages_routed_total',
      'chiral_signaling_errors_total', 'chiral_relay_reservations', 'chiral_relay_circuits', 'chiral_relay_circuits_total',
      'chiral_dht_provider_records', 'chiral_signaling_cluster_connected', 'libp2p_data_transfer_bytes_total']) {
      expect(text, name).toContain(`# TYPE ${name} `)
    }
    expect((await fetch(`${node.httpUrl}/nope`)).status).toBe(404)
  })

  it('registers signaling clients and routes between them, with the sender stamped by the server', async () => {
    const a = await rawClient(node.signalingUrl, 'alice')
    const b = await rawClient(node.signalingUrl, 'bob')
    expect(b.peers).toContain('alice')
    b.ws.send(JSON.stringify({ type: 'offer', to: 'alice', from: 'mallory', sdp: 'v=0 test' }))
    const offer = await a.next('offer')
    expect(offer).toMatchObject({ type: 'offer', from: 'bob', sdp: 'v=0 test' })
    const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(/^chiral_signaling_clients 2$/m)
    expect(metrics).toMatch(/^chiral_signaling_messages_routed_total [1-9]/m)
    a.ws.close()
    b.ws.close()
  })

  it('lets two peers reserve on it, find each other through its DHT and connect through its relay', async () => {
    const relay = node.multiaddrs.find((a) => !a.includes('/ws/'))!
    for (let i = 0; i < 2; i++) {
      const p = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [relay], allowPrivateAddresses: true })
      await p.start()
      peers.push(p)
      await waitForRelayReservation(p, { signal: AbortSignal.timeout(10_000) })
    }
    const [sharer, fetcher] = peers as [ChiralNode, ChiralNode]
    const payload = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7) & 0xff)
    const manifest = await createManifest([payload], { name: 'through-relay.bin' })
    // A plain protocol that streams the file's bytes: the transfer protocol has its own tests.
    await sharer.handle('/chiral/test/blob/1.0.0', async (stream) => {
      for (let o = 0; o < payload.length; o += 65536) {
        if (!stream.send(payload.subarray(o, o + 65536))) await stream.onDrain()
      }
      await stream.close()
    }, { runOnLimitedConnection: true })
    const sharerDiscovery = createDiscovery(sharer)
    const fetcherDiscovery = createDiscovery(fetcher)
    await sharerDiscovery.start()
    await fetcherDiscovery.start()
    await sharerDiscovery.announce(manifest.cid, { signal: AbortSignal.timeout(15_000) })
    let target
    // announce() resolves once the server was sent the record; it stores it a moment later, so ask again meanwhile.
    for await (const provider of fetcherDiscovery.findProviders(manifest.cid, { signal: AbortSignal.timeout(10_000), keepLooking: true, retryDelay: 200 })) {
      target = provider.multiaddrs.find((ma) => ma.toString().includes('/p2p-circuit'))
      break
    }
    expect(target).toBeDefined()
    const addr = target!.toString().endsWith(sharer.peerId.toString()) ? target! : target!.encapsulate(`/p2p/${sharer.peerId.toString()}`)
    const stream = await fetcher.dialProtocol(multiaddr(addr.toString()), '/chiral/test/blob/1.0.0', { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
    let received = 0
    const got = new Uint8Array(payload.length)
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      got.set(bytes, received)
      received += bytes.byteLength
    }
    expect(received).toBe(payload.length)
    expect((await createManifest([got])).cid.equals(manifest.cid)).toBe(true)

    const health = await (await fetch(`${node.httpUrl}/health`)).json() as { counts: Record<string, number> }
    expect(health.counts.relayReservations).toBe(2)
    expect(health.counts.providerRecords).toBeGreaterThan(0)
    const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(/^chiral_relay_reservations 2$/m)
    expect(metrics).toMatch(/^chiral_relay_circuits_total [1-9]/m)
    const hopSent = /^libp2p_data_transfer_bytes_total\{protocol="\/libp2p\/circuit\/relay\/0\.2\.0\/hop sent"\} (\d+)$/m.exec(metrics)
    expect(Number(hopSent?.[1])).toBeGreaterThanOrEqual(payload.length) // relayed bytes are counted
    await sharerDiscovery.stop()
    await fetcherDiscovery.stop()
  })
})

describe('chiral-node lifecycle', () => {
  it('shuts down on SIGTERM within 5 s with exit code 0, closing signaling clients with 1001', async () => {
    const node = await startNodeProcess()
    const ws = new WebSocket(node.signalingUrl)
    await new Promise((resolve) => ws.once('open', resolve))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => { resolve(code) }))
    const started = Date.now()
    node.child.kill('SIGTERM')
    const { code } = await node.exited
    expect(code).toBe(0)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(await closed).toBe(1001)
  })

  it('keeps its peer id across restarts with the same key file (created with mode 0600)', async () => {
    const dir = tempDir()
    const keyFile = join(dir, 'state', 'node.key')
    const first = await startNodeProcess([], { cwd: dir, keyFile })
    await stopNodeProcess(first)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    const second = await startNodeProcess([], { cwd: dir, keyFile })
    await stopNodeProcess(second)
    expect(second.peerId).toBe(first.peerId)
  })

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port', 'abc'], /--port must be a port number/],
    [['--relay-data-limit', 'lots'], /--relay-data-limit must be a size/],
    [['--relay-rate-limit', 'fast'], /--relay-rate-limit must be a rate/],
    [['--log-level', 'loud'], /--log-level must be one of/]
  ])('exits 2 with a one-line message for bad config %j', async (args, message) => {
    const result = spawnSync(process.execPath, [BUNDLE, ...args], { encoding: 'utf8', timeout: 10_000 })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace
  })

  it('--help lists every option', async () => {
    const { stdout } = await run(process.execPath, [BUNDLE, '--help'])
    for (const flag of ['--port', '--tcp-port', '--ws-port', '--public-ip', '--announce', '--key-file', '--datastore', '--log-level', '--relay-data-limit', '--relay-rate-limit', '--signaling-max-clients']) {
      expect(stdout).toContain(flag)
    }
  })

  it('runs as a single file from a folder containing nothing else', async () => {
    const dir = tempDir()
    copyFileSync(BUNDLE, join(dir, 'chiral-node.mjs'))
    expect(readdirSync(dir)).toEqual(['chiral-node.mjs'])
    const node = await startNodeProcess([], { cwd: dir, bundle: join(dir, 'chiral-node.mjs'), keyFile: join(dir, 'node.key') })
    try {
      const health = await (await fetch(`${node.httpUrl}/health`)).json() as { status: string }
      expect(health.status).toBe('ok')
    } finally {
      await stopNodeProcess(node)
    }
  })

  it('starts with a relay rate limit', async () => {
    const node = await startNodeProcess(['--relay-rate-limit', '10MiB'])
    try {
      const health = await (await fetch(`${node.httpUrl}/health`)).json() as { status: string }
      expect(health.status).toBe('ok')
    } finally {
      await stopNodeProcess(node)
    }
  })

  it('announces the configured public address', async () => {
    const node = await startNodeProcess(['--announce', '/ip4/127.0.0.1/tcp/4999,/ip4/127.0.0.1/tcp/5000/ws'])
    try {
      const health = await (await fetch(`${node.httpUrl}/health`)).json() as { multiaddrs: string[] }
      expect(health.multiaddrs.map((a) => a.replace(/\/p2p\/.*$/, '')).sort()).toEqual(['/ip4/127.0.0.1/tcp/4999', '/ip4/127.0.0.1/tcp/5000/ws'])
    } finally {
      await stopNodeProcess(node)
    }
  })
})

describe('systemd unit', () => {
  const unit = new URL('../deploy/chiral-node.service', import.meta.url).pathname
  const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).stdout.trim()
  it.skipIf(analyze === '')('is accepted by systemd-analyze verify', () => {
    const result = spawnSync(analyze, ['verify', unit], { encoding: 'utf8' })
    expect(result.stderr.trim()).toBe('')
    expect(result.status).toBe(0)
  })
})
