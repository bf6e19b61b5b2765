// The /api/v1 control plane against a real Redis: every class of bad input (CSV imports,
// bodies, parameters, states) answers a clear error with a code, and nothing is stored.
import fs from 'node:fs';
import type { Session } from '../../server/contract/api';
import { publishHallInRoom } from '../helpers/orchestrator';
import { inMin, SHIPPED, useControlApi } from '../helpers/control-api';

const api = useControlApi();
const { as, newSession } = api;

describe('every class of bad input', () => {
  const importCsv = (csv: string, q = '') =>
    as('admin').post(`/points/import?format=csv${q}`).set('Content-Type', 'text/csv').send(Buffer.from(csv));
  const header = 'code,name,level,parent,district,expected_delegates,contact_name,contact_phone';

  test('malformed CSV: 422 with the line, nothing imported', async () => {
    const res = await importCsv(`${header}\nHT-NEW,"unclosed,district,HT,HT-NEW,5,,\n`, '&mode=merge');
    expect(res.status).toBe(422);
    expect(res.body.imported).toBe(false);
    expect(res.body.issues[0].reason).toMatch(/malformed CSV/);
    expect(res.body.issues[0].issue).toBe('malformed_csv');
    expect((await as('admin').get('/points/HT-NEW')).status).toBe(404);
  });

  test('duplicate codes and unknown parents: every bad row reported, the good rows not imported either', async () => {
    const res = await importCsv(
      [
        header,
        'HT-NEW1,Xã Mới Một,commune,HT-VQ,HT-VQ,30,,',
        'HT-NEW1,Xã Mới Hai,commune,HT-VQ,HT-VQ,30,,',
        'HT-NEW3,Xã Mới Ba,commune,HT-NOPE,HT-VQ,30,,',
        'HT-NEW4,Xã Mới Bốn,commune,HT-VQ,HT-VQ,ba mươi,,',
      ].join('\n'),
      '&mode=merge',
    );
    expect(res.status).toBe(422);
    expect(res.body.issues.map((i: { line: number; column: string }) => `${i.line}:${i.column}`)).toEqual([
      '3:code',
      '4:parent',
      '5:expected_delegates',
    ]);
    // Each reason as a code and its values, which the pages render in Vietnamese and English.
    expect(res.body.issues.map((i: { issue: string; params?: unknown }) => [i.issue, i.params])).toEqual([
      ['duplicate_code', { code: 'HT-NEW1', row: 1 }],
      ['unknown_parent', { code: 'HT-NOPE' }],
      ['invalid_type', { expected: 'number' }],
    ]);
    expect((await as('admin').get('/points/HT-NEW1')).status).toBe(404);
    expect((await as('admin').get('/points/summary')).body.points).toBe(420);
  });

  test('a replace with one bad row leaves the whole registry as it was', async () => {
    const lines = fs.readFileSync(SHIPPED, 'utf8').trimEnd().split('\n');
    lines[200] = lines[200]!.replace(/,\d+,/, ',-1,');
    const res = await importCsv(lines.slice(0, 300).join('\n'));
    expect(res.status).toBe(422);
    expect(res.body.issues).toEqual([expect.objectContaining({ row: 200, line: 201, column: 'expected_delegates' })]);
    expect((await as('admin').get('/points/summary')).body).toMatchObject({ points: 420, expectedDelegates: 18_240 });
  });

  test('JSON import: wrong types reported with the field, merge imports when all rows are good', async () => {
    const bad = await as('admin').post('/points/import?format=json&mode=merge', {
      points: [
        {
          code: 'HT-VQ-100',
          name: 'Xã Thử',
          level: 'commune',
          parent: 'HT-VQ',
          district: 'HT-VQ',
          expectedDelegates: '12x',
        },
        { code: 'HT-VQ-101', name: 42, level: 'commune', parent: 'HT-VQ', district: 'HT-VQ', expectedDelegates: 1 },
        'not an object',
      ],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.issues.map((i: { row: number; column: string }) => `${i.row}:${i.column}`)).toEqual([
      '1:expectedDelegates',
      '2:name',
      '3:',
    ]);
    const good = await as('admin').post('/points/import?format=json&mode=merge', {
      points: [
        {
          code: 'HT-VQ-100',
          name: 'Xã Thử',
          level: 'commune',
          parent: 'HT-VQ',
          district: 'HT-VQ',
          expectedDelegates: 12,
        },
      ],
    });
    expect(good.body).toMatchObject({ imported: true, created: 1 });
    expect((await as('admin').delete('/points/HT-VQ-100')).status).toBe(204);
    // A point with points under it cannot go.
    expect((await as('admin').delete('/points/HT-VQ')).status).toBe(409);
  });

  test('wrong types and unknown fields in bodies, params and queries: 400 with the path', async () => {
    const res = await as('host').post('/sessions', {
      title: 5,
      scheduledStart: 'tomorrow',
      plannedEnd: inMin(90),
      x: 1,
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('bad_request');
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['title', 'scheduledStart']));
    expect(res.body.errors.find((e: { path: string }) => e.path === 'title')).toMatchObject({
      issue: 'invalid_type',
      params: { expected: 'string' },
    });
    expect((await as('host').get('/points?limit=-1')).status).toBe(400);
    expect((await as('host').get('/points?level=village')).status).toBe(400);
    expect((await as('host').get('/points/bad%20code')).status).toBe(400);
    expect((await as('host').post('/sessions/abc/fly')).status).toBe(400);
    const malformed = await as('host').post('/sessions').set('Content-Type', 'application/json').send('{"title":');
    expect(malformed.status).toBe(400);
    const times = await as('host').post('/sessions', {
      title: 'x',
      scheduledStart: inMin(60),
      plannedEnd: inMin(30),
    });
    expect(times.status).toBe(400);
    expect(times.body.errors[0]).toMatchObject({ path: 'plannedEnd', issue: 'end_before_start' });
    const unknownInvite = await as('host').post('/sessions', {
      title: 'x',
      scheduledStart: inMin(60),
      plannedEnd: inMin(90),
      invite: { mode: 'points', pointIds: ['HT', 'HT-NOPE'] },
    });
    expect(unknownInvite.status).toBe(400);
  });

  test('oversized bodies: 413', async () => {
    const big = await as('host').post('/sessions', { title: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('payload_too_large');
    const hugeCsv = await importCsv('x'.repeat(6 * 1024 * 1024));
    expect(hugeCsv.status).toBe(413);
  });

  test('illegal transitions: 409 conflict', async () => {
    const s = await newSession();
    const early = await as('host').post(`/sessions/${s.id}/start`);
    expect([early.status, early.body.reason, early.body.params]).toEqual([
      409,
      'transition',
      { action: 'start', state: 'draft' },
    ]);
    expect((await as('host').post(`/sessions/${s.id}/end`)).status).toBe(409);
    expect((await as('host').post(`/sessions/${s.id}/schedule`)).status).toBe(200);
    const again = await as('host').post(`/sessions/${s.id}/schedule`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('conflict');
    // No hall yet: the one way live is from the console, with its camera or microphone on.
    const noHall = await as('host').post(`/sessions/${s.id}/start`);
    expect([noHall.status, noHall.body.code]).toEqual([409, 'no_hall_media']);
    expect((await as('host').get(`/sessions/${s.id}`)).body.state).toBe('scheduled');
    await publishHallInRoom(api.o.orchestrator, s.id);
    expect((await as('host').post(`/sessions/${s.id}/start`)).status).toBe(200);
    expect((await as('host').post(`/sessions/${s.id}/cancel`)).status).toBe(409);
    expect((await as('host').patch(`/sessions/${s.id}`, { scheduledStart: inMin(30) })).status).toBe(409);
    expect((await as('host').delete(`/sessions/${s.id}`)).status).toBe(409);
    expect((await as('host').post(`/sessions/${s.id}/end`)).status).toBe(200);
    expect((await as('host').post(`/sessions/${s.id}/end`)).status).toBe(409);
    expect((await as('host').patch(`/sessions/${s.id}`, { title: 'Sau khi kết thúc' })).status).toBe(409);
    const final = (await as('technician').get(`/sessions/${s.id}`)).body as Session;
    expect(final.history.map((h) => h.to)).toEqual(['draft', 'scheduled', 'live', 'ended']);
    expect(final.history.every((h) => h.by === 'host')).toBe(true);
  });
});
