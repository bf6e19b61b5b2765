// The SFU's UDP receive buffer request against the kernel's cap (sfu/udp-buffer.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { capWarning, readRmemMax, udpRecvBuffer } from '../../sfu/udp-buffer';

describe('the SFU UDP receive buffer', () => {
  test('the kernel grants at most its cap', () => {
    expect(udpRecvBuffer(4_194_304, 212_992)).toEqual({ requested: 4_194_304, cap: 212_992, granted: 212_992 });
    expect(udpRecvBuffer(4_194_304, 8_388_608).granted).toBe(4_194_304);
    // Cap unknown (not Linux): the request as asked.
    expect(udpRecvBuffer(1_048_576, undefined).granted).toBe(1_048_576);
    // 0: the system default is left alone.
    expect(udpRecvBuffer(0, 212_992).granted).toBeUndefined();
  });

  test('a cap below the request is reported with the sysctl that lifts it', () => {
    expect(capWarning(udpRecvBuffer(4_194_304, 212_992))).toMatch(/net\.core\.rmem_max=4194304/);
    expect(capWarning(udpRecvBuffer(4_194_304, 4_194_304))).toBeUndefined();
    expect(capWarning(udpRecvBuffer(0, 212_992))).toBeUndefined();
    expect(capWarning(udpRecvBuffer(4_194_304, undefined))).toBeUndefined();
  });

  test('the cap is read from its proc file; anything unreadable or odd is unknown', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rmem-'));
    try {
      const file = path.join(dir, 'rmem_max');
      fs.writeFileSync(file, '4194304\n');
      expect(readRmemMax(file)).toBe(4_194_304);
      fs.writeFileSync(file, 'lots\n');
      expect(readRmemMax(file)).toBeUndefined();
      expect(readRmemMax(path.join(dir, 'missing'))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
