// mediasoup-client, as the point page uses it: a chunk of its own (186 KiB of the page's
// 320), which the page fetches with its other scripts (scripts/build-client.mjs lists it
// among the page's preloads) but imports only when it asks the browser for its
// capabilities (rtc/lazy-mediasoup.ts). The page's own code, its socket's connect first,
// then runs without waiting for this chunk to be parsed and run.
import { Chrome111 } from 'mediasoup-client/handlers/Chrome111';
import { Chrome74 } from 'mediasoup-client/handlers/Chrome74';
import { Firefox120 } from 'mediasoup-client/handlers/Firefox120';
import type { HandlerFactory } from 'mediasoup-client/handlers/HandlerInterface';
import { Safari12 } from 'mediasoup-client/handlers/Safari12';

export { Device, detectDevice } from 'mediasoup-client';

/**
 * The handlers a page's browser may use, by the name mediasoup-client's detectDevice()
 * gives (its Device builds the same one for that name; tests/unit/early-device-handlers
 * checks the two agree). A name left out (React Native's) is left to the Device.
 */
export const HANDLERS: Readonly<Record<string, () => HandlerFactory>> = {
  Chrome111: () => Chrome111.createFactory(),
  Chrome74: () => Chrome74.createFactory(),
  Firefox120: () => Firefox120.createFactory(),
  Safari12: () => Safari12.createFactory(),
};
