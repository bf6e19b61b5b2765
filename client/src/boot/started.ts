// Injected into every page bundle (scripts/build-client.mjs): it runs only once the page's
// whole module graph has loaded, so it marks the page as started for the boot script
// (client/src/boot/boot.ts), which then leaves the page alone and forgets its reloads.
// It imports nothing: esbuild injects this file into every module, so an import here
// would make the modules it imports depend on it in turn, and the flag's name could be
// read before it was set. The name is STARTED_GLOBAL of ./marker.ts (tests/unit checks).
(globalThis as Record<string, unknown>).__pageStarted = true;

export {};
