// Whose conversation a message belongs to: a point's own messages, and the desk's to it,
// to its district or to every point; never another point's.
import { TalkTargetSchema, TalkTextSchema, talkReaches, type TalkMessage } from '../../server/contract/desk';

const base = { id: 'm', sessionId: 's', at: '2026-11-30T08:00:00.000Z', text: 'xin chào' };
const fromPoint = (pointId: string): TalkMessage => ({ ...base, from: 'point', pointId, by: pointId, to: null });
const fromDesk = (to: TalkMessage['to']): TalkMessage => ({ ...base, from: 'desk', pointId: null, by: 'kt1', to });

describe('talkReaches', () => {
  test("a point's message is in its own conversation only", () => {
    expect(talkReaches(fromPoint('HT-CX-01'), 'HT-CX-01', 'HT-CX')).toBe(true);
    expect(talkReaches(fromPoint('HT-CX-01'), 'HT-CX-02', 'HT-CX')).toBe(false);
  });

  test('the desk reaches one point, a district, or all', () => {
    const one = fromDesk({ kind: 'point', pointId: 'HT-CX-01' });
    expect(talkReaches(one, 'HT-CX-01', 'HT-CX')).toBe(true);
    expect(talkReaches(one, 'HT-CX-02', 'HT-CX')).toBe(false);
    const district = fromDesk({ kind: 'district', district: 'HT-CX' });
    expect(talkReaches(district, 'HT-CX-02', 'HT-CX')).toBe(true);
    expect(talkReaches(district, 'HT-HK-01', 'HT-HK')).toBe(false);
    // A point of no district (the province's own) is never in a district's message.
    expect(talkReaches(district, 'HT', null)).toBe(false);
    expect(talkReaches(fromDesk({ kind: 'all' }), 'HT', null)).toBe(true);
    expect(talkReaches(fromDesk(null), 'HT-CX-01', 'HT-CX')).toBe(false);
  });
});

describe('the contract of a message', () => {
  test('text is trimmed and bounded', () => {
    expect(TalkTextSchema.parse('  Mất tiếng  ')).toBe('Mất tiếng');
    expect(TalkTextSchema.safeParse(' \n ').success).toBe(false);
    expect(TalkTextSchema.safeParse('x'.repeat(500)).success).toBe(true);
    expect(TalkTextSchema.safeParse('x'.repeat(501)).success).toBe(false);
  });

  test('a target is one of three shapes, nothing else', () => {
    expect(TalkTargetSchema.safeParse({ kind: 'all' }).success).toBe(true);
    expect(TalkTargetSchema.safeParse({ kind: 'district', district: 'HT-CX' }).success).toBe(true);
    expect(TalkTargetSchema.safeParse({ kind: 'point' }).success).toBe(false);
    expect(TalkTargetSchema.safeParse({ kind: 'all', pointId: 'x' }).success).toBe(false);
    expect(TalkTargetSchema.safeParse({ kind: 'province' }).success).toBe(false);
  });
});
