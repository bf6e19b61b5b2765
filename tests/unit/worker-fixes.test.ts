// The worker build's source fixes (scripts/worker-fixes.mjs) against the mediasoup sources
// the npm package ships: each applies, says what it changed, and a fix that no longer
// matches (here: applied a second time) stops the build with the step's name.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKER = path.join(ROOT, 'node_modules', 'mediasoup', 'worker');

function applyFixes(dir: string): { status: number | null; stderr: string } {
  const script = `import { applyWorkerFixes } from ${JSON.stringify(path.join(ROOT, 'scripts', 'worker-fixes.mjs'))};
applyWorkerFixes(${JSON.stringify(dir)});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe("the worker build's source fixes", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-fixes-'));
    fs.cpSync(path.join(WORKER, 'src'), path.join(dir, 'src'), { recursive: true });
    fs.cpSync(path.join(WORKER, 'include'), path.join(dir, 'include'), { recursive: true });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("apply to the package's 3.12.16 sources", () => {
    expect(applyFixes(dir)).toMatchObject({ status: 0 });
    const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
    expect(read('include/RTC/TransportTuple.hpp')).toContain('this->tcpConnection->TriggerClose();');
    expect(read('src/handles/TcpConnectionHandler.cpp')).toContain('this->listener->OnTcpConnectionClosed(this);\n}');
    expect(read('src/RTC/IceServer.cpp')).toContain('if (this->destroying || this->evictingTuple)');
    expect(read('src/RTC/SimulcastConsumer.cpp')).toContain(
      '!GetProducerTsReferenceRtpStream()->GetSenderReportNtpMs()',
    );
    expect(read('src/RTC/RTCP/FeedbackRtpTransport.cpp')).toContain('const uint16_t missingPackets');
    expect(read('src/RTC/WebRtcServer.cpp')).toContain('const auto webRtcTransports = this->webRtcTransports;');
    expect(read('src/RTC/WebRtcServer.cpp')).toContain('udpSocket->SetRecvBufferSize(listenInfo.recvBufferSize);');
    expect(read('src/handles/UdpSocketHandler.cpp')).toContain('uv_recv_buffer_size(');
  });

  test('a fix that matches nothing stops with its step named', () => {
    const again = applyFixes(dir);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/patch step "[^"]+" matched nothing/);
  });
});
