// The boot script's waits between reloads of a page that failed to load
// (client/src/boot/boot.ts): doubling from 2 s, never more than 30 s.
import { reloadDelayMs } from '../../client/src/boot/marker';

test('2 s, 4 s, 8 s, 16 s, then 30 s for as long as it lasts', () => {
  expect([0, 1, 2, 3, 4, 5, 20, 1e6].map(reloadDelayMs)).toEqual([
    2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000,
  ]);
});
