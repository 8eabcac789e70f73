/** chiral-node's flags for running several instances: --bootstrap and --signaling-url. */
import { describe, expect, it } from 'vitest'
import { helpText, parseConfig } from '../../apps/node/src/config.js'
import type { NodeConfig } from '../../apps/node/src/config.js'

const ID1 = '12D3KooWQVZrcX7waJZhdpLwfkhVLJxpg89oBak41y1h8MHPsisM'
const ID2 = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const A = `/ip4/10.0.0.1/tcp/4001/p2p/${ID1}`
const B = `/dns4/node-b.example/tcp/4001/p2p/${ID2}`

const config = (argv: string[], env: NodeJS.ProcessEnv = {}): NodeConfig => {
  const parsed = parseConfig(argv, env)
  if (parsed.help) throw new Error('unexpected --help')
  return parsed.config
}

describe('chiral-node flags for several instances', () => {
  it('takes --bootstrap more than once, or comma-separated in CHIRAL_BOOTSTRAP; flags win', () => {
    expect(config([]).bootstrap).toEqual([])
    expect(config(['--bootstrap', A, '--bootstrap', B]).bootstrap).toEqual([A, B])
    expect(config([], { CHIRAL_BOOTSTRAP: `${A}, ${B},` }).bootstrap).toEqual([A, B])
    expect(config(['--bootstrap', B], { CHIRAL_BOOTSTRAP: A }).bootstrap).toEqual([B])
    expect(config(['--bootstrap', `${A},${A}`]).bootstrap).toEqual([A])
  })

  it('refuses a bootstrap address without a peer id, and a signaling URL that is not ws(s)', () => {
    expect(() => parseConfig(['--bootstrap', '/ip4/10.0.0.1/tcp/4001'], {})).toThrow(/--bootstrap: .* ending in \/p2p\/<peer id>/)
    expect(() => parseConfig(['--bootstrap', 'node-b:4001'], {})).toThrow(/--bootstrap/)
    expect(() => parseConfig(['--signaling-url', 'https://signal.example.org'], {})).toThrow(/--signaling-url: .* ws:\/\/ or wss:\/\//)
  })

  it('takes the URLs clients reach the signaling server at, for /health', () => {
    expect(config([]).signalingUrls).toEqual([])
    expect(config(['--signaling-url', 'wss://a.example.org', '--signaling-url', 'ws://203.0.113.10:9000']).signalingUrls).toEqual(['wss://a.example.org', 'ws://203.0.113.10:9000'])
    expect(config([], { CHIRAL_SIGNALING_URL: 'wss://a.example.org' }).signalingUrls).toEqual(['wss://a.example.org'])
    expect(helpText()).toMatch(/--bootstrap <value> .*repeatable.*\[env CHIRAL_BOOTSTRAP\]/)
  })
})
