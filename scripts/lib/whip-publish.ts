// A WHIP encoder in Chromium: the fake camera (1280x720, three simulcast layers by rid,
// lowest first) and the fake microphone, offered in one POST as OBS or a hardware encoder
// would, then connected with the answer. Runs in a page of the server's own origin. Used
// by the end-to-end tests and by scripts/bench-ingest.ts.
import type { Page } from 'playwright-core';

export interface WhipPublishResult {
  status: number;
  location: string | null;
  body: string;
}

/** POSTs the page's offer; on 201 applies the answer. The page keeps the connection in `window.whipPc`. */
export function whipPublish(
  page: Page,
  url: string,
  token: string,
  opts: { layers?: number; audio?: boolean } = {},
): Promise<WhipPublishResult> {
  return page.evaluate(
    async ({ url, token, layers, audio }) => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio, video: { width: 1280, height: 720 } });
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      const [video] = stream.getVideoTracks();
      const rids = ['q', 'h', 'f'].slice(3 - layers);
      pc.addTransceiver(video!, {
        direction: 'sendonly',
        ...(layers > 1
          ? {
              sendEncodings: rids.map((rid, i) => ({
                rid,
                scaleResolutionDownBy: 2 ** (layers - 1 - i),
                maxBitrate: [150_000, 500_000, 1_200_000][3 - layers + i],
              })),
            }
          : {}),
      });
      for (const t of stream.getAudioTracks()) pc.addTransceiver(t, { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
        body: pc.localDescription!.sdp,
      });
      const body = await res.text();
      if (res.status === 201) {
        await pc.setRemoteDescription({ type: 'answer', sdp: body });
        (window as unknown as { whipPc: RTCPeerConnection }).whipPc = pc;
      } else pc.close();
      return { status: res.status, location: res.headers.get('location'), body };
    },
    { url, token, layers: opts.layers ?? 3, audio: opts.audio ?? true },
  );
}

/** The publishing connection's state in the page. */
export function whipState(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { whipPc?: RTCPeerConnection }).whipPc?.connectionState ?? 'none');
}
