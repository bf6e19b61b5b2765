import { gapReason, stopReason } from '../../client/src/host/recording-words';

describe('the Recordings view names why a gap happened', () => {
  test('every reason the recorder writes has words; an unknown one is shown as it is', () => {
    // The reasons session-recording.ts writes in the manifest's gaps.
    expect(gapReason('disk-full')).toBe('hết dung lượng đĩa · disk full');
    expect(gapReason('server-restart')).toBe('máy chủ khởi động lại · server restarted');
    expect(gapReason('recorder-died')).toBe('bộ ghi dừng · recorder died');
    expect(gapReason('worker-died')).toBe('tiến trình media dừng · media worker died');
    expect(gapReason('something-new')).toBe('something-new');
    expect(stopReason('disk-full')).toBe('đĩa ghi hình gần đầy · the recordings disk was nearly full');
    expect(stopReason('failed')).toBe('không khởi động được bộ ghi · the recorder could not start');
  });
});
