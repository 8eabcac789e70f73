/**
 * A provider in its own process (so its resident memory can be read from
 * /proc) behind a loopback relay, attacked by one receiver connection that
 * opens 32 streams, floods 4 MiB Requests and never reads, while a legitimate
 * receiver fetches from it. And sessions that go silent are closed.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseContentId } from '@chiral/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReceiver, relayDialer, TRANSFER_PROTOCOL } from '../src/index.js'
import { libp2pStreamChannel } from '../src/channels/libp2p-stream.js'
import { decodeMessage, encodeOpen } from '../src/protocol/messages.js'
import { spawnProvider } from './support/child-provider.js'
import { randomFile, removeDir, sha256File, tempDir } from './support/files.js'
import { startRelayNetwork } from './support/relay-network.js'
import type { ChildProvider } from './support/child-provider.js'
import type { RelayNetwork } from './support/relay-network.js'
import type { MessageChannel, PeerTarget } from '@chiral/core'

const MiB = 1024 * 1024
const IDLE_TIMEOUT = 1500
const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function rssOf (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1])
  return kb * 1024
}

/** The largest message the stream channel carries, shaped as a Request (1 + 4·n bytes): ~1M copies of a few indexes. */
function hugeRequest (): Uint8Array {
  const count = Math.floor((4 * MiB - 1) / 4)
  const out = new Uint8Array(1 + 4 * count)
  const view = new DataView(out.buffer)
  out[0] = 0x02
  for (let i = 0; i < count; i++) view.setUint32(1 + 4 * i, i % 8)
  return out
}

describe('provider under abuse (own process, behind a relay)', () => {
  let net: RelayNetwork
  let dir: string
  let source: string
  let provider: ChildProvider

  beforeAll(async () => {
    dir = await tempDir()
    source = await randomFile(join(dir, 'shared.bin'), 32 * MiB)
    net = await startRelayNetwork(3)
    provider = await spawnProvider(net.relay, source, 'shared.bin', 30_000, { idleTimeout: IDLE_TIMEOUT })
  })

  afterAll(async () => {
    await provider?.stop()
    await net?.stop()
    await removeDir(dir)
  })

  it('stays under +128 MiB RSS while 32 never-reading streams flood 4 MiB Requests, and a legitimate fetch completes', async () => {
    const pid = provider.child.pid!
    const cid = parseContentId(provider.cid)
    const attacker = relayDialer(net.peers[1]!)
    const target: PeerTarget = provider.target
    const before = await rssOf(pid)
    let peak = before
    const sampling = setInterval(() => { void rssOf(pid).then((rss) => { peak = Math.max(peak, rss) }, () => {}) }, 100)

    const flood = hugeRequest()
    let stop = false
    let streams = 0
    let cut = 0
    let sentBytes = 0
    const open: MessageChannel[] = []
    const attackStream = async (): Promise<void> => {
      while (!stop) {
        let channel: MessageChannel | undefined
        try {
          const stream = await connection.newStream(TRANSFER_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
          channel = libp2pStreamChannel(stream, { method: 'relay' })
          open.push(channel)
          streams++
          // Never read: nothing iterates the channel, which pauses the stream once 16 MiB wait.
          await channel.send(encodeOpen(cid, true))
          while (!stop) {
            await channel.send(flood)
            sentBytes += flood.byteLength
          }
        } catch {
          cut++
          await sleep(200)
        }
      }
    }
    // One connection: the first dial opens it, every stream of the attack is opened on it.
    const warmUp = await attacker.dial(target, TRANSFER_PROTOCOL)
    warmUp.abort(new Error('warm-up'))
    const connection = net.peers[1]!.getConnections().find((c) => c.remotePeer.toString() === target.peerId)!
    const attacks = Array.from({ length: 32 }, async () => attackStream())
    await sleep(2000)

    const receiver = createReceiver({ node: net.peers[0]! })
    await receiver.start()
    const started = Date.now()
    try {
      const result = await receiver.fetch(provider.cid, {
        providers: [target], destination: join(dir, 'out'), signal: AbortSignal.timeout(60_000)
      })
      expect(await sha256File(result.path!)).toBe(await sha256File(source))
    } finally {
      await receiver.stop()
    }
    const fetchMs = Date.now() - started
    // Keep the attack going for at least 10 s in all.
    await sleep(Math.max(0, 8000 - fetchMs))
    stop = true
    for (const channel of open) channel.abort(new Error('attack over'))
    await Promise.allSettled(attacks)
    clearInterval(sampling)
    const after = await rssOf(pid)
    peak = Math.max(peak, after)
    console.log(JSON.stringify({
      rssBeforeMiB: +(before / MiB).toFixed(1),
      rssPeakMiB: +(peak / MiB).toFixed(1),
      rssAfterMiB: +(after / MiB).toFixed(1),
      attackStreams: streams,
      attackStreamsCut: cut,
      attackSentMiB: +(sentBytes / MiB).toFixed(1),
      fetchMs
    }))
    expect(streams).toBeGreaterThanOrEqual(32)
    expect(connection.status).toBe('open')
    expect(peak - before).toBeLessThan(128 * MiB)
  }, 90_000)

  it('closes a session that goes silent, and one that never says anything, within its idle timeout', async () => {
    const cid = parseContentId(provider.cid)
    // A peer of its own: the attacker's sessions may still be winding down and count against its per-peer cap.
    const dialer = relayDialer(net.peers[2]!)
    const closedAfter = async (channel: MessageChannel, since: number): Promise<number> => {
      const messages = channel[Symbol.asyncIterator]()
      try {
        for (;;) {
          const next = await messages.next()
          if (next.done === true) break
        }
      } catch {}
      return Date.now() - since
    }

    const quiet = await dialer.dial(provider.target, TRANSFER_PROTOCOL)
    const silentSince = Date.now()
    const silent = closedAfter(quiet, silentSince)

    const opened = await dialer.dial(provider.target, TRANSFER_PROTOCOL)
    await opened.send(encodeOpen(cid, false))
    const messages = opened[Symbol.asyncIterator]()
    const first = await messages.next()
    expect(decodeMessage(first.value as Uint8Array)).toEqual({ type: 'ready' })
    const readyAt = Date.now()
    let ended = false
    try {
      for (;;) {
        const next = await Promise.race([messages.next(), sleep(IDLE_TIMEOUT * 4).then(() => 'timeout' as const)])
        if (next === 'timeout') break
        if (next.done === true) { ended = true; break }
      }
    } catch {
      ended = true
    }
    const openedMs = Date.now() - readyAt
    const silentMs = await Promise.race([silent, sleep(IDLE_TIMEOUT * 4).then(() => Infinity)])
    console.log(JSON.stringify({ idleTimeout: IDLE_TIMEOUT, openedClosedAfterMs: openedMs, silentClosedAfterMs: silentMs }))
    expect(ended).toBe(true)
    expect(openedMs).toBeGreaterThanOrEqual(IDLE_TIMEOUT - 200)
    expect(openedMs).toBeLessThan(IDLE_TIMEOUT + 2000)
    expect(silentMs).toBeLessThan(IDLE_TIMEOUT + 2000)
    opened.abort(new Error('done'))
    quiet.abort(new Error('done'))
  }, 30_000)
})
