// The check-in QR code a point's screen shows: its token rotates, so the current one is
// asked for again shortly before it does, one request at a time.

export class CheckinQr {
  readonly #ask: () => Promise<{ token: string; rotateAt: string }>;
  #qr: { token: string; rotateAt: number } | undefined;
  #pending: Promise<string> | undefined;

  /** `ask`: the point's `checkin:qr` request. */
  constructor(ask: () => Promise<{ token: string; rotateAt: string }>) {
    this.#ask = ask;
  }

  /** The current token, asked again when it rotates within 3 s. */
  async token(): Promise<string> {
    if (this.#qr && Date.now() < this.#qr.rotateAt - 3000) return this.#qr.token;
    this.#pending ??= this.#ask()
      .then((q) => {
        this.#qr = { token: q.token, rotateAt: Date.parse(q.rotateAt) };
        return q.token;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }
}
