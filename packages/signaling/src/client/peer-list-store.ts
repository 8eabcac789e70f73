/**
 * Where a client keeps the last peer list the server sent, so an app can show
 * it at start-up before the server answers (or while it is unreachable).
 */
export interface PeerListStore {
  load(): string[] | undefined | Promise<string[] | undefined>
  save(peers: string[]): void | Promise<void>
}

/** Keeps the list in memory only. */
export function memoryPeerListStore (): PeerListStore {
  let saved: string[] | undefined
  return {
    load: () => saved === undefined ? undefined : [...saved],
    save: (peers) => { saved = [...peers] }
  }
}

/** The part of the Web Storage API used (browsers' `localStorage`). */
export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
}

/** Keeps the list in `localStorage` (or any Web Storage) under `key`. */
export function localStoragePeerListStore (key = 'chiral:signaling:peers', storage?: StorageLike): PeerListStore {
  const store = (): StorageLike | undefined => storage ?? (globalThis as { localStorage?: StorageLike }).localStorage
  return {
    load: () => {
      try {
        const raw = store()?.getItem(key)
        if (raw == null) return undefined
        const value: unknown = JSON.parse(raw)
        return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined
      } catch {
        return undefined
      }
    },
    save: (peers) => {
      try {
        store()?.setItem(key, JSON.stringify(peers))
      } catch {
        // Quota or privacy mode: the list is a convenience, not state.
      }
    }
  }
}
