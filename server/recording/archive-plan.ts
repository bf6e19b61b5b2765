// What the archive of a session is made of, decided from its manifest alone (pure, so it
// is unit-tested without ffmpeg): one file holding the program as a point saw it, re-encoded
// (the hall, the slides beside it while any were shown, the floor's camera inset while a
// point held the floor, the microphones the points heard mixed), a chapter per agenda item
// from the timeline, and each recorded track again as it was received (copied, not re-encoded).
//
// Several sources may publish the hall's camera and microphone at once (the console, an
// encoder warming up); points receive one, and the timeline says which from when (its
// `hall` entries). The program shows and plays each such track only while its source was
// the points'; the others stay in the file as originals only.
//
// Each track is read as one input (its segments joined by ffmpeg's concat demuxer) and
// placed on the program's clock at its start in the manifest. A track whose recorder was
// restarted loses the second or so in between; that is named in the manifest's gaps.
import path from 'node:path';
import type { HallSource } from '../contract/media-sources';
import type { ArchiveChapter, RecordingManifest, RecordingTrack } from '../contract/recording';
import { buildTimeline } from '../domain/timeline/spans';

export interface ProgramSize {
  width: number;
  height: number;
  fps: number;
}
export const PROGRAM: ProgramSize = { width: 1280, height: 720, fps: 15 };
/** A 16:9 program of the given height (360, 540, 720 or 1080). */
export const programOf = (height: number): ProgramSize => ({ width: (height * 16) / 9, height, fps: 15 });

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

type Chapter = ArchiveChapter;

export interface ArchivePlan {
  /** The archive's file name, in the session's folder: WebM when every track's codec fits it. */
  file: string;
  seconds: number;
  chapters: Chapter[];
  /** Files to write before running ffmpeg: the concat lists and the chapters (ffmetadata). */
  inputs: { file: string; text: string }[];
  /** ffmpeg's arguments after the program name (output last). */
  args: string[];
}

const WEBM_CODECS = /^(video\/vp8|video\/vp9|audio\/opus)$/i;

const ms = (iso: string) => Date.parse(iso);

/** One chapter per agenda item as it was on the air, clipped to the recording. */
export function chaptersOf(m: RecordingManifest): Chapter[] {
  const start = ms(m.startedAt);
  const end = ms(m.stoppedAt ?? m.updatedAt);
  return buildTimeline(m.timeline, end)
    .items.map((it) => ({
      title: `${it.index + 1}. ${it.title}`,
      startMs: Math.max(0, ms(it.startedAt) - start),
      endMs: Math.min(end - start, ms(it.endedAt) - start),
    }))
    .filter((c) => c.endMs > c.startMs);
}

/** ffmetadata escapes '=', ';', '#', '\' and line ends with a backslash. */
const metaValue = (v: string) => v.replace(/[=;#\\\n]/g, (c) => `\\${c}`);

export function ffmetadata(title: string, chapters: readonly Chapter[]): string {
  const lines = [';FFMETADATA1', `title=${metaValue(title)}`];
  for (const c of chapters) {
    lines.push('[CHAPTER]', 'TIMEBASE=1/1000', `START=${c.startMs}`, `END=${c.endMs}`, `title=${metaValue(c.title)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Where each video source goes on the program: the hall alone fills it; with slides, side by side. */
export function layout(withSlides: boolean, program = PROGRAM): Record<'hall' | 'slides' | 'floor', Rect> {
  const { width: W, height: H } = program;
  const half = { w: W / 2, h: H / 2 };
  return withSlides
    ? {
        hall: { x: 0, y: H / 4, ...half },
        slides: { x: W / 2, y: H / 4, ...half },
        floor: { x: W - W / 4, y: H - H / 4, w: W / 4, h: H / 4 },
      }
    : {
        hall: { x: 0, y: 0, w: W, h: H },
        slides: { x: W / 2, y: H / 4, ...half },
        floor: { x: W - W / 4 - H / 45, y: H - H / 4 - H / 45, w: W / 4, h: H / 4 },
      };
}

/** A stretch of the program, in ms from the start of the recording. */
export interface Span {
  from: number;
  to: number;
}

const isHallTrack = (t: RecordingTrack) => t.source === 'host-camera' || t.source === 'host-mic';

/**
 * When each hall source was the one the points received, from the timeline's `hall`
 * entries, clipped to [0, totalMs]. Undefined when the timeline has none (a recording
 * made before they were kept): every hall track is then in the program. So is every hall
 * track before the first entry, when that comes after the recording's start (a session live
 * across a restart, a timeline write that failed): better both halls than a black program.
 */
export function hallSpans(m: RecordingManifest, totalMs: number): Map<HallSource, Span[]> | undefined {
  const start = ms(m.startedAt);
  const switches = m.timeline
    .flatMap((e) => (e.type === 'hall' ? [{ t: ms(e.at) - start, source: e.source }] : []))
    .sort((a, b) => a.t - b.t);
  if (switches.length === 0) return undefined;
  const spans = new Map<HallSource, Span[]>();
  const unknownTo = Math.min(totalMs, switches[0]!.t);
  if (unknownTo > 0) {
    for (const t of m.tracks) {
      if (t.origin && isHallTrack(t) && !spans.has(t.origin)) spans.set(t.origin, [{ from: 0, to: unknownTo }]);
    }
  }
  switches.forEach((s, i) => {
    const from = Math.max(0, s.t);
    const to = Math.min(totalMs, switches[i + 1]?.t ?? totalMs);
    if (!s.source || to <= from) return;
    const list = spans.get(s.source) ?? [];
    const last = list.at(-1);
    if (last && last.to === from) last.to = to;
    else list.push({ from, to });
    spans.set(s.source, list);
  });
  return spans;
}

/** An ffmpeg expression true (1) while t (seconds on the program's clock) is in one of the spans. */
export const whileIn = (spans: readonly Span[]) =>
  spans.map((s) => `gte(t,${seconds3(s.from)})*lt(t,${seconds3(s.to)})`).join('+');

/** When a track is in the program: always, or (a hall source's) only while the points received it. */
function onAirOf(t: RecordingTrack, spans: Map<HallSource, Span[]> | undefined): Span[] | 'always' {
  if (!spans || !t.origin || !isHallTrack(t)) return 'always';
  return spans.get(t.origin) ?? [];
}

const regionOf = (t: RecordingTrack): 'hall' | 'slides' | 'floor' =>
  t.source === 'host-screen' ? 'slides' : t.source === 'floor-camera' ? 'floor' : 'hall';

const seconds3 = (msValue: number) => (msValue / 1000).toFixed(3);

/** The plan for a stopped recording in `dir` (its folder); throws when nothing was recorded. */
export function archivePlan(m: RecordingManifest, dir: string, program = PROGRAM): ArchivePlan {
  const tracks = m.tracks.filter((t) => t.segments.length > 0);
  if (tracks.length === 0) throw new Error('nothing was recorded');
  const start = ms(m.startedAt);
  const totalMs = ms(m.stoppedAt ?? m.updatedAt) - start;
  const total = seconds3(totalMs);
  const chapters = chaptersOf(m);
  const webm = tracks.every((t) => WEBM_CODECS.test(t.codec));
  const file = `archive.${webm ? 'webm' : 'mkv'}`;
  const work = path.join(dir, '.archive');
  const inputs: ArchivePlan['inputs'] = tracks.map((t) => ({
    file: path.join(work, `${t.id}.txt`),
    text: t.segments.map((s) => `file '${path.join(dir, s.file).replace(/'/g, "'\\''")}'\n`).join(''),
  }));
  const metaFile = path.join(work, 'chapters.txt');
  inputs.push({ file: metaFile, text: ffmetadata(m.title, chapters) });

  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  const offsets = tracks.map((t) => Math.max(0, ms(t.startedAt) - start));
  tracks.forEach((_, i) => {
    args.push('-itsoffset', seconds3(offsets[i]!), '-f', 'concat', '-safe', '0', '-i', inputs[i]!.file);
  });
  const metaIndex = tracks.length;
  args.push('-f', 'ffmetadata', '-i', metaFile);

  const { width: W, height: H, fps } = program;
  const rects = layout(
    tracks.some((t) => t.source === 'host-screen'),
    program,
  );
  const filters = [`color=c=black:s=${W}x${H}:r=${fps}:d=${total}[v0]`];
  let v = 0;
  const audio: string[] = [];
  const spans = hallSpans(m, totalMs);
  tracks.forEach((t, i) => {
    const onAir = onAirOf(t, spans);
    // A hall source the points never received: an original only.
    if (onAir !== 'always' && onAir.length === 0) return;
    // PTS-STARTPTS then the track's own offset: the same clock whatever the input's start.
    const at = seconds3(offsets[i]!);
    if (t.kind === 'video') {
      const r = rects[regionOf(t)];
      const enable = onAir === 'always' ? '' : `:enable='${whileIn(onAir)}'`;
      filters.push(
        `[${i}:v]setpts=PTS-STARTPTS+${at}/TB,scale=${r.w}:${r.h}:force_original_aspect_ratio=decrease,` +
          `pad=${r.w}:${r.h}:(ow-iw)/2:(oh-ih)/2,setsar=1[t${i}]`,
        `[v${v}][t${i}]overlay=x=${r.x}:y=${r.y}:eof_action=pass${enable}[v${v + 1}]`,
      );
      v++;
    } else {
      // Silent while another source was the points'.
      const mute = onAir === 'always' ? '' : `,volume=0:enable='not(${whileIn(onAir)})'`;
      filters.push(
        `[${i}:a]asetpts=PTS-STARTPTS,aresample=48000:async=1:first_pts=0,` +
          `aformat=sample_fmts=fltp:channel_layouts=stereo,adelay=${offsets[i]}:all=1${mute}[a${i}]`,
      );
      audio.push(`[a${i}]`);
    }
  });
  filters.push(`[v${v}]format=yuv420p[program]`);
  filters.push(`anullsrc=r=48000:cl=stereo:d=${total}[silence]`);
  filters.push(
    `[silence]${audio.join('')}amix=inputs=${audio.length + 1}:duration=first:normalize=0:dropout_transition=0[mix]`,
  );
  args.push('-filter_complex', filters.join(';'));
  args.push('-map', '[program]', '-map', '[mix]');
  tracks.forEach((_, i) => args.push('-map', `${i}:0`));
  args.push('-map_metadata', String(metaIndex), '-map_chapters', String(metaIndex));
  // The program: VP8 and Opus (what WebM carries, and what every browser plays), a key
  // frame every 2 s so a chapter jump lands at once; fast settings, the job runs niced.
  args.push(
    '-c:0',
    'libvpx',
    '-b:0',
    `${Math.round((1500 * H) / 720)}k`,
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-g',
    String(fps * 2),
  );
  args.push('-c:1', 'libopus', '-b:1', '96k');
  args.push('-metadata:s:0', 'title=program', '-metadata:s:1', 'title=program');
  tracks.forEach((t, i) => args.push(`-c:${i + 2}`, 'copy', `-metadata:s:${i + 2}`, `title=${t.id}`));
  args.push('-t', total, '-progress', 'pipe:1', '-nostats', '-f', webm ? 'webm' : 'matroska');
  args.push(path.join(work, file));
  return { file, seconds: totalMs / 1000, chapters, inputs, args };
}
