/**
 * One process of the relay benchmark (see relay-throughput.ts). Roles:
 *
 *   relay                                  a `server` node on 127.0.0.1
 *   provider <relay> <file>...             a peer sharing the files over /chiral/transfer/1.0.0,
 *                                          and serving raw bytes on /chiral-bench/raw/1.0.0
 *   raw <relay> <target.json> <bytes>      reads <bytes> raw bytes from the provider through the relay
 *   fetch <relay> <target.json> <cid> <dir> [file|discard]
 *                                          fetches <cid> through the relay into <dir> (or drops
 *                                          the verified chunks: the protocol without the disk)
 *
 * Each prints JSON lines on stdout: first `{ ready… }`, then (raw/fetch) one
 * result line; relay/provider run until stdin closes.
 */
import { open } from 'node:fs/promises'
import { relayAddresses } from '@chiral/core'
import { startLoopbackRelay, startRelayedPeer } from '../packages/core/test/support/loopback-relay.js'
import { createProvider, createReceiver, circuitAddresses } from '@chiral/transport'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'

const RAW = '/chiral-bench/raw/1.0.0'
const [role, ...args] = process.argv.slice(2)
const print = (value: unknown): void => { process.stdout.write(JSON.stringify(value) + '\n') }
const maxRssMiB = (): number => Math.round(process.resourceUsage().maxRSS / 1024)
const untilStdinEnds = async (): Promise<void> => new Promise((resolve) => {
  process.stdin.on('end', resolve)
  process.stdin.resume()
})

/** Waits until the stream can take more (the `drain`/`idle` events; see the libp2p stream channel). */
async function writable (stream: Stream): Promise<void> {
  while (stream.writableNeedsDrain || stream.writeBufferLength > 1024 * 1024) {
    if (stream.status !== 'open') throw new Error(`stream ${stream.status}`)
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stream.removeEventListener('drain', done)
        stream.removeEventListener('idle', done)
        stream.removeEventListener('close', done)
        resolve()
      }
      stream.addEventListener('drain', done)
      stream.addEventListener('idle', done)
      stream.addEventListener('close', done)
    })
  }
}

switch (role) {
  case 'relay': {
    const { server, relay } = await startLoopbackRelay()
    print({ ready: true, relay })
    await untilStdinEnds()
    await server.stop()
    print({ maxRssMiB: maxRssMiB() })
    break
  }
  case 'provider': {
    const [relay, ...files] = args
    const node = await startRelayedPeer(relay!)
    const provider = createProvider({ node })
    await provider.start()
    const cids: string[] = []
    for (const file of files) cids.push((await provider.share(file)).cid.toString())
    await node.handle(RAW, async (stream) => {
      const request = await new Promise<number>((resolve) => {
        stream.addEventListener('message', (evt) => {
          resolve(Number(new DataView(evt.data.subarray().buffer, evt.data.subarray().byteOffset).getBigUint64(0)))
        }, { once: true })
      })
      const fh = await open(files[0]!, 'r')
      const size = (await fh.stat()).size
      try {
        for (let offset = 0; offset < request;) {
          const piece = new Uint8Array(Math.min(1024 * 1024, request - offset, size - (offset % size)))
          const { bytesRead } = await fh.read(piece, 0, piece.byteLength, offset % size)
          stream.send(piece.subarray(0, bytesRead))
          offset += bytesRead
          await writable(stream)
        }
        await stream.close()
      } finally {
        await fh.close()
      }
    }, { runOnLimitedConnection: true })
    print({ ready: true, target: { peerId: node.peerId.toString(), multiaddrs: relayAddresses(node).map(String) }, cids })
    await untilStdinEnds()
    await provider.stop()
    await node.stop()
    print({ maxRssMiB: maxRssMiB() })
    break
  }
  case 'raw': {
    const [relay, targetJson, bytesArg] = args
    const target = JSON.parse(targetJson!) as { peerId: string, multiaddrs: string[] }
    const bytes = Number(bytesArg)
    const node = await startRelayedPeer(relay!)
    print({ ready: true })
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    const addr = circuitAddresses({ peerId: target.peerId, multiaddrs: target.multiaddrs.map((a) => multiaddr(a)) })[0]!
    const connection = await node.dial(addr, { force: true, signal: AbortSignal.timeout(30_000) })
    const stream = await connection.newStream(RAW, { runOnLimitedConnection: true })
    const request = new Uint8Array(8)
    new DataView(request.buffer).setBigUint64(0, BigInt(bytes))
    stream.send(request)
    let received = 0
    for await (const piece of stream) {
      received += piece.byteLength
      if (received >= bytes) break
    }
    const ms = performance.now() - started
    const cpu = process.cpuUsage(cpu0)
    print({ bytes: received, ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: maxRssMiB(), limited: connection.limits != null })
    await node.stop()
    break
  }
  case 'fetch': {
    const [relay, targetJson, cid, dir, sinkKind = 'file'] = args
    const target = JSON.parse(targetJson!) as { peerId: string, multiaddrs: string[] }
    const node = await startRelayedPeer(relay!)
    const receiver = createReceiver({ node })
    await receiver.start()
    print({ ready: true })
    let peakSampled = 0
    let peakHeap = 0
    let peakBuffers = 0
    const sampler = setInterval(() => {
      const m = process.memoryUsage()
      peakSampled = Math.max(peakSampled, m.rss)
      peakHeap = Math.max(peakHeap, m.heapUsed)
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers)
    }, 50)
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    const result = await receiver.fetch(cid!, {
      providers: [{ peerId: target.peerId, multiaddrs: target.multiaddrs.map((a) => multiaddr(a)) }],
      destination: dir!,
      overwrite: true,
      // `discard`: verified chunks are dropped (the protocol without the disk).
      ...(sinkKind === 'discard'
        ? { sink: { open: async () => [], write: async () => {}, complete: async () => ({}), abort: async () => {} } }
        : {}),
      signal: AbortSignal.timeout(600_000)
    })
    const ms = performance.now() - started
    clearInterval(sampler)
    const cpu = process.cpuUsage(cpu0)
    print({ bytes: result.bytes, ms, cpuMs: (cpu.user + cpu.system) / 1000, method: result.method, path: result.path, badChunks: result.badChunks, maxRssMiB: maxRssMiB(), peakSampledRssMiB: Math.round(peakSampled / 2 ** 20), peakHeapMiB: Math.round(peakHeap / 2 ** 20), peakArrayBuffersMiB: Math.round(peakBuffers / 2 ** 20) })
    await receiver.stop()
    await node.stop()
    break
  }
  default:
    process.stderr.write('usage: relay-node.ts relay | provider <relay> <file>... | raw <relay> <target> <bytes> | fetch <relay> <target> <cid> <dir>\n')
    process.exit(2)
}
