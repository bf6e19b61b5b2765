// Injected first into every page bundle (scripts/build-client.mjs). zod probes for
// `new Function` when its first object schema is built (to compile fast parsers); under
// the pages' CSP (no 'unsafe-eval') the probe is refused and, although zod catches the
// error, the browser reports a `securitypolicyviolation` on every page load. Pages never
// need zod's compiled parsers, so the probe is turned off.
//
// Through zod's global configuration object rather than its `config()`: importing zod
// here, in every page, would put zod's whole code in the chunk every page loads (esbuild
// keeps the side effects of every zod module some page uses), and the point page uses
// none. zod adopts the object it finds (tests/unit/csp-safe-zod.test.ts checks it).
const g = globalThis as { __zod_globalConfig?: { jitless?: boolean } };
(g.__zod_globalConfig ??= {}).jitless = true;

export {};
