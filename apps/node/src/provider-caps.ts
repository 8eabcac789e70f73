import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Datastore, Key, KeyQuery, Pair, Query } from 'interface-datastore'

/** Where kad-dht's Providers class keeps records: `/dht/provider/<base32 multihash>/<provider peer id>`. */
export const PROVIDER_PREFIX = '/dht/provider/'

export interface ProviderCaps {
  /** Records kept from one provider peer. */
  maxRecordsPerPeer: number
  /** Records kept in all. */
  maxRecords: number
}

export interface ProviderCounts {
  /** Provider records stored now. */
  records: number
  /** Peers with at least one record stored. */
  peers: number
  /** New records dropped by a cap since start. */
  refused: number
}

/**
 * The node's datastore with a cap on DHT provider records, per provider peer
 * and in all, and their counts kept in memory (so /health and /metrics need
 * not walk the records).
 *
 * kad-dht stores each ADD_PROVIDER it accepts with one `put` of
 * `/dht/provider/<multihash>/<peer id>` (the peer id is the sender's: it
 * ignores records for other peers) and deletes expired ones (48 h) with
 * `delete`. A `put` of a new provider key beyond a cap is dropped: it resolves
 * without writing, so the ADD_PROVIDER is silently not kept (the protocol has
 * no reply to refuse it with) and the sender's stream goes on. Refreshing a
 * record already stored always passes, so a peer within the cap keeps its
 * records alive. Dropping rather than evicting means a flood cannot push out
 * other peers' records (total cap) and costs no disk writes beyond the cap.
 *
 * The index (which records exist, per peer) is read from the datastore once
 * by `load()`, before libp2p starts; it holds at most `maxRecords` entries.
 * Records above a cap that were stored before (a lowered cap) stay until they
 * expire; new ones are dropped meanwhile.
 */
export class CappedProviderStore implements Datastore {
  private readonly inner: Datastore
  private readonly caps: ProviderCaps
  /** provider peer id → multihashes it provides. */
  private readonly byPeer = new Map<string, Set<string>>()
  private total = 0
  private refused = 0

  constructor (inner: Datastore, caps: ProviderCaps) {
    this.inner = inner
    this.caps = caps
  }

  /** Builds the index from the records already stored. */
  async load (options?: AbortOptions): Promise<void> {
    this.byPeer.clear()
    this.total = 0
    for await (const key of this.inner.queryKeys({ prefix: PROVIDER_PREFIX.slice(0, -1) }, options)) {
      const record = parseProviderKey(key)
      if (record !== undefined) this.remember(record)
    }
  }

  counts (): ProviderCounts {
    return { records: this.total, peers: this.byPeer.size, refused: this.refused }
  }

  /** Records stored now from one provider peer. */
  recordsOf (peerId: string): number {
    return this.byPeer.get(peerId)?.size ?? 0
  }

  async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const record = parseProviderKey(key)
    if (record === undefined || this.stored(record)) return this.inner.put(key, value, options)
    if (this.recordsOf(record.peer) >= this.caps.maxRecordsPerPeer || this.total >= this.caps.maxRecords) {
      this.refused++
      return key
    }
    // Counted before the write, so concurrent puts cannot overshoot the cap.
    this.remember(record)
    try {
      return await this.inner.put(key, value, options)
    } catch (err) {
      this.forget(record)
      throw err
    }
  }

  async delete (key: Key, options?: AbortOptions): Promise<void> {
    await this.inner.delete(key, options)
    const record = parseProviderKey(key)
    if (record !== undefined) this.forget(record)
  }

  async * putMany (source: Iterable<Pair> | AsyncIterable<Pair>, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const { key, value } of source) yield await this.put(key, value, options)
  }

  async * deleteMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const key of source) {
      await this.delete(key, options)
      yield key
    }
  }

  batch (): Batch {
    const others = this.inner.batch()
    const providerOps: Array<{ key: Key, value?: Uint8Array }> = []
    return {
      put: (key, value) => {
        if (parseProviderKey(key) === undefined) others.put(key, value)
        else providerOps.push({ key, value })
      },
      delete: (key) => {
        if (parseProviderKey(key) === undefined) others.delete(key)
        else providerOps.push({ key })
      },
      commit: async (options) => {
        await others.commit(options)
        for (const op of providerOps) {
          if (op.value === undefined) await this.delete(op.key, options)
          else await this.put(op.key, op.value, options)
        }
      }
    }
  }

  has (key: Key, options?: AbortOptions): boolean | Promise<boolean> {
    return this.inner.has(key, options)
  }

  get (key: Key, options?: AbortOptions): Uint8Array | Promise<Uint8Array> {
    return this.inner.get(key, options)
  }

  getMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): Generator<Pair> | AsyncGenerator<Pair> {
    return this.inner.getMany(source, options)
  }

  query (query: Query, options?: AbortOptions): Generator<Pair> | AsyncGenerator<Pair> {
    return this.inner.query(query, options)
  }

  queryKeys (query: KeyQuery, options?: AbortOptions): Generator<Key> | AsyncGenerator<Key> {
    return this.inner.queryKeys(query, options)
  }

  private stored (record: ProviderRecordKey): boolean {
    return this.byPeer.get(record.peer)?.has(record.multihash) === true
  }

  private remember (record: ProviderRecordKey): void {
    let set = this.byPeer.get(record.peer)
    if (set === undefined) {
      set = new Set()
      this.byPeer.set(record.peer, set)
    }
    if (set.has(record.multihash)) return
    set.add(record.multihash)
    this.total++
  }

  private forget (record: ProviderRecordKey): void {
    const set = this.byPeer.get(record.peer)
    if (set?.delete(record.multihash) !== true) return
    this.total--
    if (set.size === 0) this.byPeer.delete(record.peer)
  }
}

interface ProviderRecordKey {
  peer: string
  multihash: string
}

/** The parts of a provider record's key, or undefined for any other key. */
export function parseProviderKey (key: Key): ProviderRecordKey | undefined {
  const text = key.toString()
  if (!text.startsWith(PROVIDER_PREFIX)) return undefined
  const rest = text.slice(PROVIDER_PREFIX.length)
  const slash = rest.indexOf('/')
  if (slash <= 0 || slash === rest.length - 1 || rest.indexOf('/', slash + 1) !== -1) return undefined
  // Flattened copies: slices would keep the whole key string alive in the index.
  return { multihash: flat(rest.slice(0, slash)), peer: flat(rest.slice(slash + 1)) }
}

function flat (s: string): string {
  return (' ' + s).slice(1)
}
