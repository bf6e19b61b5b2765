// The agenda caption room systems see: a room system shows only the picture it is sent, so
// the current agenda item (what a browser point shows as an overlay: the title, then the
// speaker and role) is burned into the H.264 the hall's transcoder (hall-feed.ts) makes,
// once per session for every room system.
//
// ffmpeg's drawtext reads the caption from a file it reloads every frame (`reload=1`), so
// a change of agenda item is a file rewrite, never a transcoder restart; the file is
// written beside and renamed over (atomic), so ffmpeg never reads half a caption. Its text
// is drawn as it is (`expansion=none`: no %{…} expansion, no backslash escapes). An empty
// file draws nothing, box included: no agenda item, no band.
//
// The font is DejaVu Sans (Debian's fonts-dejavu-core), which covers Vietnamese in
// precomposed form; the text is put in NFC, as drawtext does not compose combining marks.
// drawtext cannot fit text to the frame itself, so each line is cut here, with an
// ellipsis, at a width estimated from DejaVu Sans's advances (slightly over, never under).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AgendaCaption } from '../contract/broadcast';

export const CAPTION_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

/**
 * Font size: 1/24 of the picture's height (30 px at 720p), or of the height a 16:9 picture
 * of its width would have, so a narrower picture still fits MAX_LINE_EM per line.
 */
const FONT_SIZE = 'min(h,w*9/16)/24';
/** The widest line, in ems: a 16:9 picture is 42.7 em wide at FONT_SIZE; the box's borders and a margin take the rest. */
export const MAX_LINE_EM = 38;
const ELLIPSIS = '…';

const graphemes = new Intl.Segmenter('vi', { granularity: 'grapheme' });

/** Estimated advance of a character in DejaVu Sans, in ems (its widest of each class). */
function advance(g: string): number {
  const base = g.normalize('NFD')[0] ?? ' ';
  if (base === ' ') return 0.32;
  if (/[ijlI.,:;'|!]/.test(base)) return 0.34;
  if (/[frtJ()[\]{}\-"]/.test(base)) return 0.42;
  if (/[mMW—…%@]/.test(base)) return 1.0;
  if (/[wCDGHNOQUÐđ&]/.test(base)) return 0.82;
  if (/[A-Z]/.test(base)) return 0.76;
  if (/[a-z0-9]/.test(base)) return 0.64;
  return 1.0;
}

/** The estimated width of a text in ems of the font size. */
export function textEm(text: string): number {
  let em = 0;
  for (const { segment } of graphemes.segment(text)) em += advance(segment);
  return em;
}

/** One line of caption: NFC, control and format characters out, spaces collapsed. */
export function cleanLine(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The line as it is when it fits in `maxEm`, else cut (between graphemes) and ended with an ellipsis. */
export function fitLine(text: string, maxEm = MAX_LINE_EM): string {
  if (textEm(text) <= maxEm) return text;
  const room = maxEm - advance(ELLIPSIS);
  let out = '';
  let em = 0;
  for (const { segment } of graphemes.segment(text)) {
    em += advance(segment);
    if (em > room) break;
    out += segment;
  }
  return out.trimEnd() + ELLIPSIS;
}

/** The caption's text as drawn: the title, then speaker — role (as a point's page shows them); '' without an item. */
export function captionText(caption: AgendaCaption | null): string {
  if (!caption) return '';
  const title = cleanLine(caption.title);
  const who = [caption.speaker, caption.role].map(cleanLine).filter(Boolean).join(' — ');
  return [title, who]
    .filter(Boolean)
    .map((l) => fitLine(l))
    .join('\n');
}

/** A value of a filter's option, escaped for the option level and for the graph level (ffmpeg-filters 4.1). */
export function filterValue(value: string): string {
  return value.replace(/[\\':]/g, '\\$&').replace(/[\\'[\],;]/g, '\\$&');
}

/** The drawtext filter of the caption: a band at the bottom, white on a semi-transparent black box. */
export function captionFilter(opts: { fontFile: string; textFile: string }): string {
  const options: [string, string][] = [
    ['fontfile', opts.fontFile],
    ['textfile', opts.textFile],
    ['reload', '1'],
    ['expansion', 'none'],
    ['fontsize', FONT_SIZE],
    ['fontcolor', 'white'],
    ['line_spacing', '6'],
    ['box', '1'],
    ['boxcolor', 'black@0.6'],
    ['boxborderw', '10'],
    ['x', '(w-text_w)/2'],
    ['y', 'h-text_h-h/20'],
  ];
  return `drawtext=${options.map(([k, v]) => `${k}=${filterValue(v)}`).join(':')}`;
}

/** The font when captions are on and it is installed; undefined (with a warning) when it is missing. */
export function captionFont(on: boolean, logger: Pick<Logger, 'warn'>, font = CAPTION_FONT): string | undefined {
  if (!on) return undefined;
  if (fs.existsSync(font)) return font;
  logger.warn(
    { font },
    'the agenda caption for room systems is off: its font is missing (install Debian’s fonts-dejavu-core, or set SIP_CAPTION=off)',
  );
  return undefined;
}

/** The file drawtext reads the caption from, rewritten atomically when the caption changes. */
export class CaptionFile {
  readonly path: string;
  #written: string | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {
    this.path = path.join(dir, 'caption.txt');
  }

  /** Resolves once no write is under way (whether the last one worked or not). */
  idle(): Promise<void> {
    return this.#writing.catch(() => undefined);
  }

  /** Writes `text` unless it is already there; writes run one after another, in order. */
  set(text: string): Promise<void> {
    if (text === this.#written) return this.#writing;
    this.#written = text;
    const tmp = `${this.path}.next`;
    this.#writing = this.#writing
      .catch(() => undefined)
      .then(async () => {
        await fsp.writeFile(tmp, text);
        await fsp.rename(tmp, this.path);
      })
      .catch((err: unknown) => {
        // Not written: the next call tries again.
        if (this.#written === text) this.#written = undefined;
        throw err;
      });
    return this.#writing;
  }
}
