/**
 * Every runnable example of the READMEs (code blocks opened with
 * ```js <name>.mjs), run as it is against a real chiral-node, inside a
 * network namespace this file creates: the root README's share.mjs in one
 * process and fetch.mjs in another, and every other block as a whole
 * program that must end by itself with exit code 0.
 */
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBrowserNetns, netnsUnavailable } from '../browser/support/netns.js'
import { startChiralNode } from '../browser/support/node-process.js'
import { codeBlocks } from './code-blocks.js'
import type { BrowserNetns } from '../browser/support/netns.js'
import type { ChiralNodeProcess } from '../browser/support/node-process.js'
import type { ChildProcess } from 'node:child_process'

const REPO = new URL('../..', import.meta.url).pathname
const NODE_BUNDLE = join(REPO, 'apps', 'node', 'dist', 'chiral-node.mjs')
// Inside test/ so that the packages resolve from the examples as they do in an app.
const WORK = join(REPO, 'test', '.doc-examples')
const READMES = ['README.md', 'packages/peer/README.md', 'packages/transport/README.md']
const BLOCKS = READMES.flatMap((readme) => codeBlocks(REPO, readme))
const PAIR = new Set(['share.mjs', 'fetch.mjs'])

const skip = await netnsUnavailable()
if (skip !== undefined) console.warn(`[docs examples] skipped: ${skip}`)

interface Run { child: ChildProcess, out: () => string, exit: Promise<number | null> }

describe.skipIf(skip !== undefined)('the READMEs\' examples, run as they are', () => {
  let ns: BrowserNetns | undefined
  let node: ChiralNodeProcess | undefined
  const env = (): Record<string, string> => ({
    CHIRAL_SIGNALING: node!.signalingUrl,
    CHIRAL_RELAY: node!.multiaddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/ws'))!
  })
  const run = (script: string, args: string[], cwd: string): Run => {
    // Sources through the `source` condition, as every test here; the code is the README's.
    const child = spawn('ip', ['netns', 'exec', ns!.name, process.execPath, '--conditions=source', '--import', 'tsx', script, ...args], {
      cwd, env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
    const exit = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
    return { child, out: () => out, exit }
  }
  const waitFor = async (what: () => RegExpExecArray | null, r: Run, ms: number): Promise<RegExpExecArray> => {
    const deadline = Date.now() + ms
    for (;;) {
      const m = what()
      if (m !== null) return m
      if (r.child.exitCode !== null || Date.now() > deadline) throw new Error(`gave up waiting; output:\n${r.out()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const within = async (r: Run, ms: number): Promise<number | null | 'still running'> =>
    Promise.race([r.exit, new Promise<'still running'>((resolve) => setTimeout(() => { resolve('still running') }, ms))])

  beforeAll(async () => {
    if (!existsSync(NODE_BUNDLE)) throw new Error('build the node first: pnpm --filter ./apps/node build')
    rmSync(WORK, { recursive: true, force: true })
    mkdirSync(WORK, { recursive: true })
    ns = await createBrowserNetns('chiral-docs')
    node = await startChiralNode({ bundle: NODE_BUNDLE, host: '0.0.0.0', workDir: WORK, netns: ns.name, args: ['--datastore', 'memory'] })
  })

  afterAll(async () => {
    await node?.stop()
    await ns?.delete()
    rmSync(WORK, { recursive: true, force: true })
  })

  it('finds the examples where the READMEs put them', () => {
    expect(BLOCKS.map((b) => `${b.readme}:${b.name}`)).toEqual(expect.arrayContaining([
      'README.md:share.mjs', 'README.md:fetch.mjs', 'README.md:content-id.mjs',
      'packages/peer/README.md:events.mjs', 'packages/transport/README.md:relay-transfer.mjs', 'packages/transport/README.md:race.mjs'
    ]))
  })

  it('README.md: share.mjs in one process, fetch.mjs in another: same bytes, and both processes end by themselves', async () => {
    const dir = join(WORK, 'pair')
    mkdirSync(join(dir, 'downloads'), { recursive: true })
    for (const b of BLOCKS.filter((b) => b.readme === 'README.md' && PAIR.has(b.name))) writeFileSync(join(dir, b.name), b.code)
    const content = randomBytes(6 * 1024 * 1024 + 12345)
    writeFileSync(join(dir, 'report.bin'), content)
    const share = run('share.mjs', ['report.bin'], dir)
    try {
      const [, cid] = await waitFor(() => /sharing (\S+)/.exec(share.out()), share, 30_000)
      expect(share.out()).toContain(`#/download/${cid}`)
      const fetch = run('../fetch.mjs', [cid!], join(dir, 'downloads'))
      expect(await within(fetch, 60_000), fetch.out()).toBe(0)
      const saved = /saved (.+): (\d+) bytes, mostly by (\S+)/.exec(fetch.out())
      expect(saved, fetch.out()).not.toBeNull()
      expect(Number(saved![2])).toBe(content.length)
      expect(['webrtc-direct', 'relay']).toContain(saved![3])
      const got = readFileSync(join(dir, 'downloads', saved![1]!.replace(/^.*\//, '')))
      expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(content).digest('hex'))
      await waitFor(() => /sent \d+ bytes by/.exec(share.out()), share, 10_000)
      // Ctrl-C: the example stops its peer, and nothing keeps the process alive.
      share.child.kill('SIGINT')
      expect(await within(share, 10_000), share.out()).toBe(0)
      console.log(`[docs] share.mjs / fetch.mjs: ${saved![2]} bytes, mostly by ${saved![3]}`)
    } finally {
      share.child.kill('SIGKILL')
    }
  }, 120_000)

  for (const block of BLOCKS.filter((b) => !(b.readme === 'README.md' && PAIR.has(b.name)))) {
    it(`${block.readme}: ${block.name} runs and ends by itself`, async () => {
      const dir = join(WORK, block.readme.replace(/\W+/g, '-'), block.name.replace(/\.mjs$/, ''))
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, block.name), block.code)
      const r = run(block.name, [], dir)
      const code = await within(r, 60_000)
      r.child.kill('SIGKILL')
      expect(code, r.out()).toBe(0)
      console.log(`[docs] ${block.readme} ${block.name}:\n${r.out().replace(/\r[^\n]*(?=\r)/g, '').trim()}`)
    }, 90_000)
  }
})
