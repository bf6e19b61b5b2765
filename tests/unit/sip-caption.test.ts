// The agenda caption burned into the picture room systems receive: its text from the
// current agenda item, the cut with an ellipsis, the text drawn as written (no expansion),
// the drawtext filter and its escaping, and the file ffmpeg reloads, replaced atomically.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { REFERENCE_AGENDA } from '../../server/data/reference-briefing';
import {
  CaptionFile,
  MAX_LINE_EM,
  captionFilter,
  captionFont,
  captionText,
  cleanLine,
  filterValue,
  fitLine,
  textEm,
} from '../../server/sip/hall-caption';

const item = (title: string, speaker = '', role = '') => ({ index: 1, total: 5, title, speaker, role });

describe('agenda caption for room systems', () => {
  test('the title, then speaker — role, as a point page shows them; nothing without an item', () => {
    const r = REFERENCE_AGENDA[1]!;
    expect(captionText(item(r.title, r.speaker, r.role))).toBe(
      'Quán triệt Nghị quyết 06-NQ/TU về tích tụ ruộng đất\nĐặng Ngọc Sơn — Phó Chủ tịch UBND tỉnh',
    );
    expect(captionText(item('Phát biểu kết luận hội nghị'))).toBe('Phát biểu kết luận hội nghị');
    expect(captionText(item('Giải lao', '', 'Ban Tổ chức'))).toBe('Giải lao\nBan Tổ chức');
    expect(captionText(null)).toBe('');
  });

  test('Vietnamese in precomposed form (NFC); control characters and line breaks become spaces', () => {
    const decomposed = 'Nghị quyết'.normalize('NFD');
    expect(decomposed).not.toBe('Nghị quyết');
    expect(cleanLine(decomposed)).toBe('Nghị quyết');
    expect(cleanLine(' Nghị\nquyết\t05\u0000\u202e 2 \r\n')).toBe('Nghị quyết 05 2');
    // One line for the title whatever it holds: the second line is always the speaker's.
    expect(captionText(item('a\nb', 'c')).split('\n')).toEqual(['a b', 'c']);
  });

  test('a long line is cut between letters with an ellipsis to fit; a short one is kept', () => {
    const short = 'Quán triệt Nghị quyết 05-NQ/TU về chuyển đổi số';
    expect(fitLine(short)).toBe(short);
    const long = `${short} và các nhiệm vụ trọng tâm của năm 2022 trên địa bàn toàn tỉnh Hà Tĩnh`;
    const cut = fitLine(long);
    expect(cut.endsWith('…')).toBe(true);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);
    expect(textEm(cut)).toBeLessThanOrEqual(MAX_LINE_EM);
    expect(cut.at(-2)).not.toBe(' ');
    // Capitals are wider: fewer of them fit.
    const caps = fitLine('NGHỊ QUYẾT '.repeat(20));
    expect(textEm(caps)).toBeLessThanOrEqual(MAX_LINE_EM);
    expect(caps.length).toBeLessThan(cut.length);
    // A letter with its marks is never split from them.
    expect(fitLine('ệ'.repeat(200)).normalize('NFC')).toBe(fitLine('ệ'.repeat(200)));
    expect([...fitLine('ệ'.repeat(200)).slice(0, -1)].every((c) => c === 'ệ')).toBe(true);
  });

  test('the text is drawn as written: no %{…} expansion, nothing to escape in it', () => {
    const text = captionText(item("100% %{pts} \\n \\\\ : ; , [x] 'q'", '%{localtime}'));
    expect(text).toBe("100% %{pts} \\n \\\\ : ; , [x] 'q'\n%{localtime}");
    expect(captionFilter({ fontFile: '/f.ttf', textFile: '/t/caption.txt' })).toMatch(/:expansion=none:/);
  });

  test('the drawtext filter: the file reloaded every frame, a band at the bottom, size from the height', () => {
    const f = captionFilter({
      fontFile: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
      textFile: '/tmp/sip-caption-x/caption.txt',
    });
    expect(f).toBe(
      'drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:textfile=/tmp/sip-caption-x/caption.txt' +
        ':reload=1:expansion=none:fontsize=min(h\\,w*9/16)/24:fontcolor=white:line_spacing=6' +
        ':box=1:boxcolor=black@0.6:boxborderw=10:x=(w-text_w)/2:y=h-text_h-h/20',
    );
  });

  test("a value is escaped for the option level, then for the graph's", () => {
    expect(filterValue('plain/path.txt')).toBe('plain/path.txt');
    expect(filterValue('a:b')).toBe('a\\\\:b');
    expect(filterValue("it's")).toBe("it\\\\\\'s");
    expect(filterValue('a\\b')).toBe('a\\\\\\\\b');
    expect(filterValue('a,b;c[d]')).toBe('a\\,b\\;c\\[d\\]');
  });

  test('the caption file is replaced whole (written beside, renamed over), and only on a change', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caption-test-'));
    try {
      const file = new CaptionFile(dir);
      await file.set('Nghị quyết 05');
      expect(fs.readFileSync(file.path, 'utf8')).toBe('Nghị quyết 05');
      const inode = fs.statSync(file.path).ino;
      await file.set('Nghị quyết 06');
      expect(fs.readFileSync(file.path, 'utf8')).toBe('Nghị quyết 06');
      expect(fs.statSync(file.path).ino).not.toBe(inode);
      const again = fs.statSync(file.path).ino;
      await file.set('Nghị quyết 06');
      expect(fs.statSync(file.path).ino).toBe(again);
      await Promise.all([file.set('a'), file.set('b'), file.set('')]);
      expect(fs.readFileSync(file.path, 'utf8')).toBe('');
      expect(fs.readdirSync(dir)).toEqual(['caption.txt']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without its font the caption is off, with a warning; off by choice, no warning', () => {
    const warned: unknown[] = [];
    const logger = { warn: (...a: unknown[]) => warned.push(a) } as unknown as pino.Logger;
    expect(captionFont(true, logger, '/nonexistent/DejaVuSans.ttf')).toBeUndefined();
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(warned[0])).toMatch(/fonts-dejavu-core/);
    expect(captionFont(false, logger, '/nonexistent/DejaVuSans.ttf')).toBeUndefined();
    expect(warned).toHaveLength(1);
    const font = path.join(os.tmpdir(), `font-${process.pid}.ttf`);
    fs.writeFileSync(font, '');
    try {
      expect(captionFont(true, logger, font)).toBe(font);
    } finally {
      fs.rmSync(font);
    }
  });
});
