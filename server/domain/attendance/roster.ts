// A point's roster of delegates (optional): imported per point; a name a delegate types at
// check-in that matches an entry is taken as that entry (its spelling and position). The
// names go to the desk only, never to a phone. Replaced as a whole on each import.
//
// Keys: roster:<pointId>   hash   entry id → { name, position } JSON
import type { Redis } from 'ioredis';
import type { RosterEntry } from '../../contract/attendance';

export const rosterKey = (pointId: string) => `roster:${pointId}`;

export class RosterStore {
  constructor(private readonly redis: Redis) {}

  async replace(pointId: string, entries: { name: string; position: string }[]): Promise<RosterEntry[]> {
    const items = entries.map((e, i) => ({ id: String(i + 1), name: e.name, position: e.position }));
    const multi = this.redis.multi().del(rosterKey(pointId));
    if (items.length > 0) {
      multi.hset(
        rosterKey(pointId),
        ...items.flatMap((e) => [e.id, JSON.stringify({ name: e.name, position: e.position })]),
      );
    }
    await multi.exec();
    return items;
  }

  async list(pointId: string): Promise<RosterEntry[]> {
    const all = await this.redis.hgetall(rosterKey(pointId));
    return Object.entries(all)
      .map(([id, j]) => ({ id, ...(JSON.parse(j) as { name: string; position: string }) }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  async size(pointId: string): Promise<number> {
    return this.redis.hlen(rosterKey(pointId));
  }

  async get(pointId: string, id: string): Promise<RosterEntry | undefined> {
    const j = await this.redis.hget(rosterKey(pointId), id);
    return j ? { id, ...(JSON.parse(j) as { name: string; position: string }) } : undefined;
  }
}
