// What a virtual point's page would show of the briefing: the session's state and the
// hall's paused producers (what the watchdog watches), and when the view last turned to
// each agenda item and floor holder (what the host's actions are timed against).

export interface ViewShown {
  state: string;
  paused: { video: boolean; audio: boolean };
  caption: { index: number } | null;
  floor: { pointId: string } | null;
}

export class PointView {
  /** The last view the server sent; undefined before the first. */
  current: { state: string; paused: { video: boolean; audio: boolean } } | undefined;
  /**
   * When this point's view last turned to each agenda item (`agenda:<index>`) and floor
   * holder (`floor:<pointId>`, `floor:` for none), and last heard `floor:you`
   * (`you:true`, `you:false`), epoch ms.
   */
  readonly changes = new Map<string, number>();
  #keys = { agenda: '', floor: '' };

  /** A view from the server (`view`, or view:get's answer). */
  shown(v: ViewShown): void {
    this.current = { state: v.state, paused: v.paused };
    const keys = { agenda: `agenda:${v.caption?.index ?? ''}`, floor: `floor:${v.floor?.pointId ?? ''}` };
    const now = Date.now();
    if (keys.agenda !== this.#keys.agenda) this.changes.set(keys.agenda, now);
    if (keys.floor !== this.#keys.floor) this.changes.set(keys.floor, now);
    this.#keys = keys;
  }

  /** `floor:you`: this point was given the floor, or it was taken back. */
  floorYou(granted: boolean): void {
    this.changes.set(`you:${granted}`, Date.now());
  }
}
