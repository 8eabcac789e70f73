import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createLab, labSupport, namespacesWithPrefix, PUB_IP } from './lab.js'
import type { ChildProcess } from 'node:child_process'
import type { Lab } from './lab.js'

/**
 * The WAN lab's link profiles do what they say, measured with real packets:
 * delay on each router's WAN egress (NFQUEUE + wan/delay.c), random loss on
 * it (iptables statistic), and nothing left running afterwards.
 */
const PROBE = fileURLToPath(new URL('./wan/probe.ts', import.meta.url))
const TEST_DIR = fileURLToPath(new URL('..', import.meta.url))

const support = labSupport({ wan: true })
if (!support.ok) console.warn(`WAN lab test skipped: ${support.reason}`)

function probe (lab: Lab, ns: string, args: string[]): ChildProcess {
  return lab.spawn(ns, process.execPath, ['--import', 'tsx', PROBE, ...args], { cwd: TEST_DIR })
}

/** Resolves with the first stdout line for which `pick` returns a value. */
async function line<T> (child: ChildProcess, pick: (line: string) => T | undefined, what: string): Promise<T> {
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${what}: nothing in 20 s\n${out}\n${err}`)) }, 20_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      for (const l of out.split('\n')) {
        const v = pick(l)
        if (v !== undefined) { clearTimeout(timer); resolve(v); return }
      }
    })
    child.once('close', (code) => { clearTimeout(timer); reject(new Error(`${what} exited with ${String(code)}\n${out}\n${err}`)) })
  })
}

const ready = (l: string): true | undefined => l === 'ready' ? true : undefined
const json = <K extends string>(key: K) => (l: string): Record<K, any> | undefined => {
  if (!l.startsWith('{')) return undefined
  const v = JSON.parse(l) as Record<K, any>
  return key in v ? v : undefined
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!

/** Destroys the lab and checks that no namespace and none of its processes survive. */
async function destroyAndCheck (lab: Lab): Promise<void> {
  const pids: number[] = []
  for (const ns of Object.values(lab.namespaces)) {
    const out = await lab.run(ns, 'ip', ['netns', 'pids', ns]).catch(() => '')
    pids.push(...out.split('\n').filter(Boolean).map(Number))
  }
  await lab.destroy()
  expect(lab.liveProcesses()).toBe(0)
  expect(namespacesWithPrefix(lab.prefix)).toEqual([])
  // A zombie (exited, not yet reaped by its parent) holds nothing: only running processes count.
  const isAlive = (pid: number): boolean => {
    try { process.kill(pid, 0) } catch { return false }
    try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) } catch { return false }
  }
  // A second's grace for a process still being reaped; anything left after that leaked.
  for (let i = 0; i < 20 && pids.some(isAlive); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  const alive = pids.filter(isAlive)
  expect(alive.map((pid) => { try { return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}` } catch { return String(pid) } })).toEqual([])
}

describe.skipIf(!support.ok)('WAN lab profiles (cone × cone)', { timeout: 45_000 }, () => {
  it('rtt100 adds 50 ms on each router egress: ≈ 50 ms home ↔ pub, ≈ 100 ms home ↔ home', async () => {
    const lab = await createLab({ natA: 'cone', natB: 'cone', wan: 'rtt100', tcpCongestion: 'cubic' })
    try {
      expect(lab.wan).toEqual({ name: 'rtt100', delayMs: 50, loss: 0 })
      const pubEcho = probe(lab, lab.namespaces.pub, ['echo', '7000'])
      const homeEcho = probe(lab, lab.namespaces.hb, ['echo', '7000'])
      await line(pubEcho, ready, 'echo in pub')
      await line(homeEcho, ready, 'echo in home b')

      // Home a → pub crosses ra's egress only (the reply comes in on ra's WAN side).
      const toPub = await line(probe(lab, lab.namespaces.ha, ['ping', PUB_IP, '7000', '6']), json('rtts'), 'ping pub')
      // Home a → home b (through b's cone NAT): ra's egress there, rb's egress back.
      const toHome = await line(probe(lab, lab.namespaces.ha, ['ping', lab.wanIp.b, '7000', '6']), json('rtts'), 'ping home b')
      console.log(`rtt100 (UDP): home→pub ${median(toPub.rtts).toFixed(1)} ms, home→home ${median(toHome.rtts).toFixed(1)} ms`)
      expect(toPub.rtts.length).toBe(6)
      expect(toHome.rtts.length).toBe(6)
      expect(median(toPub.rtts)).toBeGreaterThanOrEqual(49)
      expect(median(toPub.rtts)).toBeLessThan(75)
      expect(median(toHome.rtts)).toBeGreaterThanOrEqual(99)
      expect(median(toHome.rtts)).toBeLessThan(130)
      expect(Math.min(...toHome.rtts)).toBeGreaterThanOrEqual(99)
      expect(await lab.wanDrops('a')).toBe(0)

      // TCP home a → pub: the handshake takes one home ↔ pub round trip, and both
      // ends run the congestion control asked for.
      const listener = probe(lab, lab.namespaces.pub, ['listen', '7002'])
      await line(listener, ready, 'TCP listener in pub')
      const accepted = line(listener, json('accepted'), 'TCP accept')
      const { connectMs } = await line(probe(lab, lab.namespaces.ha, ['connect', PUB_IP, '7002']), json('connectMs'), 'TCP connect')
      await accepted // the handshake's last ACK is still on its way when the client is connected
      expect(connectMs).toBeGreaterThanOrEqual(49)
      expect(connectMs).toBeLessThan(100)
      for (const ns of [lab.namespaces.ha, lab.namespaces.pub]) {
        const ss = await lab.run(ns, 'ss', ['-tin', 'state', 'established', '( sport = :7002 or dport = :7002 )'])
        expect(ss, `TCP info in ${ns}`).toMatch(/\bcubic\b/)
      }
    } finally {
      await destroyAndCheck(lab)
    }
    // Every ping and echo went through both delay programs; none overflowed.
    for (const side of ['a', 'b'] as const) {
      const c = lab.delayCounters[side]
      expect(c, `delay program ${side} counters`).toBeDefined()
      expect(c!.packets).toBeGreaterThanOrEqual(6)
      expect(c!.enobufs + c!.queueDropped + c!.userDropped).toBe(0)
    }
  })

  it('rtt40-loss1 drops ≈ 1 % of the packets leaving a router', async () => {
    const lab = await createLab({ natA: 'cone', natB: 'cone', wan: 'rtt40-loss1', stun: false })
    const total = 5000
    try {
      // Counted as they reach pub, before any socket (a busy sink could drop some itself).
      await lab.run(lab.namespaces.pub, 'iptables', ['-w', '-A', 'INPUT', '-p', 'udp', '--dport', '7001'])
      const sink = probe(lab, lab.namespaces.pub, ['sink', '7001'])
      await line(sink, ready, 'sink in pub')
      const blast = await line(probe(lab, lab.namespaces.ha, ['blast', PUB_IP, '7001', String(total)]), json('sent'), 'blast')
      expect(blast.sent).toBe(total)
      await new Promise((resolve) => setTimeout(resolve, 100)) // > the 20 ms delay
      const counted = await lab.run(lab.namespaces.pub, 'iptables', ['-w', '-L', 'INPUT', '-v', '-x', '-n'])
      const arrived = Number(counted.split('\n').find((l) => l.includes('dpt:7001'))?.trim().split(/\s+/)[0])
      const drops = await lab.wanDrops('a')
      console.log(`rtt40-loss1: ${drops} of ${total} dropped on ra's egress, ${arrived} arrived in pub`)
      // 1 % of 5000 = 50; a binomial stays within 15..110 essentially always.
      expect(drops).toBeGreaterThanOrEqual(15)
      expect(drops).toBeLessThanOrEqual(110)
      // What the rule dropped is exactly what is missing.
      expect(arrived).toBe(total - drops)
      expect(await lab.wanDrops('b')).toBe(0)
    } finally {
      await destroyAndCheck(lab)
    }
    const c = lab.delayCounters.a
    expect(c!.packets).toBeGreaterThanOrEqual(total - 110)
    expect(c!.enobufs + c!.queueDropped + c!.userDropped).toBe(0)
  })
})
