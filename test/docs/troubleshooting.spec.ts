/**
 * The "confirm" commands of docs/troubleshooting.md marked (tested), run
 * against a real node: what they print is what the guide says they print.
 * Everything runs inside a network namespace this file creates.
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBrowserNetns, netnsUnavailable } from '../browser/support/netns.js'
import { startChiralNode } from '../browser/support/node-process.js'
import { buildBundles, CLI, NODE_BUNDLE } from '../cli/support.js'
import type { BrowserNetns } from '../browser/support/netns.js'
import type { ChiralNodeProcess } from '../browser/support/node-process.js'

const exec = promisify(execFile)
const REPO = new URL('../..', import.meta.url).pathname
const WORK = join(REPO, '.tmp', 'troubleshooting')
const GUIDE = readFileSync(join(REPO, 'docs', 'troubleshooting.md'), 'utf8')
const UNKNOWN = 'bafyreifbo4d6zfu7c7wku7kuebvi5s2fmpaznd2jzcidrqj5754x4eew4u'

const skip = await netnsUnavailable()
if (skip !== undefined) console.warn(`[troubleshooting] skipped: ${skip}`)

interface Ran { code: number | null, stdout: string, stderr: string }

describe.skipIf(skip !== undefined)('docs/troubleshooting.md: the tested confirm commands', () => {
  let ns: BrowserNetns
  let node: ChiralNodeProcess
  const inNs = (command: string, args: string[]): ReturnType<typeof spawn> =>
    spawn('ip', ['netns', 'exec', ns.name, command, ...args], { cwd: WORK, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } })
  const chiral = async (args: string[], ms = 60_000): Promise<Ran> => {
    const child = inNs(process.execPath, [CLI, ...args])
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, ms)
    const code = await new Promise<number | null>((resolve) => { child.once('exit', resolve) })
    clearTimeout(timer)
    return { code, stdout, stderr }
  }
  const curl = async (path: string): Promise<string> =>
    (await exec('ip', ['netns', 'exec', ns.name, 'node', '-e', `fetch(${JSON.stringify(node.signalingUrl.replace(/^ws/, 'http') + path)}).then(r => r.text()).then(t => process.stdout.write(t))`])).stdout

  beforeAll(async () => {
    rmSync(WORK, { recursive: true, force: true })
    mkdirSync(WORK, { recursive: true })
    await buildBundles()
    ns = await createBrowserNetns('chiral-trbl')
    // 1 MiB/s per relayed connection: a 14 MiB fetch outlasts the direct path's 10 s connect timeout.
    node = await startChiralNode({ bundle: NODE_BUNDLE, host: '0.0.0.0', workDir: WORK, netns: ns.name, args: ['--datastore', 'memory', '--relay-rate-limit', '1MiB', '--log-level', 'info'] })
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    await ns?.delete()
    rmSync(WORK, { recursive: true, force: true })
  })

  it('relay limits: /health counts, /metrics lines and the limits in the log', async () => {
    expect(GUIDE).toContain('counts.relayReservations, counts.relayedCircuits')
    const health = JSON.parse(await curl('/health')) as { counts: Record<string, number>, multiaddrs: string[], peerId: string }
    expect(Object.keys(health.counts)).toEqual(expect.arrayContaining(['relayReservations', 'relayedCircuits', 'providerRecords']))
    const metrics = (await curl('/metrics')).split('\n').filter((l) => /^chiral_relay_(reservations|circuits)/.test(l))
    expect(metrics.length).toBeGreaterThanOrEqual(2)
    expect(node.output()).toMatch(/relay limits .*rateLimitBytesPerSecond/)
  })

  it('a node behind a NAT: /health lists the multiaddrs peers are given', async () => {
    const text = await curl('/health')
    const listed = /"multiaddrs":\[[^\]]*\]/.exec(text)?.[0]
    expect(listed).toBeDefined()
    expect(listed).toContain(`/ip4/${ns.address}/tcp/`)
  })

  it('relay-lookup-failed names the /health URL and why; no-providers is the last --json event', async () => {
    // Nothing listens on 127.0.0.1:9100 inside the namespace.
    const down = await chiral(['get', UNKNOWN, '--signaling', 'ws://127.0.0.1:9100'])
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(/^chiral: cannot reach the node at ws:\/\/127\.0\.0\.1:9100: cannot ask http:\/\/127\.0\.0\.1:9100\/health for the relay's addresses: ECONNREFUSED \[relay-lookup-failed\]\n$/)
    const none = await chiral(['get', UNKNOWN, '--signaling', node.signalingUrl, '--json', '--find-timeout', '2'])
    expect(none.code).toBe(1)
    const last = JSON.parse(none.stdout.trim().split('\n').at(-1)!) as { event: string, code: string, message: string }
    expect(last).toMatchObject({ event: 'error', code: 'no-providers', exitCode: 1 })
    console.log(`[troubleshooting] no-providers: ${JSON.stringify(last)}`)
  })

  it('UDP blocked: the direct path\'s dial fails after the connect timeout and the relay carries', async () => {
    await exec('ip', ['netns', 'exec', ns.name, 'iptables', '-w', '-I', 'OUTPUT', '-p', 'udp', '-j', 'DROP'])
    const file = join(WORK, 'udp.bin')
    writeFileSync(file, randomBytes(14 * 1024 * 1024))
    const share = inNs(process.execPath, [CLI, 'share', file, '--signaling', node.signalingUrl, '--json'])
    try {
      let out = ''
      share.stdout!.on('data', (d: Buffer) => { out += d.toString() })
      const deadline = Date.now() + 30_000
      while (!out.includes('"event":"ready"') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      const cid = /"cid":"([^"]+)"/.exec(out)?.[1]
      expect(cid).toBeDefined()
      const got = await chiral(['get', cid!, '-o', join(WORK, 'got'), '--signaling', node.signalingUrl, '--json'], 90_000)
      expect(got.code, got.stderr).toBe(0)
      const events = got.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      const failed = events.find((e) => e.event === 'path' && e.type === 'failed' && e.path === 'webrtc')
      expect(failed, got.stdout).toBeDefined()
      expect(String(failed!.error)).toMatch(/^No WebRTC connection to \S+ within 10000 ms$/)
      expect(events.find((e) => e.event === 'done')).toMatchObject({ method: 'relay' })
    } finally {
      share.kill('SIGKILL')
      await exec('ip', ['netns', 'exec', ns.name, 'iptables', '-w', '-D', 'OUTPUT', '-p', 'udp', '-j', 'DROP']).catch(() => {})
    }
  }, 120_000)
})
