// Small media helpers shared by the host console and the point page.

/** Live level (0..1) of an audio track, for the microphone meter. */
export function levelMeter(track: MediaStreamTrack, onLevel: (level: number) => void): () => void {
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const buf = new Uint8Array(analyser.fftSize);
  let raf = 0;
  const tick = () => {
    analyser.getByteTimeDomainData(buf);
    let peak = 0;
    for (const v of buf) peak = Math.max(peak, Math.abs(v - 128) / 128);
    onLevel(peak);
    raf = requestAnimationFrame(tick);
  };
  tick();
  return () => {
    cancelAnimationFrame(raf);
    void ctx.close();
  };
}

/** A one-second 440 Hz tone, for the speaker test. */
export async function playTestTone(): Promise<void> {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  gain.gain.value = 0.2;
  osc.frequency.value = 440;
  osc.connect(gain).connect(ctx.destination);
  osc.start();
  await new Promise((r) => setTimeout(r, 1000));
  osc.stop();
  await ctx.close();
}

export function mediaErrorKind(err: unknown): 'missing' | 'denied' {
  const name = (err as { name?: string })?.name;
  return name === 'NotAllowedError' || name === 'SecurityError' ? 'denied' : 'missing';
}
