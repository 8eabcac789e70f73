import type { ClientConnection } from './client-connection.js'

/** The room of clients that registered without one. */
export const DEFAULT_ROOM = ''

/**
 * Registered clients by id and by room. Joining or leaving sends the other
 * members of the room a `peer-joined` / `peer-left` delta; the full list goes
 * only to the client that registers.
 */
export class Registry {
  private readonly byId = new Map<string, ClientConnection>()
  private readonly rooms = new Map<string, Set<ClientConnection>>()

  get size (): number {
    return this.byId.size
  }

  get roomCount (): number {
    return this.rooms.size
  }

  get (id: string): ClientConnection | undefined {
    return this.byId.get(id)
  }

  /** Adds `conn` as `id` in `room`, tells the room, and returns the ids already there. */
  add (conn: ClientConnection, id: string, room: string): string[] {
    let members = this.rooms.get(room)
    if (members === undefined) {
      members = new Set()
      this.rooms.set(room, members)
    }
    const peers: string[] = []
    const joined = JSON.stringify({ type: 'peer-joined', clientId: id })
    for (const member of members) {
      const memberId = member.id
      if (memberId === undefined) continue
      peers.push(memberId)
      member.sendControlText(joined)
    }
    members.add(conn)
    this.byId.set(id, conn)
    conn.phase = { name: 'registered', id, room }
    return peers
  }

  /** Removes a registered connection and tells its room; no-op for others. */
  remove (conn: ClientConnection): { id: string, room: string } | undefined {
    if (conn.phase.name !== 'registered') return undefined
    const { id, room } = conn.phase
    if (this.byId.get(id) === conn) this.byId.delete(id)
    const members = this.rooms.get(room)
    if (members !== undefined) {
      members.delete(conn)
      if (members.size === 0) this.rooms.delete(room)
      const left = JSON.stringify({ type: 'peer-left', clientId: id })
      for (const member of members) member.sendControlText(left)
    }
    return { id, room }
  }

  /**
   * Hands `id` from a stale connection to a new one (a signed re-registration
   * of the same key). Within one room nobody sees a change; across rooms the
   * old room sees `peer-left` and the new one `peer-joined`.
   */
  replace (stale: ClientConnection, conn: ClientConnection, id: string, room: string): string[] {
    if (stale.phase.name === 'registered' && stale.phase.room === room) {
      const members = this.rooms.get(room)
      members?.delete(stale)
      members?.add(conn)
      this.byId.set(id, conn)
      conn.phase = { name: 'registered', id, room }
      return [...(members ?? [])].filter((m) => m !== conn && m.id !== undefined).map((m) => m.id as string)
    }
    this.remove(stale)
    return this.add(conn, id, room)
  }
}
