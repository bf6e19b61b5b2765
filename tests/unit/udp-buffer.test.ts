// The SFU's UDP receive queue request against what the kernel grants (sfu/udp-buffer.ts).
import { capWarning } from '../../sfu/udp-buffer';

describe('the SFU UDP receive queue', () => {
  test('a grant below the request is reported with the sysctl that lifts the cap', () => {
    expect(capWarning(4_194_304, 212_992)).toMatch(/net\.core\.rmem_max=4194304/);
    expect(capWarning(4_194_304, 4_194_304)).toBeUndefined();
    // 0: the system's default was left alone; undefined: the grant could not be read.
    expect(capWarning(0, 212_992)).toBeUndefined();
    expect(capWarning(4_194_304, undefined)).toBeUndefined();
  });
});
