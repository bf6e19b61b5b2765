// The floor for one forwarded packet on this machine: a tight native loop of SRTP
// protect (libsrtp2, as the mediasoup worker uses) of one RTP packet of the run's average
// size plus one sendto() over loopback, compiled here with gcc against Debian's libsrtp2.
// CPU time per packet is read with CLOCK_PROCESS_CPUTIME_ID, so it holds while other
// processes run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SOURCE = String.raw`
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

static double cpu_now(void) {
  struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int size = argc > 1 ? atoi(argv[1]) : 1100;
  long iters = argc > 2 ? atol(argv[2]) : 200000;
  int gcm = argc > 3 ? atoi(argv[3]) : 1;
  if (srtp_init() != srtp_err_status_ok) return 1;
  srtp_policy_t p; memset(&p, 0, sizeof p);
  unsigned char key[64]; for (int i = 0; i < 64; i++) key[i] = (unsigned char)(i * 7 + 1);
  if (gcm) { srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp); srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp); }
  else { srtp_crypto_policy_set_rtp_default(&p.rtp); srtp_crypto_policy_set_rtcp_default(&p.rtcp); }
  p.ssrc.type = ssrc_any_outbound; p.key = key; p.window_size = 1024; p.allow_repeat_tx = 1;
  srtp_t s; if (srtp_create(&s, &p) != srtp_err_status_ok) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sink = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(0x7f000001); a.sin_port = 0;
  bind(sink, (struct sockaddr *)&a, sizeof a); socklen_t al = sizeof a; getsockname(sink, (struct sockaddr *)&a, &al);
  unsigned char buf[2048]; unsigned char pkt[2048];
  memset(pkt, 0xab, sizeof pkt); pkt[0] = 0x80; pkt[1] = 101; pkt[8] = 1; pkt[9] = 2; pkt[10] = 3; pkt[11] = 4;
  double t0 = cpu_now();
  for (long i = 0; i < iters; i++) {
    memcpy(buf, pkt, size); buf[2] = (unsigned char)(i >> 8); buf[3] = (unsigned char)i;
    int len = size; srtp_protect(s, buf, &len);
  }
  double t1 = cpu_now();
  for (long i = 0; i < iters; i++) {
    sendto(fd, pkt, size + 16, 0, (struct sockaddr *)&a, sizeof a);
    if ((i & 63) == 0) { while (recv(sink, buf, sizeof buf, MSG_DONTWAIT) > 0) {} }
  }
  double t2 = cpu_now();
  for (long i = 0; i < iters; i++) {
    memcpy(buf, pkt, size); buf[2] = (unsigned char)(i >> 8); buf[3] = (unsigned char)i;
    int len = size; srtp_protect(s, buf, &len);
    sendto(fd, buf, len, 0, (struct sockaddr *)&a, sizeof a);
    if ((i & 63) == 0) { while (recv(sink, buf, sizeof buf, MSG_DONTWAIT) > 0) {} }
  }
  double t3 = cpu_now();
  printf("{\"size\":%d,\"iters\":%ld,\"gcm\":%d,\"protectUs\":%.3f,\"sendUs\":%.3f,\"protectSendUs\":%.3f}\n",
         size, iters, gcm, (t1 - t0) / iters * 1e6, (t2 - t1) / iters * 1e6, (t3 - t2) / iters * 1e6);
  return 0;
}
`;

export interface FloorResult {
  size: number;
  iters: number;
  gcm: number;
  /** CPU microseconds per packet (the loop's own process, sink draining included). */
  protectUs: number;
  sendUs: number;
  protectSendUs: number;
}

/** Compiles and runs the floor loop; undefined when gcc or libsrtp2-dev is missing. */
export function measureFloor(size: number, gcm = true, iters = 200_000): FloorResult | { error: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'srtp-floor-'));
  try {
    const src = path.join(dir, 'floor.c');
    const bin = path.join(dir, 'floor');
    writeFileSync(src, SOURCE);
    execFileSync('gcc', ['-O2', '-o', bin, src, '-lsrtp2'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    const out = execFileSync(bin, [String(Math.round(size)), String(iters), gcm ? '1' : '0'], { timeout: 120_000 });
    return JSON.parse(out.toString()) as FloorResult;
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] ?? 'failed' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
