/**
 * A seeded pseudo-random source (mulberry32): the same seed gives the same
 * charger behaviour, so a simulation can be replayed exactly (`--seed`).
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An independent stream for a sub-entity (one charger of a fleet). */
  fork(index: number): Random {
    return new Random((this.state ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  }
}
