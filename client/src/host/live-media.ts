// The host console's media: the chosen camera and microphone (preview, level meter), the
// optional slides screen, publishing them to the SFU, and receiving the floor (a point's
// camera and microphone) while a point holds it.
import { Device } from 'mediasoup-client';
import type { types as msc } from 'mediasoup-client';
import type { ProducerInfo } from '../../../server/contract/broadcast';
import type { HostClientEvents } from '../../../server/contract/namespaces';
import type { Request } from '../net/request';
import type { HostSocket } from '../net/sockets';
import { BroadcastReceiver } from '../rtc/receiver';
import { MediaSender } from '../rtc/sender';
import { levelMeter } from '../ui/media';
import { el } from '../ui/shell';
import type { LiveLayout } from './live-view';

type HostRequest = Request<HostClientEvents>;
type MediaElements = Pick<LiveLayout, 'camSelect' | 'micSelect' | 'preview' | 'meter' | 'floorVideo' | 'floorAudio'>;

export class HostMedia {
  device: Device | undefined;
  sender: MediaSender | undefined;
  camera: MediaStreamTrack | undefined;
  mic: MediaStreamTrack | undefined;
  screen: MediaStreamTrack | undefined;
  readonly receiver: BroadcastReceiver;
  #stopMeter: (() => void) | undefined;

  /**
   * `floorProducers` reads the producers of the floor in the latest broadcast view;
   * `onDevices` runs whenever the camera or microphone is opened, closed or ends.
   */
  constructor(
    private readonly socket: HostSocket,
    private readonly request: HostRequest,
    private readonly ui: MediaElements,
    private readonly floorProducers: () => ProducerInfo[],
    private readonly onDevices: () => void = () => undefined,
  ) {
    ui.camSelect.addEventListener('change', () => void this.openDevices());
    ui.micSelect.addEventListener('change', () => void this.openDevices());
    this.receiver = new BroadcastReceiver(socket, {
      onTrack: (t) => {
        if (t.source === 'floor-camera') {
          ui.floorVideo.srcObject = new MediaStream([t.track]);
          ui.floorVideo.classList.remove('hidden');
        } else if (t.source === 'floor-mic') ui.floorAudio.srcObject = new MediaStream([t.track]);
      },
      onTrackEnded: () => undefined,
      onState: () => undefined,
    });
  }

  /** Fills the camera and microphone pickers, keeping the current choice. */
  async listDevices(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select: HTMLSelectElement, kind: MediaDeviceKind) => {
      const current = select.value;
      select.replaceChildren(
        ...devices
          .filter((d) => d.kind === kind)
          .map((d, i) => el('option', { text: d.label || `${kind} ${i + 1}`, attrs: { value: d.deviceId } })),
      );
      if (current) select.value = current;
    };
    fill(this.ui.camSelect, 'videoinput');
    fill(this.ui.micSelect, 'audioinput');
  }

  /** Opens the chosen devices (again after a change of choice), replacing what is published. */
  async openDevices(): Promise<void> {
    const { camSelect, micSelect, preview, meter } = this.ui;
    const stream = await navigator.mediaDevices.getUserMedia({
      video: {
        deviceId: camSelect.value ? { exact: camSelect.value } : undefined,
        width: 1280,
        height: 720,
        frameRate: 30,
      },
      audio: {
        deviceId: micSelect.value ? { exact: micSelect.value } : undefined,
        echoCancellation: true,
        noiseSuppression: true,
      },
    });
    this.camera?.stop();
    this.mic?.stop();
    this.camera = stream.getVideoTracks()[0];
    this.mic = stream.getAudioTracks()[0];
    for (const t of [this.camera, this.mic]) t?.addEventListener('ended', this.onDevices);
    preview.srcObject = new MediaStream(this.camera ? [this.camera] : []);
    this.#stopMeter?.();
    if (this.mic) this.#stopMeter = levelMeter(this.mic, (l) => (meter.value = l));
    this.onDevices();
    await this.listDevices();
    if (this.#sending)
      await this.#queue(async () => {
        if (this.sender && this.camera) await this.sender.publish('host-camera', this.camera);
        if (this.sender && this.mic) await this.sender.publish('host-mic', this.mic);
      });
  }

  /**
   * Whether the console sends its tracks, or is about to: a publish asked for since the
   * last close and not failed.
   */
  get sending(): boolean {
    return this.#sending;
  }
  #sending = false;
  #publishing: Promise<unknown> = Promise.resolve();

  /** Runs `fn` once every publish already asked for has ended: one at a time. */
  #queue(fn: () => Promise<void>): Promise<void> {
    const run = this.#publishing.then(fn);
    this.#publishing = run.catch(() => undefined);
    return run;
  }

  /** Queues a publish; a failed one leaves the console not sending, to be asked again. */
  #send(fn: () => Promise<void>): Promise<void> {
    this.#sending = true;
    return this.#queue(fn).catch((err: unknown) => {
      this.#sending = false;
      throw err;
    });
  }

  /** Publishes every local track and consumes the floor, loading the device the first time. */
  publishAll(): Promise<void> {
    return this.#send(() => this.#publishAll());
  }

  async #publishAll(): Promise<void> {
    if (!this.device) {
      const { routerRtpCapabilities } = await this.request('rtc:capabilities', {});
      this.device = new Device();
      await this.device.load({ routerRtpCapabilities: routerRtpCapabilities as msc.RtpCapabilities });
    }
    this.sender ??= new MediaSender(this.socket, this.device);
    if (this.camera) await this.sender.publish('host-camera', this.camera);
    if (this.mic) await this.sender.publish('host-mic', this.mic);
    if (this.screen) await this.sender.publish('host-screen', this.screen);
    await this.receiver.start(this.floorProducers());
  }

  /** The server dropped the send transport: forget it and publish everything again. */
  republish(): Promise<void> {
    return this.#send(async () => {
      this.sender?.reset();
      await this.#publishAll();
    });
  }

  /** Pauses or resumes the local producer; the server is told by the caller. */
  setPaused(source: 'host-camera' | 'host-mic', paused: boolean): void {
    if (paused) this.sender?.producer(source)?.pause();
    else this.sender?.producer(source)?.resume();
  }

  /** Asks for a screen to share as slides; `onEnded` runs when the browser stops sharing it. */
  async startSlides(onEnded: () => void): Promise<void> {
    const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 5 }, audio: false });
    this.screen = s.getVideoTracks()[0]!;
    this.screen.contentHint = 'detail';
    this.screen.addEventListener('ended', onEnded);
    if (this.sender) await this.sender.publish('host-screen', this.screen);
  }

  async stopSlides(): Promise<void> {
    await this.sender?.unpublish('host-screen');
    this.screen?.stop();
    this.screen = undefined;
  }

  /** Releases the camera and microphone (preview and level meter go blank); nothing else. */
  closeDevices(): void {
    this.#stopMeter?.();
    this.#stopMeter = undefined;
    for (const t of [this.camera, this.mic]) t?.stop();
    this.camera = this.mic = undefined;
    this.ui.preview.srcObject = null;
    this.ui.meter.value = 0;
    this.onDevices();
  }

  /** Stops publishing and receiving and releases the camera, microphone and screen. */
  close(): void {
    this.#sending = false;
    this.sender?.reset();
    this.receiver.close();
    this.screen?.stop();
    this.screen = undefined;
    this.closeDevices();
  }
}
