/**
 * The built `chiral` command against a real node, each side its own process:
 * share + get (hashes equal, summary and served lines), --json events, an
 * interrupted get resumed by a re-run, usage and network errors with their
 * exit codes, and `chiral node`.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildBundles, chiral, chiralRun, closedPort, jsonEvents, killAll, nodeArgs, sha256File, startNode, stop
} from './support.js'
import type { Proc } from './support.js'
import type { ChiralNodeProcess } from '../browser/support/node-process.js'

const MiB = 1024 * 1024
/** The receiver's window: 8 chunks of 1 MiB in flight per channel. */
const WINDOW_BYTES = 8 * MiB
const SMALL = 6 * MiB
const BIG = 32 * MiB

function writeRandomFile (path: string, size: number): void {
  writeFileSync(path, randomBytes(size))
}

/** The content id a human-mode sharer printed for `name`. */
function sharedId (stdout: string, name: string): string {
  const m = new RegExp(`shared ${name.replace('.', '\\.')} \\([^)]*\\)\\n {2}id: {3}(\\S+)\\n {2}link: (\\S+)`).exec(stdout)
  if (m === null) throw new Error(`no id for ${name} in:\n${stdout}`)
  return m[1]!
}

describe('chiral (built command, real node)', () => {
  let work: string
  let node: ChiralNodeProcess
  let sharer: Proc
  let jsonSharer: Proc
  let small: string
  let big: string
  let smallId: string
  let smallLink: string
  let bigId: string
  /** Every peer on loopback: the node's signaling URL, relay only (the direct path would use this host's other addresses). */
  let net: string[]

  beforeAll(async () => {
    await buildBundles()
    work = mkdtempSync(join(tmpdir(), 'chiral-cli-test-'))
    // Relayed connections capped at 4 MiB/s: a relay-only fetch of BIG takes ~8 s, time to interrupt it.
    node = await startNode(work, ['--relay-rate-limit', '4MiB'])
    net = ['--signaling', node.signalingUrl, '--no-direct']
    small = join(work, 'small.bin')
    big = join(work, 'big.bin')
    writeRandomFile(small, SMALL)
    writeRandomFile(big, BIG)
    sharer = chiral(['share', small, ...net], work)
    jsonSharer = chiral(['share', big, ...net, '--json'], work)
    await sharer.waitFor((out) => out.includes('link: '))
    smallId = sharedId(sharer.stdout(), 'small.bin')
    smallLink = /link: (\S+)/.exec(sharer.stdout())![1]!
    await jsonSharer.waitFor((out) => out.includes('"event":"ready"'))
    bigId = jsonEvents(jsonSharer.stdout()).find((e) => e.event === 'shared')!.cid as string
  }, 60_000)

  afterAll(async () => {
    await Promise.all([stop(sharer), stop(jsonSharer)])
    await node?.stop()
    killAll()
    if (work !== undefined) rmSync(work, { recursive: true, force: true })
  })

  it('shares in one process and gets in another: same bytes, a summary, a served line', async () => {
    expect(smallLink).toContain(smallId)
    const out = join(work, 'out1')
    const r = await chiralRun(['get', smallId, '-o', out, ...net], work)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(await sha256File(join(out, 'small.bin'))).toBe(await sha256File(small))
    expect(r.stdout).toMatch(/^fetched small\.bin: 6\.3 MB in \S+ m?s \([\d.]+ [kMG]?B\/s\), mostly relay$/m)
    expect(r.stdout).toMatch(/^ {2}paths: relay 6\.3 MB$/m)
    expect(r.stdout).toContain(`saved to ${join(out, 'small.bin')}`)
    await sharer.waitFor((s) => /^served \S+ via relay: [\d.]+ [kMG]?B in \S+ m?s \([\d.]+ [kMG]?B\/s\)$/m.test(s), 10_000)
    console.log(`get summary:\n${r.stdout}sharer:\n${sharer.stdout()}`)
  })

  it('--json: every stdout line is a JSON event, ending with done', async () => {
    const out = join(work, 'out2')
    const r = await chiralRun(['get', smallLink, '-o', out, ...net, '--json'], work)
    expect(r.code).toBe(0)
    const events = jsonEvents(r.stdout)
    const names = events.map((e) => e.event)
    expect(names[0]).toBe('started')
    expect(names).toContain('finding')
    expect(names).toContain('progress')
    const done = events.at(-1)!
    expect(done.event).toBe('done')
    expect(done.method).toBe('relay')
    expect(done.bytes).toBe(SMALL)
    expect(done.path).toBe(join(out, 'small.bin'))
    expect(await sha256File(join(out, 'small.bin'))).toBe(await sha256File(small))
  })

  it('an interrupted get exits 130, and the same command run again resumes', async () => {
    const out = join(work, 'out3')
    const args = ['get', bigId, '-o', out, ...net, '--json']
    const first = chiral(args, work)
    const progressed = (s: string): number => Math.max(0, ...jsonEvents(s).filter((e) => e.event === 'progress').map((e) => e.bytes as number))
    await first.waitFor((s) => progressed(s) >= 8 * MiB, 30_000)
    first.kill('SIGINT')
    expect(await first.exited).toBe(130)
    const seen = progressed(first.stdout())
    expect(first.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^chiral: interrupted by SIGINT; run the same command again to resume$/)])
    expect(jsonEvents(first.stdout()).at(-1)).toMatchObject({ event: 'error', code: 'interrupted', exitCode: 130 })
    expect(readdirSync(out).sort()).toEqual(['big.bin.part', 'big.bin.part.json'])

    const second = await chiralRun(args, work)
    expect(second.code).toBe(0)
    const done = jsonEvents(second.stdout).at(-1)!
    expect(done).toMatchObject({ event: 'done', bytes: BIG, path: join(out, 'big.bin') })
    expect(readdirSync(out)).toEqual(['big.bin'])
    expect(await sha256File(join(out, 'big.bin'))).toBe(await sha256File(big))
    const resumed = done.resumedBytes as number
    const transferred = done.transferredBytes as number
    // Everything verified before the interrupt is kept; the re-run fetches only the rest (plus at most a window of copies).
    expect(resumed).toBeGreaterThanOrEqual(seen)
    expect(transferred).toBeLessThanOrEqual(BIG - resumed + WINDOW_BYTES)

    // What the sharer sent for this file over both runs, beyond the file's size, is what was sent twice.
    const sent = (): number => jsonEvents(jsonSharer.stdout()).filter((e) => e.event === 'served' && e.cid === bigId).reduce((n, e) => n + (e.bytes as number), 0)
    await jsonSharer.waitFor(() => sent() >= BIG, 10_000)
    const resent = sent() - BIG
    console.log(`resume: interrupted at ${seen} verified bytes; re-run resumed ${resumed}, received ${transferred} of ${BIG}; sharer sent ${sent()} in all, ${resent} bytes twice (window ${WINDOW_BYTES})`)
    expect(resent).toBeLessThanOrEqual(WINDOW_BYTES)
  }, 60_000)

  it('a bad id, a missing file or a bad flag exits 2 with one line; an unreachable node exits 1 naming its URL', async () => {
    const bad = await chiralRun(['get', 'not-a-content-id'], work)
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^chiral: not a content id: "not-a-content-id" \[invalid-content-id\]$/)])

    const missing = await chiralRun(['share', join(work, 'nothing-here.bin')], work)
    expect(missing.code).toBe(2)
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^chiral: no such file: .*nothing-here\.bin$/)])

    const flag = await chiralRun(['get', '--frobnicate', smallId], work)
    expect(flag.code).toBe(2)
    expect(flag.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^chiral: unknown option '--frobnicate'/)])

    const url = `ws://127.0.0.1:${await closedPort()}`
    const down = await chiralRun(['get', smallId, '--signaling', url], work)
    expect(down.code).toBe(1)
    const lines = down.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^chiral: cannot reach the node at ${url}: .*ECONNREFUSED.* \\[relay-lookup-failed\\]$`))
    console.log(`errors:\n${bad.stderr}${missing.stderr}${flag.stderr}${down.stderr}`)
  })

  it('chiral node runs the node: --help, and a start stopped by SIGTERM', async () => {
    const help = await chiralRun(['node', '--help'], work)
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: chiral node \[options\]$/m)
    expect(help.stdout).toContain('--relay-rate-limit')

    const dir = mkdtempSync(join(work, 'node-'))
    const proc = chiral(['node', ...nodeArgs(dir)], dir)
    await proc.waitFor((s) => /libp2p multiaddrs[\s\S]*\/p2p\/\S+\n/.test(s))
    const url = /signaling: (\S+)/.exec(proc.stdout())![1]!.replace(/^ws/, 'http')
    const health = await (await fetch(`${url}/health`)).json() as { peerId?: string }
    expect(proc.stdout()).toContain(`peer id ${health.peerId}`)
    proc.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
    expect(existsSync(join(dir, 'node.key'))).toBe(true)
  }, 30_000)
})
