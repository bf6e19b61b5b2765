// Injected into every page bundle (scripts/build-client.mjs): it runs only once the page's
// whole module graph has loaded, so it marks the page as started for the boot script
// (client/src/boot/boot.ts), which then leaves the page alone and forgets its reloads.
import { STARTED_GLOBAL } from './marker';

(globalThis as Record<string, unknown>)[STARTED_GLOBAL] = true;

export {};
