// Injected first into every page bundle (scripts/build-client.mjs). zod probes for
// `new Function` when its first object schema is built (to compile fast parsers); under
// the pages' CSP (no 'unsafe-eval') the probe is refused and, although zod catches the
// error, the browser reports a `securitypolicyviolation` on every page load. Pages never
// need zod's compiled parsers, so the probe is turned off.
import { config } from 'zod';

config({ jitless: true });
