// A point's roster through a whole control server (real Redis, HTTP): the CSV import with
// every bad row reported and nothing stored replaced, its caps, row edits that keep ids,
// the export with formulas escaped, the printable page, and who may do what.
import request from 'supertest';
import type { RosterEntry, RosterImportReport } from '../../server/contract/attendance';
import { loginCookie, somePoints } from '../helpers/attendance';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

describe("a point's roster (real Redis, HTTP)", () => {
  let r: TestRedis;
  let t: TestOrchestrator;
  let host: string;
  let p: string;
  const http = () => request(t.baseUrl);
  const importCsv = (body: string | Buffer, query = '') =>
    http().post(`/api/v1/rosters/${p}/import${query}`).set('Cookie', host).set('Content-Type', 'text/csv').send(body);
  const roster = async () =>
    (await http().get(`/api/v1/rosters/${p}`).set('Cookie', host).expect(200)).body as RosterEntry[];

  beforeAll(async () => {
    r = await startTestRedis();
    t = await startTestOrchestrator(r.url);
    host = await loginCookie(t, 'host');
    p = (await somePoints(t, 1))[0]!;
  });
  afterAll(async () => {
    await t?.stop();
    await r?.cleanup();
  });

  test('import: Vietnamese headers with a BOM, English headers without; a dry run stores nothing', async () => {
    const vi = '\uFEFFHọ và tên,Chức vụ,Đơn vị\nNguyễn Văn An,Bí thư,Đảng ủy xã\n"Trần, Thị Bình",,UBND xã\n';
    const dry = await importCsv(vi, '?dryRun=true').expect(200);
    expect(dry.body).toMatchObject({ dryRun: true, imported: false, rows: 2, issues: [], entries: [] });
    expect(await roster()).toEqual([]);

    const done = (await importCsv(vi).expect(200)).body as RosterImportReport;
    expect(done.imported).toBe(true);
    expect(done.entries).toEqual([
      { id: '1', name: 'Nguyễn Văn An', position: 'Bí thư', unit: 'Đảng ủy xã' },
      { id: '2', name: 'Trần, Thị Bình', position: '', unit: 'UBND xã' },
    ]);

    // A replace never gives an id again: a check-in made with entry 1 keeps meaning Nguyễn Văn An.
    const en = await importCsv('name,title,unit\nLê Văn Cường,Chủ tịch,HĐND\n').expect(200);
    expect(en.body.entries).toEqual([{ id: '3', name: 'Lê Văn Cường', position: 'Chủ tịch', unit: 'HĐND' }]);
    const put = await http()
      .put(`/api/v1/rosters/${p}`)
      .set('Cookie', host)
      .send({ entries: [{ name: 'Nguyễn Văn An' }, { name: 'Võ Thị Dung' }] })
      .expect(200);
    expect(put.body.map((e: RosterEntry) => e.id)).toEqual(['4', '5']);
    expect((await roster()).map((e) => e.id)).toEqual(['4', '5']);
  });

  test('a bad file: every bad row with its code and row, and the stored roster stays as it was', async () => {
    await importCsv('name,position\nGiữ Nguyên,Trưởng ban\n').expect(200);
    const before = await roster();
    const bad = [
      'name,position,unit,ghi chú',
      'Đúng Tên,Phó ban,Ban Tuyên giáo,',
      ',Không tên,,',
      'Một,Hai,Ba',
      `${'X'.repeat(121)},,,`,
      'đúng tên,,,',
    ].join('\n');
    const res = await importCsv(bad).expect(422);
    const report = res.body as RosterImportReport;
    expect(report.imported).toBe(false);
    expect(report.issues.map((i) => [i.row, i.issue])).toEqual([
      [0, 'unknown_column'],
      [2, 'too_small'],
      [3, 'column_count'],
      [4, 'too_big'],
      [5, 'duplicate_name'],
    ]);
    expect(report.issues.find((i) => i.issue === 'duplicate_name')).toMatchObject({ line: 6, params: { row: 1 } });
    expect(report.entries).toEqual(before);
    expect(await roster()).toEqual(before);

    // Not UTF-8 (a Windows-1258 export), no header, a broken quote, empty: each refused with its code.
    const latin = Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x4e, 0x67, 0x75, 0x79, 0xea, 0x6e, 0x0a]);
    expect((await importCsv(latin).expect(422)).body.issues[0].issue).toBe('not_utf8');
    expect(
      (await importCsv('Nguyễn Văn An,Bí thư\n').expect(422)).body.issues.map((i: { issue: string }) => i.issue),
    ).toContain('column_missing');
    expect((await importCsv('name\n"Nguyễn Văn An\n').expect(422)).body.issues[0].issue).toBe('malformed_csv');
    expect((await importCsv('').expect(422)).body.issues[0].issue).toBe('empty_file');
    expect(await roster()).toEqual(before);
  });

  test('a JSON replace is checked as the CSV is: every bad row coded, nothing stored; spaces collapse', async () => {
    await importCsv('name\nGiữ Nguyên\n').expect(200);
    const before = await roster();
    const put = (entries: unknown[]) => http().put(`/api/v1/rosters/${p}`).set('Cookie', host).send({ entries });
    const bad = await put([
      { name: 'Nguyễn  Văn   An' },
      { name: 'NGUYEN VAN AN', position: 'Phó' },
      { name: '' },
      'not a row',
    ]).expect(400);
    expect(bad.body.code).toBe('bad_request');
    expect(bad.body.errors.map((i: { row: number; issue: string }) => [i.row, i.issue])).toEqual([
      [2, 'duplicate_name'],
      [3, 'too_small'],
      [4, 'invalid_type'],
    ]);
    expect(bad.body.errors[0]).toMatchObject({ line: null, column: 'name', params: { row: 1 } });
    expect(await roster()).toEqual(before);

    const good = await put([{ name: '  Trần   Thị  Bình ', unit: 'Xã' }]).expect(200);
    expect(good.body).toEqual([expect.objectContaining({ name: 'Trần Thị Bình', position: '', unit: 'Xã' })]);
  });

  test('caps: 2,000 rows, 512 KiB; the wrong content type is refused', async () => {
    const before = await roster();
    const many = ['name', ...Array.from({ length: 2001 }, (_, i) => `Đại biểu ${i + 1}`)].join('\n');
    const res = await importCsv(many).expect(422);
    expect(res.body.issues).toEqual([
      expect.objectContaining({ issue: 'too_many_rows', params: { max: 2000, found: 2001 } }),
    ]);
    const huge = `name\n${'A'.repeat(600 * 1024)}\n`;
    expect((await importCsv(huge).expect(413)).body.code).toBe('payload_too_large');
    const json = await http()
      .post(`/api/v1/rosters/${p}/import`)
      .set('Cookie', host)
      .set('Content-Type', 'application/json')
      .send('{"entries":[]}')
      .expect(400);
    expect(json.body.reason).toBe('body_type');
    expect(await roster()).toEqual(before);
  });

  test('rows are added, edited and removed; ids stay; a name twice is refused', async () => {
    const imported = (await importCsv('name,position,unit\nPhan Văn Một,,\nPhan Văn Hai,,\n').expect(200))
      .body as RosterImportReport;
    const [one, two] = imported.entries.map((e) => Number(e.id)) as [number, number];
    expect(two).toBe(one + 1);
    const added = await http()
      .post(`/api/v1/rosters/${p}/entries`)
      .set('Cookie', host)
      .send({ name: 'Phan Văn Ba', position: 'Ủy viên', unit: 'Xã' })
      .expect(201);
    expect(added.body).toEqual({ id: String(two + 1), name: 'Phan Văn Ba', position: 'Ủy viên', unit: 'Xã' });
    await http()
      .delete(`/api/v1/rosters/${p}/entries/${two + 1}`)
      .set('Cookie', host)
      .expect(204);
    // An id is never given twice, so a check-in made with a removed entry stays its own.
    const again = await http().post(`/api/v1/rosters/${p}/entries`).set('Cookie', host).send({ name: 'Phan Văn Bốn' });
    expect(again.body.id).toBe(String(two + 2));
    const edited = await http()
      .patch(`/api/v1/rosters/${p}/entries/${one}`)
      .set('Cookie', host)
      .send({ position: 'Bí thư chi bộ', unit: 'Thôn 3' })
      .expect(200);
    expect(edited.body).toEqual({ id: String(one), name: 'Phan Văn Một', position: 'Bí thư chi bộ', unit: 'Thôn 3' });
    const twice = await http()
      .patch(`/api/v1/rosters/${p}/entries/${one}`)
      .set('Cookie', host)
      .send({ name: 'phan van hai' })
      .expect(409);
    expect(twice.body).toMatchObject({ reason: 'roster_name_taken', params: { name: 'Phan Văn Hai' } });
    // A change of one field leaves the others.
    const renamed = await http()
      .patch(`/api/v1/rosters/${p}/entries/${one}`)
      .set('Cookie', host)
      .send({ name: 'Phan Văn Nhất' });
    expect(renamed.body).toEqual({ id: String(one), name: 'Phan Văn Nhất', position: 'Bí thư chi bộ', unit: 'Thôn 3' });
    await http().patch(`/api/v1/rosters/${p}/entries/99`).set('Cookie', host).send({ name: 'Ai Đó' }).expect(404);
    await http().patch(`/api/v1/rosters/${p}/entries/${one}`).set('Cookie', host).send({}).expect(400);
    await http().patch(`/api/v1/rosters/${p}/entries/..%2F1`).set('Cookie', host).send({ name: 'A' }).expect(400);
    expect((await roster()).map((e) => e.id)).toEqual([one, two, two + 2].map(String));
  });

  test('concurrent adds and renames: a name gets in once, distinct names all get in with distinct ids', async () => {
    await http().put(`/api/v1/rosters/${p}`).set('Cookie', host).send({ entries: [] }).expect(200);
    const spellings = ['Đỗ Văn Song', 'do van song', 'ĐỖ VĂN SONG', 'Đỗ  Văn Song', 'Do Van Song'];
    const same = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        http()
          .post(`/api/v1/rosters/${p}/entries`)
          .set('Cookie', host)
          .send({ name: spellings[i % spellings.length] }),
      ),
    );
    expect(same.filter((r) => r.status === 201)).toHaveLength(1);
    expect(same.filter((r) => r.status === 409).map((r) => r.body.reason)).toEqual(Array(19).fill('roster_name_taken'));
    const distinct = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        http()
          .post(`/api/v1/rosters/${p}/entries`)
          .set('Cookie', host)
          .send({ name: `Đại biểu số ${i + 1}` }),
      ),
    );
    expect(distinct.map((r) => r.status)).toEqual(Array(20).fill(201));
    const after = await roster();
    expect(after).toHaveLength(21);
    expect(new Set(after.map((e) => e.id)).size).toBe(21);
    // Two entries renamed to one name at once: one rename passes.
    const [a, b] = after.slice(1, 3) as [RosterEntry, RosterEntry];
    const renames = await Promise.all(
      [a, b].map((e) =>
        http().patch(`/api/v1/rosters/${p}/entries/${e.id}`).set('Cookie', host).send({ name: 'Cùng Một Tên' }),
      ),
    );
    expect(renames.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  test('export escapes formulas with the product CSV writer; the print page escapes markup', async () => {
    await http()
      .put(`/api/v1/rosters/${p}`)
      .set('Cookie', host)
      .send({
        entries: [{ name: '=HYPERLINK("http://evil.example","x")', position: '<b>Trưởng</b>', unit: '@SUM(1)' }],
      })
      .expect(200);
    const csv = await http().get(`/api/v1/rosters/${p}/export.csv`).set('Cookie', host).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="dai-bieu-/);
    expect(csv.text).toBe(
      `\uFEFFname,position,unit\n"'=HYPERLINK(""http://evil.example"",""x"")",<b>Trưởng</b>,'@SUM(1)\n`,
    );
    // The export reads back as an import: the apostrophe stays, as text.
    expect((await importCsv(csv.text, '?dryRun=true').expect(200)).body.rows).toBe(1);

    const page = await http().get(`/api/v1/rosters/${p}/print`).set('Cookie', host).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('Danh sách đại biểu');
    expect(page.text).toContain('&lt;b&gt;Trưởng&lt;/b&gt;');
    expect(page.text).not.toContain('<b>Trưởng');
  });

  test('technicians read, only hosts and admins change; unknown points are 404', async () => {
    const tech = await loginCookie(t, 'technician');
    await http().get(`/api/v1/rosters/${p}`).expect(401);
    await http().get(`/api/v1/rosters/${p}/print`).expect(401);
    await http().get(`/api/v1/rosters/${p}/print`).set('Cookie', tech).expect(200);
    await http()
      .post(`/api/v1/rosters/${p}/import`)
      .set('Cookie', tech)
      .set('Content-Type', 'text/csv')
      .send('name\nA\n')
      .expect(403);
    await http().post(`/api/v1/rosters/${p}/entries`).set('Cookie', tech).send({ name: 'A' }).expect(403);
    await http()
      .post('/api/v1/rosters/NO-SUCH-POINT/import')
      .set('Cookie', host)
      .set('Content-Type', 'text/csv')
      .send('name\nA\n')
      .expect(404);
  });
});
