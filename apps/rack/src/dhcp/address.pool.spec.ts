import { AddressPool, AddrState } from './address.pool';

const BASE = 0x0a000000;

describe('AddressPool', () => {
  it('hands out never-used addresses in order, then the longest-freed, then takes back the oldest offer', () => {
    const pool = new AddressPool(BASE, BASE + 3);
    const got: number[] = [];
    for (let i = 0; i < 4; i++) {
      const ip = pool.pick();
      got.push(ip - BASE);
      pool.set(ip, i < 2 ? AddrState.BOUND : AddrState.OFFERED);
    }
    expect(got).toEqual([0, 1, 2, 3]);
    expect(pool.freeCount).toBe(0);
    // Nothing free: the oldest offer (2) comes back first.
    expect(pool.pick() - BASE).toBe(2);
    pool.set(BASE + 1, AddrState.FREE);
    pool.set(BASE + 0, AddrState.FREE);
    expect(pool.freeCount).toBe(2);
    expect(pool.pick() - BASE).toBe(1);
    pool.set(BASE + 1, AddrState.BOUND);
    expect(pool.pick() - BASE).toBe(0);
  });

  it('skips addresses taken directly ahead of the cursor, and reports exhaustion', () => {
    const pool = new AddressPool(BASE, BASE + 2);
    pool.set(BASE + 1, AddrState.RESERVED);
    pool.set(BASE + 2, AddrState.BOUND);
    expect(pool.freeCount).toBe(1);
    expect(pool.pick()).toBe(BASE);
    pool.set(BASE, AddrState.DECLINED);
    expect(pool.pick()).toBe(-1);
    expect(pool.freeCount).toBe(0);
  });

  it('removes an address from the middle of a list in O(1) without breaking the list', () => {
    const pool = new AddressPool(BASE, BASE + 9);
    for (let i = 0; i < 10; i++) pool.set(BASE + i, AddrState.BOUND);
    for (const i of [3, 5, 7]) pool.set(BASE + i, AddrState.FREE);
    pool.set(BASE + 5, AddrState.BOUND); // out of the middle
    expect(pool.pick()).toBe(BASE + 3);
    pool.set(BASE + 3, AddrState.OFFERED);
    expect(pool.pick()).toBe(BASE + 7);
    pool.set(BASE + 7, AddrState.BOUND);
    expect(pool.pick()).toBe(BASE + 3); // only the offer is left
    expect(pool.offeredCount).toBe(1);
  });

  it('allocation cost does not depend on the pool size (a 4M-address pool allocates from the cursor)', () => {
    const big = new AddressPool(BASE, BASE + (1 << 22) - 1);
    for (let i = 0; i < 1000; i++) big.set(big.pick(), AddrState.BOUND);
    expect(big.pick()).toBe(BASE + 1000);
    expect(big.freeCount).toBe((1 << 22) - 1000);
  });
});
