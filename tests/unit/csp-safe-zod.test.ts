// The pages turn zod's `new Function` probe off without importing zod
// (client/src/csp-safe-zod.ts): zod must read the setting when it loads afterwards.
import '../../client/src/csp-safe-zod';
import { config, z } from 'zod';

describe('the pages turn off zod’s new Function probe', () => {
  it('zod, loaded after the injected file, is jitless', () => {
    expect(config().jitless).toBe(true);
    expect(z.object({ a: z.string() }).parse({ a: 'x' })).toEqual({ a: 'x' });
  });
});
