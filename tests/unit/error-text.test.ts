// The pages' text for the server's error codes, reasons and input issues: Vietnamese first,
// English beside, filled in from the parameters, and none the server can send left without.
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, ERROR_REASONS } from '../../server/contract/errors';
import { SESSION_ACTIONS } from '../../server/contract/session-state';
import { ERROR_TEXT, ISSUE_TEXT, REASON_TEXT, errorText, failed, issueText } from '../../client/src/ui/errors';

const ROOT = path.resolve(__dirname, '..', '..');

function sourcesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourcesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error text on the pages', () => {
  test('every error code has both languages', () => {
    for (const code of ERROR_CODES) {
      const [vi, en] = ERROR_TEXT[code];
      expect([code, vi.length > 0, en.length > 0, vi !== en]).toEqual([code, true, true, true]);
    }
  });

  test('every reason is filled in from its parameters, never "undefined"', () => {
    const params = {
      action: 'start',
      state: 'lobby',
      code: 'HT-VQ',
      username: 'an',
      count: 3,
      list: 'HT-X',
      max: 2,
      name: 'Lê Văn An',
      status: 488,
      address: '203.0.113.7',
    };
    for (const reason of ERROR_REASONS) {
      const r = REASON_TEXT[reason];
      const [vi, en] = typeof r === 'function' ? r({ ...params, detail: 'x', type: 'text/csv' }) : r;
      expect([reason, /undefined/.test(vi + en), vi !== en]).toEqual([reason, false, true]);
    }
  });

  test('a refused state change names the action and the state in each language', () => {
    for (const action of SESSION_ACTIONS) {
      const [vi, en] = errorText({
        code: 'conflict',
        message: 'x',
        reason: 'transition',
        params: { action, state: 'ended' },
      });
      expect(vi).toMatch(/^Không thể .+ phiên đang ở trạng thái đã kết thúc$/);
      expect(en).toMatch(/^Cannot .+ the session: it is ended$/);
    }
  });

  test('input problems follow the message, field by field, in Vietnamese then English', () => {
    const t = errorText({
      code: 'bad_request',
      message: 'invalid request',
      issues: [
        { path: 'title', issue: 'too_small', params: { minimum: 1, origin: 'string' }, message: 'Too small' },
        { path: 'plannedEnd', issue: 'end_before_start', message: 'the planned end must be after the start' },
      ],
    });
    expect(t).toEqual([
      'Dữ liệu không hợp lệ (title: Quá ngắn (ít nhất 1 ký tự); plannedEnd: Giờ kết thúc phải sau giờ bắt đầu)',
      'Invalid input (title: Too short (at least 1 characters); plannedEnd: The planned end must be after the start)',
    ]);
    // An issue the pages do not know keeps the server's words rather than nothing.
    expect(issueText({ issue: 'brand_new', message: 'something new' })).toEqual(['something new', 'something new']);
    // A browser's own error (a camera refused) keeps its message.
    expect(failed(['Lỗi', 'Error'], new Error('NotAllowedError'))).toEqual([
      'Lỗi: NotAllowedError',
      'Error: NotAllowedError',
    ]);
  });

  test("every issue code the server's validation emits has its text", () => {
    const emitted = new Set<string>();
    for (const file of sourcesUnder(path.join(ROOT, 'server'))) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bissue: '([a-z_0-9]+)'/g)) emitted.add(m[1]!);
      // validate.ts names its issues through a helper: at('field', 'issue', …).
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bat\(\s*'[a-z_]+',\s*'([a-z_0-9]+)'/g))
        emitted.add(m[1]!);
    }
    expect(emitted.size).toBeGreaterThan(15);
    expect([...emitted].filter((code) => !ISSUE_TEXT[code])).toEqual([]);
  });
});
